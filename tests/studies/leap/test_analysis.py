"""The leap study's analysis (learnscope.studies.leap) on synthetic runs with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from learnscope.params import load_params
from learnscope.runspec import ComputeConfig
from learnscope.studies.leap import analysis as study
from learnscope.studies.leap import metrics as leap_metrics

LEAP = {
    "seeds": [0, 1], "dims": [8, 16, 32], "c": [0.5, 1.0], "width": 16, "threshold": 0.1,
    "targets": {"stairs": {"monomials": [[0], [0, 1], [0, 1, 2]], "budget": 400.0, "c": [0.5]},
                "parity3": {"monomials": [[0, 1, 2]], "budget": 40.0, "budget_power": 2.0}},
    "model": {"name": "mlp", "parametrization": "mean_field"},
    "train": {"batch_size": 2, "n_snapshots": 6, "n_evals": 100},
}


@pytest.fixture(scope="module")
def cfg():
    return load_params({"leap": LEAP}).leap


def _fake_run(spec, learn_at: float, drops_at: list[float]) -> dict[str, xr.Dataset]:
    """A run whose test loss steps down at ``drops_at`` (samples) and reaches ~0 at ``learn_at``."""
    batch = spec.train.batch_size
    eval_steps = spec.train.eval_steps
    samples = eval_steps * batch
    n_mono = len(spec.task.monomials)
    loss = np.full(len(samples), float(n_mono))
    for at in drops_at:
        loss -= 1.0 / (1.0 + np.exp(-(np.log(samples + 1) - np.log(at)) * 12))
    loss = np.maximum(loss, 1e-3)
    curves = xr.Dataset({"test_loss": ("step", loss)}, coords={"step": eval_steps})
    snap = spec.train.snapshot_steps
    s_samples = snap * batch
    d = spec.task.n_bits
    learned = np.stack([1.0 / (1.0 + np.exp(-(np.log(s_samples + 1) - np.log(at)) * 12)) for at in drops_at], 1)
    mass = np.ones((len(snap), d))
    mass[:, : learned.shape[1]] += 10 * learned
    features = xr.Dataset({"coord_mass": (("step", "input"), mass),
                           "dw_stable_rank": (("step", "layer"), np.stack([1 + learned.sum(1), np.ones(len(snap))], 1)),
                           "fourier": (("step", "monomial"), learned)}, coords={"step": snap})
    return {"curves": curves, "features": features}


def test_leap_params_make_one_group_per_target_and_d(cfg):
    runs = {s.name: s for s in cfg.runs("leap", ComputeConfig()).values()}
    assert len(runs) == 3 * 2 * 1 + 3 * 2 * 2  # stairs: 3 d x 1 c x 2 seeds; parity3: 3 d x 2 c x 2 seeds
    spec = runs["leap-parity3_d16-w16-c0.5-s1"]
    assert spec.train.lr == pytest.approx(0.5 * 2 / 16) and spec.train.online
    assert spec.train.steps == int(np.ceil(40.0 * 16**2 / 2)) and spec.task.n_bits == 16
    groups = {}
    for s in runs.values():
        groups.setdefault(s.group, set()).add((s.tag, s.seed))
    assert groups["leap-parity3_d16-w16"] == {("c0.5", 0), ("c0.5", 1), ("c1", 0), ("c1", 1)}
    assert len(groups) == 6


def test_summary_recovers_slopes_best_c_drops_and_order(cfg):
    """stairs: drops at 2d, 20d, 100d samples, in order; parity3 needs 4 d^2 at c = 1 (2x at c = 0.5)."""
    runs = {}
    for (target, d, c, seed), spec in cfg.runs("leap", ComputeConfig()).items():
        if target == "stairs":
            runs[target, d, c, seed] = _fake_run(spec, 100 * d, [2 * d, 20 * d, 100 * d])
        else:
            runs[target, d, c, seed] = _fake_run(spec, 4 * d**2 / c, [4 * d**2 / c])
    summary = study.summarise("leap", cfg, runs)
    sizes = dict(summary.sizes)
    assert 80 <= sizes.pop("eval") <= 101  # n_evals log-spaced and step 0, fewer where they round together
    assert sizes == {"target": 2, "d": 3, "c": 2, "seed": 2, "snapshot": 6, "monomial": 3, "coord": 4,
                     "drop": study.MAX_DROPS}
    slope = summary["slope_median"].to_series()
    assert slope["stairs"] == pytest.approx(1.0, abs=0.1) and slope["parity3"] == pytest.approx(2.0, abs=0.1)
    assert (summary["best_c"].sel(target="parity3") == 1.0).all()
    assert np.isnan(summary["samples_to_threshold"].sel(target="stairs", c=1.0)).all()  # not in its grid
    assert (summary["n_drops"].sel(target="stairs", c=0.5) == 3).all()
    assert (summary["n_drops"].sel(target="stairs", c=1.0) == -1).all()
    metrics = leap_metrics.metrics(summary)
    assert metrics["slope_stairs"] == pytest.approx(1.0, abs=0.1)
    assert metrics["plateaus_staircase"] == 3 and metrics["plateaus_expected_staircase"] == 3
    assert metrics["fourier_order_staircase"] == 1.0
    detail = metrics["detail"]["targets"]["stairs"]
    assert detail["fourier_in_leap_order_frac"] == 1.0 and detail["runs_never_reached"] == 0
    assert detail["drop_coords_at_largest_d"][0] == ["0", "1", "2"]


def test_runs_that_never_learn_give_null_not_a_number(cfg):
    runs = {}
    for coords, spec in cfg.runs("leap", ComputeConfig()).items():
        far = 1e12 if coords[0] == "parity3" else 100 * spec.task.n_bits
        runs[coords] = _fake_run(spec, far, [far] * len(spec.task.monomials))
    summary = study.summarise("leap", cfg, runs)
    metrics = leap_metrics.metrics(summary)
    assert metrics["slope_parity3"] is None
    assert metrics["detail"]["targets"]["parity3"]["runs_never_reached"] == 12


def test_first_reach_crossing_and_fit():
    samples = np.array([0.0, 10, 20, 30])
    assert study.first_reach(samples, np.array([1.0, 0.5, 0.09, 0.01]), 0.1) == 20
    assert np.isnan(study.first_reach(samples, np.array([1.0, 0.5, 0.2, 0.2]), 0.1))
    crossing = study.first_crossing(np.array([0.0, 9.0, 99.0]), np.array([0.0, 0.0, 1.0]), 0.5)
    assert crossing == pytest.approx(np.expm1(0.5 * (np.log(10) + np.log(100))))
    d = np.array([8.0, 16, 32, 64])
    assert study.fit_slope(d, 3 * d**2.5)[0] == pytest.approx(2.5)
    assert np.isnan(study.fit_slope(d, np.array([1.0, np.nan, np.nan, np.nan]))[0])
    assert leap_metrics.in_leap_order(np.array([1.0, 2.0, 3.0]), [(0,), (0, 1), (0, 1, 2)])
    assert not leap_metrics.in_leap_order(np.array([2.0, 1.0, 3.0]), [(0,), (0, 1), (0, 1, 2)])
    assert not leap_metrics.in_leap_order(np.array([1.0, np.nan, 3.0]), [(0,), (0, 1), (0, 1, 2)])
