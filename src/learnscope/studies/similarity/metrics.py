"""Metrics and claims of the ``similarity`` study (summary.nc of ``analysis``).

Headline keys, at the headline λ (``similarity.lam``, attr ``headline_lam``) where a λ is needed:

- ``gulp_identity_err``: the largest relative error of the λ = 0 CCA identity over the
  study's pairs (``checks.identity_errors``);
- ``triangle_violations``: ordered triples breaking the triangle inequality, summed over λ;
- ``gulp_cka_spearman``: Spearman correlation across pairs between GULP and 1 − CKA;
- ``same_task_closer_frac``: fraction of the informative runs whose nearest other run by
  GULP was trained on the same task;
- ``converges_over_training``: fraction of runs whose GULP to their final network is
  non-increasing over the second half of training (``analysis.converges``);
- ``ridge_gap_bounded``: no ridge-predictor gap exceeds GULP_λ, at any λ and pair
  (``ridge_gap_ratio_max``: the largest gap ÷ GULP_λ, ≤ 1 when it holds).
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from learnscope.studies.claims import Claim
from learnscope.studies.metric_values import json_list, json_value
from learnscope.studies.similarity.analysis import converges

PAPER = "Boix-Adsera, Lawrence, Stepaniants, Rigollet, NeurIPS 2022"


def _significant(value: float) -> float | None:
    """A small error to 3 significant digits (4 decimals would print 0.0)."""
    return None if not np.isfinite(value) else float(f"{value:.3g}")


def _headline(summary: xr.Dataset) -> float:
    return float(summary.attrs["headline_lam"])


def gap_ratio(summary: xr.Dataset) -> xr.DataArray:
    """Largest ridge-predictor gap ÷ GULP_λ per pair and λ (NaN where d = 0 or no pair)."""
    d = summary["gulp"]
    return (summary["ridge_gap_max"] / d.where(d > 0)).rename("gap_ratio")


def convergence(summary: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per run: converges (0/1) at the headline λ and its chance 1/m!."""
    lam = _headline(summary)
    out = [converges(summary["gulp_to_final"].sel(run=r, lam=lam).values, summary["snapshot_step"].sel(run=r).values)
           for r in summary["run"].values]
    return np.array([o[0] for o in out], dtype=np.float64), np.array([o[1] for o in out])


def seed_distances(summary: xr.Dataset) -> np.ndarray:
    """Per run: the median GULP (headline λ) from its final network to those of the other seeds
    of its source, task and width (NaN without another seed)."""
    d = summary["gulp"].sel(lam=_headline(summary)).values
    key = [tuple(summary[v].values[i] for v in ("source", "task", "width")) for i in range(summary.sizes["run"])]
    out = np.full(len(key), np.nan)
    for i, k in enumerate(key):
        others = [j for j, other in enumerate(key) if other == k and j != i]
        out[i] = np.median(d[i, others]) if others else np.nan
    return out


def _pairs_mask(summary: xr.Dataset) -> np.ndarray:
    return np.triu(np.isfinite(summary["gulp"].isel(lam=0).values), k=1)


def metrics(summary: xr.Dataset) -> dict:
    lam = _headline(summary)
    pairs = _pairs_mask(summary)
    informative = summary["informative"].values == 1
    same = summary["nearest_same_task"].sel(lam=lam).values
    conv, conv_chance = convergence(summary)
    ratio = gap_ratio(summary)
    step_half = _half_time_ratio(summary)
    rank = summary["rank_corr"]
    return {
        "gulp_identity_err": _significant(np.nanmax(summary["identity_err"].values)) if pairs.any() else None,
        "triangle_violations": int(summary["triangle_violations"].sum()),
        "gulp_cka_spearman": json_value(rank.sel(lam=lam, measure="cka")),
        "same_task_closer_frac": json_value(same[informative].mean()) if informative.any() else None,
        "converges_over_training": json_value(conv.mean()),
        "ridge_gap_bounded": bool(np.nanmax(ratio.values) <= 1.0 + 1e-9) if pairs.any() else None,
        "detail": {
            "headline_lam": lam, "runs": int(summary.sizes["run"]), "pairs": int(pairs.sum()),
            "runs_per_space": json.loads(summary.attrs["spaces_json"]),
            "triangle_triples_per_lam": int(summary["triangle_triples"]),
            "rank_corr": {m: dict(zip(map(str, summary["lam"].values), json_list(rank.sel(measure=m))))
                          for m in summary["measure"].values},
            "same_task_closer_frac_per_lam": dict(zip(map(str, summary["lam"].values), json_list(
                summary["nearest_same_task"].values[informative].mean(axis=0) if informative.any() else
                np.full(summary.sizes["lam"], np.nan)))),
            "same_task_chance": json_value(summary["same_task_chance"].values[informative].mean())
            if informative.any() else None,
            "converges_chance": json_value(conv_chance.mean()),
            "ridge_gap_ratio_max_per_lam": dict(zip(map(str, summary["lam"].values),
                                                    json_list(ratio.max(("run_a", "run_b"))))),
            "half_time_over_seed_distance": json_value(np.nanmedian(step_half)) if np.isfinite(step_half).any()
            else None,
        },
    }


