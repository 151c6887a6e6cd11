"""Boolean tasks: known answers, agreement with a naive loop, determinism, validation."""

import itertools
import re

import numpy as np
import pytest
import torch

from learnscope.errors import ConfigError
from learnscope.tasks.boolean import MultiIndex, SparseParity, monomial_target

PATH = "params.yaml: study.tasks.t"
STAIRCASE = ((0,), (0, 1), (0, 1, 2))


def parity(**fields) -> SparseParity:
    return SparseParity(**({"n_train": 64, "n_test": 32, "n_bits": 20, "k": 3} | fields))


def staircase(**fields) -> MultiIndex:
    return MultiIndex(**({"n_train": 64, "n_test": 32, "n_bits": 10, "monomials": STAIRCASE} | fields))


# --- known answers ---------------------------------------------------------------


def test_parity_of_hand_written_rows_with_hand_written_support():
    x = torch.tensor([[1, -1, -1, 1], [1, 1, 1, 1], [-1, 1, -1, -1], [-1, -1, 1, 1]], dtype=torch.float32)
    y = monomial_target(x, ((0, 2),))  # x0·x2
    assert y.tolist() == [-1.0, 1.0, 1.0, -1.0]


def test_sparse_parity_flips_exactly_when_an_odd_number_of_support_bits_flip():
    task = parity()
    s = task.support_indices
    off = next(i for i in range(task.n_bits) if i not in s)
    rows = torch.ones(5, task.n_bits)
    rows[1, s[0]] = -1  # one support bit flipped
    rows[2, [s[0], s[1]]] = -1  # two support bits flipped
    rows[3, list(s)] = -1  # all three flipped
    rows[4, off] = -1  # a bit outside the support
    assert task.target(rows).tolist() == [1.0, -1.0, 1.0, -1.0, 1.0]


def test_staircase_on_the_whole_cube_matches_a_hand_written_table():
    points = torch.tensor(list(itertools.product([1, -1], repeat=3)), dtype=torch.float32)
    # (x0, x1, x2) in order (+++), (++-), (+-+), (+--), (-++), (-+-), (--+), (---)
    expected = [3.0, 1.0, -1.0, 1.0, -3.0, -1.0, 1.0, -1.0]
    assert monomial_target(points, STAIRCASE).tolist() == expected
    assert staircase(n_bits=3).target(points).tolist() == expected


def test_coefficients_are_honoured():
    points = torch.tensor([[1, -1, 1], [-1, 1, 1], [1, 1, 1]], dtype=torch.float32)
    task = staircase(n_bits=3, coefficients=(2.0, -1.0, 0.5))
    # 2·x0 − x0x1 + 0.5·x0x1x2
    assert task.target(points).tolist() == [2.5, -1.5, 1.5]


def test_vectorised_target_matches_a_loop_over_samples():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(50, 6, generator=generator)
    monomials, coefficients = ((1,), (0, 4), (2, 3, 5)), (0.5, -2.0, 3.0)
    expected = [
        sum(c * float(np.prod([row[i] for i in m])) for c, m in zip(coefficients, monomials)) for row in x.tolist()
    ]
    # float32 (vectorised) vs float64 (loop): relative 1e-5, atol scaled to the targets (|y| up to ~10).
    np.testing.assert_allclose(monomial_target(x, monomials, coefficients).numpy(), expected, rtol=1e-5,
                               atol=1e-5 * max(map(abs, expected)))


# --- the fixed dataset -----------------------------------------------------------


def test_dataset_labels_are_the_product_of_the_support_bits():
    task = parity()
    data = task.make_dataset()
    s = list(task.support_indices)
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        np.testing.assert_array_equal(y, np.prod(x[:, s], axis=1))
        assert set(np.unique(x)) == {-1.0, 1.0}
    assert len(np.unique(data["y_train"])) == 2


def test_support_mask_has_k_ones_at_the_support():
    task = parity(k=4)
    mask = task.make_dataset()["support"]
    assert mask.dtype == np.int8 and mask.shape == (20,)
    assert mask.sum() == 4
    assert tuple(np.flatnonzero(mask)) == task.support_indices
    assert list(task.support_indices) == sorted(task.support_indices)


