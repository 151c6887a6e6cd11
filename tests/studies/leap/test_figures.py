"""The leap figures render from a small synthetic summary, with NaN padding and a never-reached run,
byte-reproducibly."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from learnscope.studies.leap import figures as leap_figures
from learnscope.studies.stage import save_figures

TARGETS, DIMS, CS, SEEDS = ["leap1", "leap3"], [8, 16], [0.5, 1.0], [0, 1]
N_EVAL, N_SNAP, N_DROP = 6, 4, 2


def synthetic_summary() -> xr.Dataset:
    """Two targets; leap3 at d=16 seed 1 never reaches the threshold; leap3 has one monomial of two."""
    rng = np.random.default_rng(0)
    run = (len(TARGETS), len(DIMS), len(CS), len(SEEDS))
    eval_samples = np.tile(np.array([0, 10, 100, 1e3, 1e4, np.nan]), (2, 2, 1))  # last eval is padding
    test_loss = np.exp(-np.arange(N_EVAL) / 2.0) * (1 + 0.1 * rng.random(run + (N_EVAL,)))
    test_loss[..., -1] = np.nan
    snapshot_samples = np.tile(np.array([0, 100, 1e4, np.nan]), (2, 2, 1))
    stt = rng.uniform(100, 1e4, run)
    stt[1, 1, :, 1] = np.nan  # never reached at any c
    never_nan = np.nan_to_num(stt, nan=np.inf)
    best = np.where(np.isfinite(never_nan.min(axis=2)), never_nan.min(axis=2), np.nan)
    best_c = np.array(CS)[np.argmin(never_nan, axis=2)]
    drop_samples = np.full(run + (N_DROP,), np.nan)
    drop_samples[..., 0] = 100.0
    drop_coords = np.where(np.isfinite(drop_samples), "0,1", "").astype(object)
    fourier = rng.uniform(0, 1, run + (N_SNAP, 2))
    fourier[1, ..., 1] = np.nan  # leap3 has a single monomial; the second is padding
    fourier[..., -1, :] = np.nan
    return xr.Dataset(
        {
            "leap": ("target", np.array([1, 3])), "n_leaps": ("target", np.array([3, 1])),
            "theory_exponent": ("target", np.array([1.0, 2.0])),
            "samples_to_threshold": (("target", "d", "c", "seed"), stt),
            "best_samples": (("target", "d", "seed"), best), "best_c": (("target", "d", "seed"), best_c),
            "slope": (("target", "seed"), np.array([[1.1, 0.9], [2.1, np.nan]])),
            "intercept": (("target", "seed"), np.array([[2.0, 2.2], [1.0, np.nan]])),
            "slope_median": ("target", np.array([1.0, 2.1])),
            "eval_samples": (("target", "d", "eval"), eval_samples),
            "test_loss": (("target", "d", "c", "seed", "eval"), test_loss),
            "snapshot_samples": (("target", "d", "snapshot"), snapshot_samples),
            "coord_mass": (("target", "d", "c", "seed", "snapshot", "coord"), rng.uniform(0.1, 2, run + (N_SNAP, 4))),
            "stable_rank": (("target", "d", "c", "seed", "snapshot"), rng.uniform(0, 3, run + (N_SNAP,))),
            "fourier": (("target", "d", "c", "seed", "snapshot", "monomial"), fourier),
            "monomial_name": (("target", "monomial"), np.array([["x0", "x0x1"], ["x0x1x2", ""]], dtype=object)),
            "fourier_cross_samples": (("target", "d", "c", "seed", "monomial"), np.full(run + (2,), np.nan)),
            "n_drops": (("target", "d", "c", "seed"), np.ones(run, dtype=np.int64)),
            "drop_samples": (("target", "d", "c", "seed", "drop"), drop_samples),
            "drop_coords": (("target", "d", "c", "seed", "drop"), drop_coords),
        },
        coords={"target": TARGETS, "d": np.array(DIMS, dtype=np.int64), "c": np.array(CS),
                "seed": np.array(SEEDS, dtype=np.int64), "eval": np.arange(N_EVAL), "snapshot": np.arange(N_SNAP),
                "monomial": np.arange(2), "coord": ["x0", "x1", "x2", "rest"], "drop": np.arange(N_DROP)},
        attrs={"study": "leap", "threshold": 0.1},
    )


def render(directory) -> dict[str, bytes]:
    paths = {name: str(directory / name) for name in leap_figures.FIGURES}
    save_figures(leap_figures.FIGURES, synthetic_summary(), paths)
    return {name: (directory / name).read_bytes() for name in leap_figures.FIGURES}


def test_save_figures_writes_reproducible_pngs(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    first, second = render(tmp_path / "a"), render(tmp_path / "b")
    for name in leap_figures.FIGURES:
        assert first[name].startswith(b"\x89PNG"), name
        assert first[name] == second[name], f"{name} differs between two renders"


def test_best_runs_picks_each_seeds_best_c():
    summary = synthetic_summary()
    runs = leap_figures.best_runs(summary)
    for target in TARGETS:
        for d in DIMS:
            for seed in SEEDS:
                c = summary["best_c"].sel(target=target, d=d, seed=seed).item()
                expected = summary["test_loss"].sel(target=target, d=d, c=c, seed=seed)
                np.testing.assert_array_equal(runs["test_loss"].sel(target=target, d=d, seed=seed), expected)


@pytest.mark.parametrize("seeds_reached, expected", [((1.0, 3.0, 2.0), 2), ((np.nan, np.nan, np.nan), 0)])
def test_median_seed(seeds_reached, expected):
    summary = xr.Dataset({"best_samples": (("target", "d", "seed"), np.array(seeds_reached).reshape(1, 1, 3))},
                         coords={"target": ["leap1"], "d": [8], "seed": [0, 1, 2]})
    assert leap_figures._median_seed(summary, "leap1", 8) == expected


def test_save_figures_survives_a_target_with_no_data(tmp_path):
    summary = synthetic_summary()
    for name, var in summary.data_vars.items():
        if var.dtype.kind == "f" and "target" in var.dims and name != "best_c":
            summary[name].loc[{"target": "leap3"}] = np.nan
    paths = {name: str(tmp_path / name) for name in leap_figures.FIGURES}
    save_figures(leap_figures.FIGURES, summary, paths)
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in leap_figures.FIGURES)
