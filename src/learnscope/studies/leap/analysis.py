"""Study ``leap``: leap complexity, saddle-to-saddle dynamics and low-rank weight updates
(Abbe, Boix-Adsera, Misiakiewicz, COLT 2023).

Per run (target x d x c x seed, trained online, samples seen = steps x batch_size):

- ``samples_to_threshold``: samples seen at the first evaluation where the test loss is at
  most ``threshold`` x its initial value (NaN if never within the budget);
- the best run per (target, d, seed): fewest samples over the c grid (ties and
  never-reached: lowest final test loss); its samples are ``best_samples``;
- ``slope``: least-squares fit of log(best_samples) on log(d) per (target, seed), over the
  d that reached the threshold (NaN with fewer than two); theory: max(Leap - 1, 1);
- loss drops (``features.plateaus.find_drops`` on the test-loss curve), and at each drop
  the input coordinates whose first-layer weight mass grew (``coordinates_gained``);
- per snapshot: weight mass of each support coordinate (and the mean over the others),
  stable rank of W1_t - W1_0, and the Fourier coefficient of the network for each monomial
  of the target; ``fourier_cross_samples`` is when it first reaches half its target value
  (log-linear interpolation between snapshots).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.features.plateaus import coordinates_gained, find_drops
from learnscope.studies.arrays import nanmedian, pad
from learnscope.studies.leap.config import LeapStudyConfig
from learnscope.studies.leap.complexity import leap, n_leaps

MAX_DROPS = 6


def first_reach(samples: np.ndarray, loss: np.ndarray, threshold: float) -> float:
    """Samples at the first point where loss <= threshold x loss[0] (NaN if none)."""
    hit = np.flatnonzero(loss <= threshold * loss[0])
    return float(samples[hit[0]]) if hit.size else np.nan


def first_crossing(samples: np.ndarray, values: np.ndarray, level: float) -> float:
    """Samples where ``values`` first reaches ``level``, interpolated linearly in log(1 + samples)."""
    hit = np.flatnonzero(values >= level)
    if not hit.size:
        return np.nan
    i = hit[0]
    if i == 0:
        return float(samples[0])
    u0, u1 = np.log1p(samples[i - 1]), np.log1p(samples[i])
    frac = (level - values[i - 1]) / (values[i] - values[i - 1])
    return float(np.expm1(u0 + frac * (u1 - u0)))


def fit_slope(d: np.ndarray, samples: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of log(samples) = intercept + slope log(d) over finite points."""
    ok = np.isfinite(samples)
    if ok.sum() < 2:
        return np.nan, np.nan
    slope, intercept = np.polyfit(np.log(d[ok]), np.log(samples[ok]), 1)
    return float(slope), float(intercept)


def _name(monomial) -> str:
    return "".join(f"x{i}" for i in monomial)


def _support(cfg: LeapStudyConfig) -> list[int]:
    return sorted({i for target in cfg.targets.values() for m in target.monomials for i in m})


def _run_views(curves: xr.Dataset, features: xr.Dataset, batch: int, support: list[int],
               threshold: float) -> dict:
    """Everything the summary keeps about one run."""
    eval_samples = curves["step"].values * float(batch)
    loss = curves["test_loss"].values
    snap_samples = features["step"].values * float(batch)
    mass = features["coord_mass"].values  # (snapshot, d)
    rest = np.delete(mass, support, axis=1).mean(axis=1) if mass.shape[1] > len(support) else \
        np.full(len(mass), np.nan)
    trained = np.isfinite(loss)  # a run stopped by divergence is NaN from there on
    drops = find_drops(eval_samples[trained], np.maximum(loss[trained], np.finfo(float).tiny))[:MAX_DROPS]
    gained = coordinates_gained(snap_samples, mass, drops)
    fourier = features["fourier"].values  # (snapshot, monomial)
    return {
        "samples_to_threshold": first_reach(eval_samples, loss, threshold),
        "initial_test_loss": float(loss[0]),
        "final_test_loss": float(loss[-1]),
        "diverged_at_samples": float(curves.attrs.get("diverged_at_step", -1)) * batch
        if curves.attrs.get("diverged_at_step", -1) >= 0 else np.nan,
        "eval_samples": eval_samples, "test_loss": loss, "snapshot_samples": snap_samples,
        "coord_mass": np.concatenate([mass[:, support], rest[:, None]], axis=1),
        "stable_rank": features["dw_stable_rank"].values[:, 0],
        "fourier": fourier,
        "fourier_cross_samples": np.array([first_crossing(snap_samples, fourier[:, j], 0.5)
                                           for j in range(fourier.shape[1])]),
        "n_drops": len(drops),
        "drop_samples": np.array([drop.step for drop in drops], dtype=np.float64),
        "drop_coords": np.array([",".join(map(str, sorted(g.tolist()))) for g in gained], dtype=object),
    }


