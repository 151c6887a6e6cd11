"""Metrics of the ``leap`` study: headline numbers and the ``detail`` behind them.

Headline keys (DESIGN: median over seeds; per-run views use each seed's best run, the one
at ``best_c``): ``slope_<target>`` for every target; for the Leap-1 target (the staircase)
at the largest d, ``plateaus_staircase`` (loss drops detected), ``plateaus_expected_staircase``
(``tasks.leap.n_leaps`` of its monomials) and ``rank_final_staircase`` (stable rank of
W1_T - W1_0 at the end); ``fourier_order_staircase``, the fraction of seeds whose Fourier
coefficients cross half their value in the order of ``tasks.leap.leap_order``.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from learnscope.studies.claims import Claim
from learnscope.studies.leap.analysis import best_runs
from learnscope.studies.metric_values import json_value as _json
from learnscope.studies.leap.complexity import leap_order


def metrics(summary: xr.Dataset) -> dict:
    """Headline numbers (see the module docstring); everything else under ``detail``."""
    out: dict = {}
    for t in summary["target"].values:
        out[f"slope_{t}"] = _json(summary["slope_median"].sel(target=t))
    leap1 = [t for t in summary["target"].values if int(summary["leap"].sel(target=t)) == 1]
    detail: dict = {"threshold": float(summary.attrs["threshold"]), "targets": {}}
    for t in summary["target"].values:
        detail["targets"][str(t)] = _target_detail(summary, t)
    if leap1:
        best = best_runs(summary).sel(target=leap1[0], d=summary["d"].values[-1])
        out["plateaus_staircase"] = _json(float(np.median(best["n_drops"].values)))
        out["plateaus_expected_staircase"] = int(summary["n_leaps"].sel(target=leap1[0]))
        ranks = best["stable_rank"].values  # (seed, snapshot)
        out["rank_final_staircase"] = _json(float(np.median([r[np.isfinite(r)][-1] for r in ranks])))
        out["fourier_order_staircase"] = detail["targets"][str(leap1[0])]["fourier_in_leap_order_frac"]
    out["detail"] = detail
    return out


def _target_detail(summary: xr.Dataset, t: str) -> dict:
    sel = summary.sel(target=t)
    d_max = int(summary["d"].values[-1])
    best = best_runs(summary).sel(target=t, d=d_max)
    names = [n for n in sel["monomial_name"].values if n]
    monomials = [tuple(int(i) for i in n.split("x")[1:]) for n in names]
    order_ok = fourier_order_per_seed(summary, t)
    return {
        "leap": int(sel["leap"]), "theory_exponent": float(sel["theory_exponent"]),
        "slope_per_seed": [_json(v) for v in sel["slope"].values],
        "slope_min": _json(np.nanmin(sel["slope"].values)) if np.isfinite(sel["slope"].values).any() else None,
        "slope_max": _json(np.nanmax(sel["slope"].values)) if np.isfinite(sel["slope"].values).any() else None,
        "best_samples_median": {str(int(d)): _json(np.nanmedian(sel["best_samples"].sel(d=d).values))
                                if np.isfinite(sel["best_samples"].sel(d=d).values).any() else None
                                for d in summary["d"].values},
        "runs_never_reached": int((~np.isfinite(sel["samples_to_threshold"].values)
                                   & np.isfinite(sel["initial_test_loss"].values)).sum()),
        "runs_diverged": int(np.isfinite(sel["diverged_at_samples"].values).sum()),
        "best_c_at_largest_d": [float(v) for v in sel["best_c"].sel(d=d_max).values],
        "n_drops_at_largest_d": [int(v) for v in best["n_drops"].values],
        "drop_coords_at_largest_d": [[c for c in row if c] for row in best["drop_coords"].values],
        "fourier_in_leap_order_frac": float(np.mean(order_ok)),
        "fourier_cross_samples_median": {n: _json(np.nanmedian(best["fourier_cross_samples"].values[:, j]))
                                         if np.isfinite(best["fourier_cross_samples"].values[:, j]).any() else None
                                         for j, n in enumerate(names)},
    }


def fourier_order_per_seed(summary: xr.Dataset, t: str) -> list[bool]:
    """Per seed (its best run at the largest d): did the Fourier coefficients cross half
    their value in the order of ``leap_order``?"""
    best = best_runs(summary).sel(target=t, d=int(summary["d"].values[-1]))
    names = [n for n in summary["monomial_name"].sel(target=t).values if n]
    monomials = [tuple(int(i) for i in n.split("x")[1:]) for n in names]
    return [in_leap_order(best["fourier_cross_samples"].sel(seed=s).values[: len(names)], monomials)
            for s in best["seed"].values]


LEAP_PAPER = "Abbe, Boix-Adsera, Misiakiewicz, COLT 2023"


def claims(summary: xr.Dataset) -> list[Claim]:
    """Per target the sample-complexity exponent against the theory's max(Leap − 1, 1); for
    the Leap-1 staircase the order in which its monomials are learned (chance: a random order)."""
    out = []
    for t in summary["target"].values:
        sel = summary.sel(target=t)
        theory = float(sel["theory_exponent"])
        out.append(Claim(f"slope_{t}", f"Online SGD on a two-layer network needs about d^max(Leap−1, 1) samples to "
                         f"learn {t} (Leap {int(sel['leap'])}): the slope of log(samples) on log(d).", LEAP_PAPER,
                         sel["slope"].values, reference=theory, chance=None, op="within", threshold=0.5,
                         rule="median slope within 0.5 of the theory's exponent"))
    for t in summary["target"].values:
        if int(summary["leap"].sel(target=t)) != 1:
            continue
        n = len([m for m in summary["monomial_name"].sel(target=t).values if m])
        out.append(Claim(f"fourier_order_{t}", f"Saddle to saddle: the network learns the monomials of {t} one "
                         "after another, in the staircase's order (each Fourier coefficient crosses half its value "
                         "after the previous one).", LEAP_PAPER,
                         np.array(fourier_order_per_seed(summary, t), dtype=np.float64), reference=1.0,
                         chance=1 / math.factorial(n), op=">=", threshold=1.0,
                         rule=f"every seed in order (chance: a random order of {n}, 1/{n}!)", above_chance=True))
        break
    return out


def in_leap_order(crossings: np.ndarray, monomials) -> bool:
    """Whether every monomial crossed, one after another in the order of ``leap_order``
    (``crossings`` is indexed like ``monomials``)."""
    order = [tuple(sorted(m)) for m in leap_order(monomials)]
    position = {tuple(sorted(m)): j for j, m in enumerate(monomials)}
    times = np.array([crossings[position[m]] for m in order])
    return bool(np.isfinite(times).all() and (np.diff(times) > 0).all())
