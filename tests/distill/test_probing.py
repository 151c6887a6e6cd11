"""Distillation by probing (distill.probing, distill.ands): ANDs, batched probes, beam, DP, same_function."""

import itertools

import numpy as np
import pytest
import torch

from learnscope.bench_probing import single_score
from learnscope.distill import ands, probing
from learnscope.distill.trees import predict
from learnscope.tasks.trees import RandomTree, random_tree, tree_arrays


def cube(d):
    return np.array(list(itertools.product([-1.0, 1.0], repeat=d)))


def all_ands(d, r):
    """Every AND of <= r literals on distinct variables, as sorted code rows padded with -1."""
    rows = [[]]
    for size in range(1, r + 1):
        for variables in itertools.combinations(range(d), size):
            for signs in itertools.product([0, 1], repeat=size):
                rows.append(sorted(2 * v + s for v, s in zip(variables, signs)))
    codes = np.full((len(rows), r), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        codes[i, : len(row)] = row
    return codes


def test_and_values_match_the_product_of_literals():
    x = cube(4)
    codes = all_ands(4, 3)
    values = ands.and_values(ands.literal_matrix(x), codes)
    for p, row in enumerate(codes):
        expected = np.ones(len(x), dtype=bool)
        for c in row[row >= 0]:
            expected &= (x[:, c // 2] > 0) if c % 2 == 0 else (x[:, c // 2] < 0)
        assert np.array_equal(values[:, p], expected), row


def test_keys_are_distinct_and_extensions_are_the_one_literal_children():
    codes = all_ands(5, 3)
    assert len(np.unique(ands.and_keys(codes, 5))) == len(codes)
    assert len(ands.extensions(np.zeros((1, 0), np.int64), 5)) == 10
    pair = ands.extensions(np.array([[0], [2]]), 5)  # x0 and x1: 2 x 8 children, x0∧x1 shared
    assert len(pair) == 15 and not (pair[:, 0] // 2 == pair[:, 1] // 2).any()
    assert ands.n_ands(100, 3) == 1_313_601 and len(codes) == ands.n_ands(5, 3)


def test_batched_probes_equal_probes_fitted_one_by_one():
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=(600, 8))
    z = np.tanh(x @ rng.normal(size=(8, 40)))
    fitter = probing.ProbeFitter(z[:300], z[300:], 1e-3)
    codes = all_ands(8, 2)[1:30]
    values = 2.0 * ands.and_values(ands.literal_matrix(x), codes) - 1.0
    batched = fitter.scores(values[:300].astype(np.float32), values[300:].astype(np.float32))
    single = [single_score(fitter, values[:300, p], values[300:, p]) for p in range(len(codes))]
    np.testing.assert_allclose(batched, single, rtol=1e-3, atol=1e-4)  # float32 products vs float64 lstsq


def probed_from(x, labels, codes, mask, d, r):
    """A Probed over ``codes[mask]`` (the root first), counts of ``labels`` on ``x``."""
    codes = np.concatenate([codes[:1], codes[1:][mask[1:]]])
    holds = ands.and_values(ands.literal_matrix(x), codes)
    return probing.Probed(codes=codes, keys=ands.and_keys(codes, d), depth=(codes >= 0).sum(axis=1),
                          score=np.zeros(len(codes)), n_pos=(holds & (labels > 0)[:, None]).sum(axis=0),
                          n_neg=(holds & (labels < 0)[:, None]).sum(axis=0),
                          in_beam=np.ones((len(codes), 1), dtype=bool), ks=(1,), n_bits=d, max_depth=r)


def brute_force_best(x, labels, d, r, allowed: set) -> int:
    """The most labels any depth-<=r tree of allowed ANDs (leaves labelled by their majority)
    matches, by listing every tree and predicting every input."""

    def trees_below(path: tuple, depth: int):
        yield ("leaf",)
        if depth == r:
            return
        used = {c // 2 for c in path}
        for i in range(d):
            neg, pos = tuple(sorted(path + (2 * i + 1,))), tuple(sorted(path + (2 * i,)))
            if i in used or neg not in allowed or pos not in allowed:
                continue
            for left in trees_below(neg, depth + 1):
                for right in trees_below(pos, depth + 1):
                    yield ("split", i, left, right)

    def regions(tree, mask):
        if tree[0] == "leaf":
            yield mask
            return
        _, i, left, right = tree
        yield from regions(left, mask & (x[:, i] < 0))
        yield from regions(right, mask & (x[:, i] > 0))

    best = 0
    for tree in trees_below((), 0):
        matched = sum(max((labels[m] > 0).sum(), (labels[m] < 0).sum()) for m in regions(tree, np.ones(len(x), bool)))
        best = max(best, int(matched))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_dp_finds_the_best_tree_over_the_probed_ands(seed):
    d, r = 4, 3
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], size=(200, d))
    labels = np.where(rng.random(200) < 0.5 + 0.4 * x[:, 0] * x[:, 1], 1.0, -1.0)  # noisy, tree-like
    codes = all_ands(d, r)
    mask = rng.random(len(codes)) < 0.8
    mask[0] = True
    probed = probed_from(x, labels, codes, mask, d, r)
    tree = probing.best_tree(probed, 1)
    matched = int((predict(tree, x) == labels).sum())
    allowed = {tuple(int(c) for c in row if c >= 0) for row in probed.codes}
    assert matched == brute_force_best(x, labels, d, r, allowed)


def test_same_function_is_exact_on_a_small_cube():
    rng = np.random.default_rng(0)
    x = cube(6)
    for _ in range(30):
        a = tree_arrays(*random_tree(6, int(rng.integers(1, 4)), torch.Generator().manual_seed(int(rng.integers(1e9)))), x)
        b = tree_arrays(*random_tree(6, int(rng.integers(1, 4)), torch.Generator().manual_seed(int(rng.integers(1e9)))), x)
        for one, other in ((a, b), (b, a), (a, a)):
            assert ands.same_function(one, other) == np.array_equal(predict(one, x), predict(other, x))


def test_a_planted_linear_representation_gives_back_the_planted_tree():
    """z(x) = a random mix of the true tree's ANDs plus noise units: probing + DP recover it."""
    d, r = 30, 3
    task = RandomTree(n_bits=d, depth=r, n_train=1, n_test=1, data_seed=4)
    rng = np.random.default_rng(0)
    x_fit, x_val = (rng.choice([-1.0, 1.0], size=(3000, d)) for _ in range(2))
    truth = task.tree(x_fit)
    from learnscope.studies.distill.sources import node_ands
    tree_ands = node_ands(truth, r)
    mix = rng.normal(size=(len(tree_ands), 64))

    def representation(x):
        values = 2.0 * ands.and_values(ands.literal_matrix(x), tree_ands) - 1.0
        return values @ mix + 0.5 * rng.normal(size=(len(x), 64))

    distiller = probing.ProbingDistiller(r, (1, 4)).fit(x_fit, predict(truth, x_fit), representation(x_fit),
                                                         x_val, representation(x_val))
    assert ands.same_function(distiller.tree_, truth)
    assert np.array_equal(distiller.predict(x_val), predict(truth, x_val))
    assert distiller.n_probes_[4] < ands.n_ands(d, r) / 20
    # the pure-noise representation holds no AND: the distilled tree is not the planted one
    noise = probing.ProbingDistiller(r, (4,)).fit(x_fit, predict(truth, x_fit), rng.normal(size=(3000, 64)),
                                                  x_val, rng.normal(size=(3000, 64)))
    assert not ands.same_function(noise.tree_, truth)
