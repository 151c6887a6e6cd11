"""Tests of the leap: known answers (Abbe et al. 2023 examples) and a brute force over orderings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from learnscope.studies.leap.complexity import leap, leap_order, leap_steps, n_leaps

STAIRCASE = [(0,), (0, 1), (0, 1, 2)]


def brute_force_leap(monomials) -> int:
    """Def. 1 literally: min over orderings of the distinct support of the largest new-coordinate count."""
    support = {frozenset(m) for m in monomials} - {frozenset()}
    best = None
    for order in itertools.permutations(support):
        covered: set[int] = set()
        worst = 0
        for monomial in order:
            worst = max(worst, len(monomial - covered))
            covered |= monomial
        best = worst if best is None else min(best, worst)
    return best or 0


@pytest.mark.parametrize(
    ("monomials", "expected"),
    [
        (STAIRCASE, 1),
        ([(0,), (0, 1, 2)], 2),
        ([(0, 1, 2)], 3),
        ([(0, 1), (2, 3)], 2),
        ([(0,), (0, 1), (2, 3, 4)], 3),
        ([(0,), (1,), (2,), (0, 1, 2)], 1),
        ([(0, 1, 2, 3)], 4),
        ([(), (0,)], 1),
        ([()], 0),
    ],
)
def test_known_leaps(monomials, expected):
    assert leap(monomials) == expected


@pytest.mark.parametrize("k", range(1, 7))
def test_single_monomial_of_size_k_has_leap_k(k):
    assert leap([tuple(range(k))]) == k


def test_leap_is_invariant_to_monomial_order_index_order_and_duplicates():
    shuffled = [(2, 1, 0), (1, 0), (0,), (0, 1)]
    assert leap(shuffled) == 1
    assert leap_order(shuffled) == STAIRCASE
    assert leap_steps(shuffled) == [1, 1, 1]


def test_leap_steps_and_order():
    assert leap_order([(0, 1, 2), (0,)]) == [(0,), (0, 1, 2)]
    assert leap_steps([(0, 1, 2), (0,)]) == [1, 2]
    # (0, 2) needs one new coordinate once (0, 1) is in, so it goes before (2, 3).
    assert leap_order([(0, 1), (2, 3), (0, 2)]) == [(0, 1), (0, 2), (2, 3)]
    assert leap_steps([(0, 1), (2, 3), (0, 2)]) == [2, 1, 1]
    assert max(leap_steps([(0,), (0, 1), (2, 3, 4)])) == 3


@pytest.mark.parametrize(
    ("monomials", "expected"),
    [(STAIRCASE, 3), ([(0, 1, 2)], 1), ([(0,), (0, 1, 2)], 2), ([(0, 1), (2, 3)], 2), ([()], 0)],
)
def test_n_leaps(monomials, expected):
    assert n_leaps(monomials) == expected


def random_instance(rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Up to 6 monomials over up to 6 coordinates, each a random non-empty subset."""
    n_coords = int(rng.integers(1, 7))
    n_monomials = int(rng.integers(1, 7))
    return [tuple(rng.choice(n_coords, size=int(rng.integers(1, n_coords + 1)), replace=False))
            for _ in range(n_monomials)]


def test_leap_equals_brute_force_on_random_instances():
    rng = np.random.default_rng(0)
    for _ in range(300):
        monomials = random_instance(rng)
        assert leap(monomials) == brute_force_leap(monomials), monomials


def test_steps_follow_the_order():
    rng = np.random.default_rng(1)
    for _ in range(50):
        monomials = random_instance(rng)
        covered: set[int] = set()
        steps = []
        for monomial in leap_order(monomials):
            steps.append(len(set(monomial) - covered))
            covered |= set(monomial)
        assert steps == leap_steps(monomials)
        assert covered == {i for m in monomials for i in m}


@pytest.mark.parametrize("bad", [[], [(0, -1)], [(1, 1)]])
def test_invalid_monomials_raise(bad):
    with pytest.raises(ValueError):
        leap(bad)