def summarise(study: str, cfg: LeapStudyConfig, runs: dict[str, dict[str, xr.Dataset]]) -> xr.Dataset:
    """The study's table: per-run measurements on (target, d, c, seed), best runs and slopes."""
    targets, dims, cs, seeds = list(cfg.targets), list(cfg.dims), list(cfg.all_c), list(cfg.seeds)
    support = _support(cfg)
    views = {}
    for t in targets:
        for d in dims:
            for c in cfg.grid(t):
                for seed in seeds:
                    r = runs[t, d, c, seed]
                    views[t, d, c, seed] = _run_views(r["curves"], r["features"], cfg.train.batch_size, support,
                                                      cfg.threshold)
    n_eval = max(len(v["eval_samples"]) for v in views.values())
    n_snap = max(len(v["snapshot_samples"]) for v in views.values())
    n_mono = max(len(t.monomials) for t in cfg.targets.values())
    shape = (len(targets), len(dims), len(cs), len(seeds))

    def grid(key, tail=(), fill=np.nan, dtype=np.float64):
        out = np.full(shape + tail, fill, dtype=dtype)
        for (t, d, c, seed), v in views.items():
            idx = (targets.index(t), dims.index(d), cs.index(c), seeds.index(seed))
            out[idx] = pad(np.asarray(v[key]), tail, fill, dtype)
        return out

    def per_group(key, size):  # samples axes are shared by the runs of a (target, d)
        return np.stack([np.stack([pad(views[t, d, cfg.grid(t)[0], seeds[0]][key], (size,)) for d in dims])
                         for t in targets])

    stt = grid("samples_to_threshold")
    coord_names = [f"x{i}" for i in support] + ["rest"]
    ds = xr.Dataset(
        {
            "leap": ("target", np.array([leap(cfg.targets[t].monomials) for t in targets], dtype=np.int64),
                     {"long_name": "leap complexity of the target"}),
            "n_leaps": ("target", np.array([n_leaps(cfg.targets[t].monomials) for t in targets], dtype=np.int64),
                        {"long_name": "monomials that add new coordinates in the learning order (expected drops)"}),
            "theory_exponent": ("target", np.array([max(leap(cfg.targets[t].monomials) - 1, 1) for t in targets],
                                                   dtype=np.float64),
                                {"long_name": "theory: samples ~ d^max(Leap - 1, 1)"}),
            "samples_to_threshold": (("target", "d", "c", "seed"), stt,
                                     {"long_name": "fresh samples seen when the test loss first fell to "
                                                   "threshold x its initial value (NaN: never)"}),
            "initial_test_loss": (("target", "d", "c", "seed"), grid("initial_test_loss"),
                                  {"long_name": "test loss at step 0"}),
            "final_test_loss": (("target", "d", "c", "seed"), grid("final_test_loss"),
                                {"long_name": "test loss at the end (NaN: diverged)"}),
            "diverged_at_samples": (("target", "d", "c", "seed"), grid("diverged_at_samples"),
                                    {"long_name": "samples seen when the run diverged and stopped (NaN: never)"}),
            **_best_runs_and_slopes(cfg, stt, grid("final_test_loss")),
            **_trajectories(cfg, grid, per_group, (n_eval, n_snap, n_mono), len(coord_names)),
        },
        coords={"target": ("target", np.array(targets, dtype=object)),
                "d": ("d", np.array(dims, dtype=np.int64)), "c": ("c", np.array(cs, dtype=np.float64)),
                "seed": ("seed", np.array(seeds, dtype=np.int64)),
                "coord": ("coord", np.array(coord_names, dtype=object))},
        attrs={"study": study, "threshold": cfg.threshold},
    )
    return ds


