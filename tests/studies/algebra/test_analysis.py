"""The algebra study's per-unit statistics on hand-made energies."""

from __future__ import annotations

import numpy as np
import pytest

from learnscope.groups import group
from learnscope.studies.algebra.analysis import (active_units, best_fractions, chance_best_fraction, coverage,
                                        first_step)


def test_best_fraction_active_units_and_coverage():
    energy = np.array([[0.0, 9.0, 1.0, 0.0],    # mostly irrep 1
                       [0.0, 0.0, 0.0, 4.0],    # all irrep 3
                       [1.0, 0.0, 0.0, 0.0],    # trivial only
                       [0.0, 0.0, 0.0, 0.0]])   # dead
    best, frac, norm = best_fractions(energy)
    assert best[:3].tolist() == [1, 3, 0]
    np.testing.assert_allclose(frac[:3], [0.9, 1.0, 1.0])
    assert np.isnan(frac[3])
    active = active_units(norm, 0.5)
    assert active.tolist() == [True, True, False, False]  # norms sqrt(10), 2, 1, 0
    assert coverage(best, active, n_irreps=4) == pytest.approx(2 / 3)  # irreps 1 and 3 of {1, 2, 3}


def test_first_step_is_the_first_evaluation_at_the_level():
    steps = np.array([0, 10, 20, 40])
    assert first_step(steps, np.array([0.1, 0.5, 0.995, 1.0]), 0.99) == 20
    assert np.isnan(first_step(steps, np.array([0.1, 0.5, 0.9, 0.98]), 0.99))


def test_chance_level_of_random_units_is_well_below_one():
    g = group("cyclic:23")
    chance = chance_best_fraction(g, n_parts=3)
    assert 0.1 < chance < 0.5
    assert chance == chance_best_fraction(g, n_parts=3)  # seeded
