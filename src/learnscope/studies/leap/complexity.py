"""Leap complexity of a Boolean multi-index function (Abbe, Boix-Adsera, Misiakiewicz, COLT 2023).

A function on the hypercube {±1}^d, f(x) = Σ_S c_S Π_{i∈S} x_i, is given here by its support
monomials S: tuples of 0-based coordinate indices (as in ``tasks.boolean``). Definition 1 of
the paper:

    Leap(f) = min over orderings (S_1, …, S_m) of the support of
              max_i |S_i \\ (S_1 ∪ … ∪ S_{i−1})|.

Worked example: the staircase x0 + x0x1 + x0x1x2, ``((0,), (0, 1), (0, 1, 2))``, has leap 1
(each monomial adds one new coordinate); x0 + x0x1x2 has leap 2; x0x1x2 has leap 3. SGD on a
2-layer network needs about d^{max(Leap−1, 1)} samples, and its loss drops once per monomial
that brings new coordinates (``n_leaps``: 3 for the staircase).

Conventions: the empty monomial (the constant) adds nothing and is left out of the order;
repeated monomials count once; the order of indices inside a monomial does not matter.
"""

from __future__ import annotations

import operator
from typing import Sequence


def _support(monomials: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """The distinct non-constant monomials, each as a sorted tuple, in first-seen order.

    Raises:
        ValueError: no monomials, a negative index, or an index repeated within a monomial
            (on the hypercube x_i² = 1, so such a term is ambiguous; write it reduced).
    """
    if len(monomials) == 0:
        raise ValueError("monomials is empty; give at least one monomial, e.g. [(0,), (0, 1)]")
    support: list[tuple[int, ...]] = []
    for j, monomial in enumerate(monomials):
        indices = tuple(sorted(operator.index(i) for i in monomial))
        if indices and indices[0] < 0:
            raise ValueError(f"monomials[{j}] = {tuple(monomial)} has a negative index; indices are 0-based")
        if len(set(indices)) != len(indices):
            raise ValueError(f"monomials[{j}] = {tuple(monomial)} repeats an index; list each index once")
        if indices and indices not in support:
            support.append(indices)
    return support


def _greedy(monomials: Sequence[Sequence[int]]) -> list[tuple[tuple[int, ...], int]]:
    """The greedy learning order with each monomial's number of new coordinates.

    At every step add, among the remaining monomials, one with the fewest coordinates not yet
    covered (ties: fewer indices, then lexicographically smaller), then cover its coordinates.
    """
    remaining = _support(monomials)
    covered: set[int] = set()
    order: list[tuple[tuple[int, ...], int]] = []
    while remaining:
        best = min(remaining, key=lambda s: (len(set(s) - covered), len(s), s))
        order.append((best, len(set(best) - covered)))
        covered.update(best)
        remaining.remove(best)
    return order


def leap(monomials: Sequence[Sequence[int]]) -> int:
    """The exact leap of f = Σ monomials (Abbe et al. 2023, Def. 1).

    Computed by the greedy order of ``leap_order``, which is optimal: let L* be the optimal
    leap, with an optimal order O. When greedy has covered C, take the first monomial S_j of O
    not yet added; all of S_1..S_{j−1} are added, so their union lies in C and
    |S_j \\ C| ≤ |S_j \\ (S_1 ∪ … ∪ S_{j−1})| ≤ L*. Greedy's pick has at most as many new
    coordinates as S_j, hence ≤ L*, at every step. (Equivalently: adding a monomial only
    grows C, never raising another's count, so the leap is the least L whose closure covers
    everything.)

    Example: ``leap([(0,), (0, 1, 2)]) == 2``; a constant-only f, ``[()]``, has leap 0.

    Args:
        monomials: support monomials, each a sequence of distinct 0-based indices.

    Returns:
        The leap, an int ≥ 0.

    Raises:
        ValueError: no monomials, a negative index, or an index repeated within a monomial.
    """
    return max((new for _, new in _greedy(monomials)), default=0)


def leap_order(monomials: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """The greedy (optimal) learning order of the distinct non-constant monomials.

    Example: ``leap_order([(0, 1, 2), (1, 0), (0,)]) == [(0,), (0, 1), (0, 1, 2)]``.

    Args:
        monomials: support monomials, each a sequence of distinct 0-based indices.

    Returns:
        The monomials as sorted index tuples, in the order they are learned.
    """
    return [monomial for monomial, _ in _greedy(monomials)]


def leap_steps(monomials: Sequence[Sequence[int]]) -> list[int]:
    """The number of new coordinates each monomial of ``leap_order`` adds.

    Example: ``leap_steps([(0,), (0, 1, 2)]) == [1, 2]``; its maximum is ``leap``.

    Args:
        monomials: support monomials, each a sequence of distinct 0-based indices.

    Returns:
        One count per monomial of ``leap_order``, in that order.
    """
    return [new for _, new in _greedy(monomials)]


def n_leaps(monomials: Sequence[Sequence[int]]) -> int:
    """The number of monomials in ``leap_order`` that add at least one new coordinate.

    This is the number of saddles (loss drops) expected in saddle-to-saddle learning:
    the staircase x0 + x0x1 + x0x1x2 → 3, x0 + x0x1x2 → 2, x0x1x2 → 1.

    Args:
        monomials: support monomials, each a sequence of distinct 0-based indices.

    Returns:
        The count, an int ≥ 0.
    """
    return sum(new > 0 for new in leap_steps(monomials))


__all__ = ["leap", "leap_order", "leap_steps", "n_leaps"]