def _half_time_ratio(summary: xr.Dataset) -> np.ndarray:
    """Per run: GULP (headline λ) of its checkpoint at the start of the second half of training to
    its final network, over its median distance to the other seeds' final networks."""
    lam = _headline(summary)
    out = np.full(summary.sizes["run"], np.nan)
    seeds = seed_distances(summary)
    for i in range(summary.sizes["run"]):
        steps = summary["snapshot_step"].values[i]
        late = np.flatnonzero(steps >= steps.max() / 2)
        out[i] = summary["gulp_to_final"].sel(lam=lam).values[i, late[0]] / seeds[i]
    return out


def claims(summary: xr.Dataset) -> list[Claim]:
    lam = _headline(summary)
    pairs = _pairs_mask(summary)
    informative = summary["informative"].values == 1
    conv, conv_chance = convergence(summary)
    ratio = np.nanmax(gap_ratio(summary).values) if pairs.any() else np.nan
    identity = np.nanmax(summary["identity_err"].values) if pairs.any() else np.nan
    rank = summary["rank_corr"].sel(lam=lam, measure="cka").item()
    rank_chance = summary["rank_corr_chance"].sel(lam=lam, measure="cka").item()
    same = summary["nearest_same_task"].sel(lam=lam).values[informative]
    one = lambda v: np.array([v], dtype=np.float64)  # noqa: E731 - one value across pairs, not per seed
    return [
        Claim("gulp_identity_err", "At λ = 0, GULP² = k_A + k_B − 2Σρᵢ² (ρ: canonical correlations), on our pairs",
              PAPER, one(identity), 0.0, None, "<=", 1e-8, "largest relative error ≤ 1e-8"),
        Claim("triangle_violations", "GULP is a metric: d(A, C) ≤ d(A, B) + d(B, C) on every triple of our networks",
              PAPER, one(summary["triangle_violations"].sum()), 0.0, None, "<=", 0.0, "no violated triple"),
        Claim("gulp_cka_spearman", f"GULP at λ = {lam:g} orders pairs of networks like linear CKA", PAPER,
              one(rank), None, rank_chance, ">=", 0.5, "Spearman ≥ 0.5, above chance (95th percentile under permuted pairs)", above_chance=True),
        Claim("same_task_closer_frac", "A network's nearest other network by GULP was trained on the same task",
              PAPER, one(same.mean()) if same.size else np.array([]), None,
              float(summary["same_task_chance"].values[informative].mean()) if informative.any() else None,
              ">=", 0.8, "fraction ≥ 0.8 of runs whose space holds another task, above chance", above_chance=True),
        Claim("converges_over_training", "GULP to the final network decreases over the second half of training",
              PAPER, one(conv.mean()), 1.0, float(conv_chance.mean()), ">=", 0.9,
              "fraction of runs ≥ 0.9, above the chance of a random order", above_chance=True),
        Claim("ridge_gap_bounded", "The gap between ridge-λ predictors on two representations never exceeds "
              "GULP_λ (unit mean-square linear targets)", PAPER, one(ratio), 1.0, None, "<=", 1.0,
              "largest gap ÷ GULP_λ ≤ 1 over pairs, λ and targets"),
    ]
