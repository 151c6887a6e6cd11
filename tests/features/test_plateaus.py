"""Tests of plateau/drop detection on synthetic loss curves with known transitions."""

from __future__ import annotations

import numpy as np
import pytest

from learnscope.features.plateaus import (Drop, coordinates_gained, detect_drops, find_drops,
                                          find_plateaus)

LEVELS = (1.0, 0.5, 0.1, 0.01)
LOG_STEPS = np.unique(np.round(np.logspace(0, 5, 300)))  # (300,) log-spaced, 1 … 1e5
LINEAR_STEPS = np.linspace(0, 20_000, 501)  # (501,) evenly spaced, starting at 0


def staircase(time: np.ndarray, centres, widths, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Loss through LEVELS with sigmoidal transitions in ``time`` (the step, or log10 of it),
    multiplicative log-normal noise of σ = sigma, one 5x spike up and one 5x spike down."""
    log_loss = np.full(time.shape, np.log(LEVELS[0]))
    for centre, width, old, new in zip(centres, widths, LEVELS[:-1], LEVELS[1:]):
        log_loss += (np.log(new) - np.log(old)) / (1 + np.exp(-(time - centre) / width))
    log_loss += sigma * rng.standard_normal(time.size)
    log_loss[time.size // 3] += np.log(5.0)
    log_loss[2 * time.size // 3] -= np.log(5.0)
    return np.exp(log_loss)


def log_axis_curve(rng, sigma):
    """Transitions at steps 100, 1000, 10 000, each 0.02 decades wide, on the log-spaced axis."""
    return LOG_STEPS, staircase(np.log10(LOG_STEPS), [2, 3, 4], [0.02] * 3, rng, sigma), [1e2, 1e3, 1e4]


def linear_axis_curve(rng, sigma):
    """Transitions at steps 2000, 6000, 15 000 (widths 100, 200, 400 steps) on the linear axis."""
    true = [2000, 6000, 15_000]
    return LINEAR_STEPS, staircase(LINEAR_STEPS, true, [100, 200, 400], rng, sigma), true


@pytest.mark.parametrize("make", [log_axis_curve, linear_axis_curve])
@pytest.mark.parametrize("sigma", [0.05, 0.1])
def test_staircase_gives_exactly_three_drops_at_the_transitions(make, sigma):
    for seed in range(20):
        steps, loss, true = make(np.random.default_rng(seed), sigma)
        drops = find_drops(steps, loss)
        assert len(drops) == 3, (seed, drops)
        # Within 0.05 decades (12%) of the true transition step.
        np.testing.assert_allclose(np.log10([d.step for d in drops]), np.log10(true), atol=0.05)
        np.testing.assert_allclose([d.from_level for d in drops], LEVELS[:-1], rtol=0.1)
        np.testing.assert_allclose([d.to_level for d in drops], LEVELS[1:], rtol=0.1)
        for d in drops:
            assert d.start_step <= d.step <= d.end_step


def test_plateaus_are_the_stretches_between_drops():
    steps, loss, _ = log_axis_curve(np.random.default_rng(0), 0.05)
    plateaus, drops = find_plateaus(steps, loss), find_drops(steps, loss)
    assert len(plateaus) == 4
    np.testing.assert_allclose([p.level for p in plateaus], LEVELS, rtol=0.05)
    assert plateaus[0].start_step == steps[0] and plateaus[-1].end_step == steps[-1]
    for before, drop, after in zip(plateaus, drops, plateaus[1:]):
        assert before.end_step < drop.start_step <= drop.end_step < after.start_step


def test_detect_drops_returns_the_drop_steps():
    steps, loss, _ = linear_axis_curve(np.random.default_rng(3), 0.05)
    found = detect_drops(steps, loss)
    assert found.dtype == np.float64
    np.testing.assert_array_equal(found, [d.step for d in find_drops(steps, loss)])


def test_noiseless_step_is_found_at_the_step():
    steps = np.arange(1.0, 1001.0)
    loss = np.where(steps < 300, 1.0, 0.1)
    (drop,) = find_drops(steps, loss)
    assert drop.step == 300
    assert (drop.from_level, drop.to_level) == pytest.approx((1.0, 0.1))


@pytest.mark.parametrize("steps", [LOG_STEPS, LINEAR_STEPS])
def test_flat_noisy_curve_has_no_drop(steps):
    for seed in range(20):
        loss = 0.3 * np.exp(0.1 * np.random.default_rng(seed).standard_normal(steps.size))
        assert find_drops(steps, loss) == []
        (plateau,) = find_plateaus(steps, loss)
        assert plateau.level == pytest.approx(0.3, rel=0.05)


def test_loss_spikes_wider_than_the_median_are_not_drops():
    # A 10x instability spike over 4 points: the way back down never reaches a new low.
    loss = np.full(LINEAR_STEPS.size, 0.2)
    loss[200:204] = 2.0
    assert find_drops(LINEAR_STEPS, loss) == []


def test_too_small_a_fall_is_not_a_drop():
    steps = np.arange(1.0, 1001.0)
    loss = np.where(steps < 300, 1.0, 0.85)  # lowers the loss by 15% < min_drop = 20%
    assert find_drops(steps, loss) == []
    assert len(find_drops(steps, loss, min_drop=0.1)) == 1


def test_smooth_exponential_decay_is_one_drop():
    # No plateau anywhere: the fast part of the decay, where it falls faster than ~1/step, is
    # one drop reaching the end of the curve; the early slow part is the plateau before it.
    steps = np.linspace(0, 5000, 400)
    (drop,) = find_drops(steps, np.exp(-steps / 500))
    assert drop.end_step == steps[-1]
    assert 100 < drop.start_step < 500 < drop.step < steps[-1]


def test_power_laws_slower_and_faster_than_one_over_step():
    steps = np.logspace(0, 5, 300)
    assert find_drops(steps, steps ** -0.5) == []
    # One drop over the whole curve but the last half window, where the fall is measured
    # over less than ``window`` (held constant beyond the last step).
    (drop,) = find_drops(steps, steps ** -1.5)
    assert drop.start_step == steps[0] and drop.end_step > 10 ** 4.9


@pytest.mark.parametrize("bad", [
    dict(steps=np.array([1.0, 1.0, 2.0]), loss=np.ones(3)),
    dict(steps=np.array([-1.0, 1.0, 2.0]), loss=np.ones(3)),
    dict(steps=np.arange(3.0), loss=np.ones(4)),
    dict(steps=np.arange(3.0), loss=np.array([1.0, np.nan, 1.0])),
    dict(steps=np.arange(3.0), loss=np.ones(3), min_drop=1.0),
])
def test_invalid_inputs_raise(bad):
    with pytest.raises(ValueError):
        find_drops(**bad)


def synthetic_coord_mass(steps: np.ndarray, drop_steps, d_in: int) -> np.ndarray:
    """(n, d_in) mass: coordinate k grows 0.01 → 1 sigmoidally at drop k, the rest stay ~0.01."""
    mass = np.full((steps.size, d_in), 0.01)
    for k, step in enumerate(drop_steps):
        mass[:, k] += 1.0 / (1 + np.exp(-(np.log10(steps) - np.log10(step)) / 0.01))
    return mass * np.exp(0.05 * np.random.default_rng(0).standard_normal(mass.shape))


def test_coordinates_gained_at_each_drop():
    steps, loss, true = log_axis_curve(np.random.default_rng(0), 0.05)
    drops = find_drops(steps, loss)
    mass = synthetic_coord_mass(steps, true, d_in=6)
    gained = coordinates_gained(steps, mass, drops)
    assert [g.tolist() for g in gained] == [[0], [1], [2]]
    assert all(g.dtype == np.int64 for g in gained)


def test_coordinates_gained_sorts_by_gain_and_truncates():
    steps = np.array([1.0, 2.0, 3.0, 4.0])
    mass = np.array([[1.0, 1.0, 0.0, 1.0],
                     [1.0, 1.0, 0.0, 1.0],
                     [3.0, 5.0, 0.5, 1.5],
                     [3.0, 5.0, 0.5, 1.5]])  # (step, input)
    drop = Drop(step=2.5, start_step=2.0, end_step=2.0, from_level=1.0, to_level=0.1)
    # before = step 1 (last before 2.0), after = step 3 (first after 2.0).
    (gained,) = coordinates_gained(steps, mass, [drop])
    assert gained.tolist() == [2, 1, 0]  # gains inf, 5, 3; coordinate 3 grew only 1.5x
    (top,) = coordinates_gained(steps, mass, [drop], top=1)
    assert top.tolist() == [2]
    assert coordinates_gained(steps, mass, []) == []