def test_support_depends_on_data_seed_only():
    supports = {parity(data_seed=seed).support_indices for seed in range(10)}
    assert len(supports) > 1
    assert parity(data_seed=7).support_indices == parity(data_seed=7, n_train=5).support_indices


def test_staircase_support_is_the_union_of_monomials():
    task = staircase(monomials=((3,), (1, 7)))
    assert np.flatnonzero(task.make_dataset()["support"]).tolist() == [1, 3, 7]


@pytest.mark.parametrize("make", [parity, staircase])
def test_make_dataset_is_deterministic_and_seeded(make):
    first, second = make().make_dataset(), make().make_dataset()
    assert first.keys() == {"x_train", "y_train", "x_test", "y_test", "support"}
    for key in first:
        assert np.array_equal(first[key], second[key])
        assert first[key].tobytes() == second[key].tobytes()
    assert not np.array_equal(first["x_train"], make(data_seed=1).make_dataset()["x_train"])


@pytest.mark.parametrize("make", [parity, staircase])
def test_dataset_shapes_and_dtypes(make):
    task = make(n_train=30, n_test=12)
    data = task.make_dataset()
    assert data["x_train"].shape == (30, task.n_bits) and data["x_train"].dtype == np.float32
    assert data["x_test"].shape == (12, task.n_bits) and data["x_test"].dtype == np.float32
    assert data["y_train"].shape == (30,) and data["y_train"].dtype == np.float32
    assert data["y_test"].shape == (12,) and data["y_test"].dtype == np.float32


# --- online samples --------------------------------------------------------------


@pytest.mark.parametrize("make", [parity, staircase])
def test_sample_shapes_reproducibility_and_labels(make):
    task = make()
    x, y = task.sample(40, torch.Generator().manual_seed(5))
    x_again, y_again = task.sample(40, torch.Generator().manual_seed(5))
    assert x.shape == (40, task.n_bits) and x.dtype == torch.float32
    assert y.shape == (40,) and y.dtype == torch.float32
    assert torch.equal(x, x_again) and torch.equal(y, y_again)
    assert torch.equal(y, task.target(x))
    generator = torch.Generator().manual_seed(5)
    task.sample(40, generator)
    assert not torch.equal(task.sample(40, generator)[0], x)  # the generator advanced


# --- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "key", "words"),
    [
        (parity(k=25), "k", "must be between 1 and n_bits = 20"),
        (parity(k=0), "k", "must be between 1 and n_bits = 20"),
        (parity(n_bits=0, k=1), "n_bits", "at least 1"),
        (parity(n_train=0), "n_train", "at least 1"),
        (staircase(n_test=0), "n_test", "at least 1"),
        (staircase(n_bits=3, monomials=((0,), (1, 3))), "monomials[1]", "index 3"),
        (staircase(monomials=((0,), (-1,))), "monomials[1]", "0-based"),
        (staircase(monomials=((0,), ())), "monomials[1]", "empty"),
        (staircase(monomials=((0, 2, 0),)), "monomials[0]", "repeats"),
        (staircase(monomials=()), "monomials", "at least one"),
        (staircase(coefficients=(1.0, 2.0)), "coefficients", "one entry per monomial (3)"),
    ],
)
def test_check_names_the_dotted_key(task, key, words):
    with pytest.raises(ConfigError, match=re.escape(f"{PATH}.{key} = ")) as info:
        task.check(PATH)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_valid_tasks_pass_check():
    parity(k=20).check(PATH)
    staircase(coefficients=(1.0, -1.0, 2.0)).check(PATH)


def test_describe_and_feature_names():
    task = parity(n_bits=5, k=2)
    assert task.describe() == f"sparse parity of 2 of 5 bits (support {list(task.support_indices)})"
    assert task.feature_names() == ["x0", "x1", "x2", "x3", "x4"]
    assert staircase().describe() == "multi-index function x0 + x0x1 + x0x1x2 of 10 bits (support [0, 1, 2])"