def _best_runs_and_slopes(cfg: LeapStudyConfig, stt: np.ndarray, final: np.ndarray) -> dict:
    """The best run per (target, d, seed): fewest samples to threshold over the c grid; if
    none reached it, the lowest final loss (a c outside a target's grid has no run: NaN
    everywhere). Then the slope of log(best samples) on log(d) per (target, seed)."""
    rank_key = np.where(np.isfinite(stt), stt, np.inf)
    best_idx = np.where(np.isfinite(stt).any(axis=2), np.argmin(rank_key, axis=2),
                        np.argmin(np.where(np.isfinite(final), final, np.inf), axis=2))
    best_samples = np.take_along_axis(stt, best_idx[:, :, None], axis=2)[:, :, 0]
    dims = np.array(cfg.dims, dtype=float)
    fits = np.array([[fit_slope(dims, best_samples[i, :, k]) for k in range(len(cfg.seeds))]
                     for i in range(len(cfg.targets))])  # (target, seed, 2)
    return {
        "best_samples": (("target", "d", "seed"), best_samples,
                         {"long_name": "samples to threshold, minimum over the c grid"}),
        "best_c": (("target", "d", "seed"), np.array(cfg.all_c)[best_idx],
                   {"long_name": "c of the best run (fewest samples; else lowest final loss)"}),
        "slope": (("target", "seed"), fits[..., 0], {"long_name": "fitted slope of log(best_samples) vs log(d)"}),
        "intercept": (("target", "seed"), fits[..., 1],
                      {"long_name": "fitted intercept of log(best_samples) vs log(d)"}),
        "slope_median": ("target", nanmedian(fits[..., 0]), {"long_name": "median slope over seeds"}),
    }


def _trajectories(cfg: LeapStudyConfig, grid, per_group, sizes: tuple[int, int, int], n_coords: int) -> dict:
    """The per-run variables along evaluations and snapshots (loss, weight mass, stable rank,
    Fourier coefficients, drops); ``grid`` and ``per_group`` stack the runs' views."""
    n_eval, n_snap, n_mono = sizes
    targets = list(cfg.targets)
    return {
        "eval_samples": (("target", "d", "eval"), per_group("eval_samples", n_eval),
                         {"long_name": "samples seen at each evaluation"}),
        "test_loss": (("target", "d", "c", "seed", "eval"), grid("test_loss", (n_eval,)),
                      {"long_name": "test mean squared error"}),
        "snapshot_samples": (("target", "d", "snapshot"),
                             per_group("snapshot_samples", n_snap),
                             {"long_name": "samples seen at each snapshot"}),
        "coord_mass": (("target", "d", "c", "seed", "snapshot", "coord"),
                       grid("coord_mass", (n_snap, n_coords)),
                       {"long_name": "first-layer weight mass sum_j W1[j,i]^2 (rest: mean off the support)"}),
        "stable_rank": (("target", "d", "c", "seed", "snapshot"), grid("stable_rank", (n_snap,)),
                        {"long_name": "stable rank of W1_t - W1_0"}),
        "fourier": (("target", "d", "c", "seed", "snapshot", "monomial"),
                    grid("fourier", (n_snap, n_mono)),
                    {"long_name": "Fourier coefficient mean_test f(x) chi_S(x) (target: 1.0)"}),
        "monomial_name": (("target", "monomial"), np.array(
            [[_name(m) for m in cfg.targets[t].monomials] + [""] * (n_mono - len(cfg.targets[t].monomials))
             for t in targets], dtype=object), {"long_name": "the monomial S (empty: padding)"}),
        "fourier_cross_samples": (("target", "d", "c", "seed", "monomial"),
                                  grid("fourier_cross_samples", (n_mono,)),
                                  {"long_name": "samples when the Fourier coefficient first reached 0.5"}),
        "n_drops": (("target", "d", "c", "seed"), grid("n_drops", fill=-1, dtype=np.int64),
                    {"long_name": "loss drops detected (features.plateaus.find_drops); -1: no such run"}),
        "drop_samples": (("target", "d", "c", "seed", "drop"), grid("drop_samples", (MAX_DROPS,)),
                         {"long_name": "samples at each detected drop"}),
        "drop_coords": (("target", "d", "c", "seed", "drop"),
                        grid("drop_coords", (MAX_DROPS,), fill="", dtype=object),
                        {"long_name": "input coordinates whose weight mass grew >= 2x across the drop"}),
    }


# Per-run variables (with a ``c`` dim) that the views of "each seed's best run" read.
RUN_VARS = ("test_loss", "coord_mass", "stable_rank", "fourier", "fourier_cross_samples", "n_drops",
            "drop_samples", "drop_coords")


def best_runs(summary: xr.Dataset) -> xr.Dataset:
    """``RUN_VARS`` at each (target, d, seed)'s ``best_c``: the ``c`` dim is replaced by that choice."""
    return summary[list(RUN_VARS)].sel(c=summary["best_c"])
