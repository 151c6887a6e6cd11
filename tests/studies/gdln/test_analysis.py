"""The gdln study's read-outs of a run (learnscope.studies.gdln.analysis): transition epochs
of groups of equal singular values and the plateau levels between them, on planted sigmoid
mode strengths and a planted staircase loss."""

from __future__ import annotations

import numpy as np
import pytest

from learnscope.features.modes import task_modes
from learnscope.studies.gdln.analysis import group_times, run_plateau_levels

# White one-hot items x_p = e_p (Σx = I/4, so d = 1/4) and Σyx = diag(3, 2, 2, 1):
# groups {0}, {1, 2}, {3}; each mode's target strength is s/d = 12, 8, 8, 4.
MODES = task_modes(np.eye(4), 4 * np.diag([3.0, 2.0, 2.0, 1.0]))
SNAPSHOTS = np.arange(0, 501, 7).astype(float)  # no centre below falls on a snapshot
WIDTH = 8.0  # epochs; the logistic's scale


def _sigmoids(centres, amplitudes=None) -> np.ndarray:
    """(T, r) logistic curves rising to ``amplitudes`` (default: each mode's target),
    half-way at ``centres``."""
    amplitudes = MODES.s / MODES.d if amplitudes is None else np.asarray(amplitudes)
    return amplitudes / (1 + np.exp(-(SNAPSHOTS[:, None] - np.asarray(centres)) / WIDTH))


def test_planted_modes_form_three_groups_with_targets_s_over_d():
    np.testing.assert_allclose(MODES.s, [3, 2, 2, 1])
    np.testing.assert_allclose(MODES.s / MODES.d, [12, 8, 8, 4])


def test_group_times_are_the_half_way_epochs_averaged_within_a_group():
    """Mode 0 half-way at 50, modes 1 and 2 (one group) at 110 and 130, mode 3 at 300."""
    times = group_times(SNAPSHOTS, _sigmoids([50.0, 110.0, 130.0, 300.0]), MODES)
    assert times.shape == (3,)
    # interpolated linearly between 7-epoch snapshots: about 0.04 epochs off
    np.testing.assert_allclose(times, [50.0, 120.0, 300.0], atol=0.1)


def test_group_times_keep_leading_axes():
    """(T, seed, r) strengths: seed 1 is seed 0 delayed by 20 epochs."""
    strength = np.stack([_sigmoids([50.0, 110.0, 130.0, 300.0]), _sigmoids([70.0, 130.0, 150.0, 320.0])], axis=1)
    times = group_times(SNAPSHOTS, strength, MODES)
    np.testing.assert_allclose(times, [[50.0, 120.0, 300.0], [70.0, 140.0, 320.0]], atol=0.1)


def test_half_way_is_measured_against_the_target_not_the_final_value():
    """Mode 2 stalls at 40% of its target: its group never reaches half-way (NaN), though
    the curve does reach half of its own final value; the other groups are unaffected."""
    targets = MODES.s / MODES.d
    strength = _sigmoids([50.0, 110.0, 130.0, 300.0], amplitudes=targets * [1.0, 1.0, 0.4, 1.0])
    times = group_times(SNAPSHOTS, strength, MODES)
    np.testing.assert_allclose(times[[0, 2]], [50.0, 300.0], atol=0.1)
    assert np.isnan(times[1])


EPOCHS = np.arange(0, 501).astype(float)
# Loss on plateaus 10, 6, 3, 1, each drop a 30-epoch ramp centred on the transition (50, 120, 300).
KNOTS = ([0, 35, 65, 105, 135, 285, 315, 500], [10, 10, 6, 6, 3, 3, 1, 1])


def test_plateau_levels_are_read_midway_between_transitions():
    loss = np.interp(EPOCHS, *KNOTS)
    times = group_times(SNAPSHOTS, _sigmoids([50.0, 110.0, 130.0, 300.0]), MODES)
    levels = run_plateau_levels(EPOCHS, loss, times)
    np.testing.assert_allclose(levels, [10.0, 6.0, 3.0, 1.0])  # read at epochs 25, 85, 210, 400: on the plateaus


def test_levels_after_a_transition_that_never_happened_are_nan():
    """The last group is never learned: the loss stays at 3 from epoch 135 to the end."""
    loss = np.interp(EPOCHS, KNOTS[0][:5] + [500], KNOTS[1][:5] + [3])
    levels = run_plateau_levels(EPOCHS, loss, np.array([50.0, 120.0, np.nan]))
    assert levels.shape == (4,)
    np.testing.assert_allclose(levels[:2], [10.0, 6.0])
    assert np.isnan(levels[3])  # the level after the missing transition was never reached


def test_the_plateau_a_run_ends_on_is_still_measured():
    loss = np.interp(EPOCHS, KNOTS[0][:5] + [500], KNOTS[1][:5] + [3])
    levels = run_plateau_levels(EPOCHS, loss, np.array([50.0, 120.0, np.nan]))
    assert levels[2] == pytest.approx(3.0)  # midway between 120 and 500: on the plateau at 3
