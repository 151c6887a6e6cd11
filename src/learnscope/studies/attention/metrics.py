"""Metrics and claims of the ``attention`` study.

Headline keys (null where a model or the toy was left out, or a threshold never reached):

- ``n_transformer``, ``n_transformer_identity``: ``n_reached_median`` of the models
  ``transformer`` and ``transformer_identity``; ``identity_gain`` = their ratio;
- ``mlp_loss_at_max_n``: the median final test loss of ``mlp`` at its largest n;
  ``mlp_xxt_loss_at_min_n``: that of ``mlp_xxt`` at its smallest n;
- ``toy_stages_small_alpha``: toy stages detected at the smallest α; ``rank_increment_max``:
  the largest number of diag(W_K W_Qᵀ) entries switched on in one stage there;
- ``final_stable_rank_small_vs_default_init``: the final stable rank of Δ(W_Q W_Kᵀ)
  (mean over layers and heads) of ``transformer_small_init`` over that of ``transformer`` at
  the small-init model's first n, median over seeds of the per-seed ratio.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.claims import Claim
from learnscope.studies.metric_values import json_value as _json

SYMBOLS_PAPER = "Boix-Adsera, Saremi, Abbe, Bengio, Littwin, Susskind, ICLR 2024"
RANK_PAPER = "Boix-Adsera, Littwin, Abbe, Bengio, Susskind, NeurIPS 2023"
PAPER_N_TRANSFORMER = 2048.0  # "near 0 at n ≈ 2×10³"
PAPER_N_IDENTITY = 80.0  # "by n ≈ 64–100"
PAPER_GAIN = 25.0  # "~20–30×"
PAPER_MLP_XXT = 0.13  # at n = 4


def _has(summary: xr.Dataset, model: str) -> bool:
    return model in summary["model"].values


def _model_ns(summary: xr.Dataset, model: str) -> np.ndarray:
    """The n at which ``model`` has runs."""
    loss = summary["final_test_loss"].sel(model=model).values  # (n, seed)
    return summary["n"].values[np.isfinite(loss).any(axis=1)]


def _loss_at(summary: xr.Dataset, model: str, which: str) -> np.ndarray:
    """Per-seed final test loss of ``model`` at its smallest or largest n."""
    ns = _model_ns(summary, model)
    n = ns.min() if which == "min" else ns.max()
    return summary["final_test_loss"].sel(model=model, n=n).values


def _rank_ratio(summary: xr.Dataset) -> np.ndarray:
    """Per seed: final mean stable rank of Δ(W_Q W_Kᵀ), small init over default init, at the
    small-init model's first n (empty without both models)."""
    if not (_has(summary, "transformer_small_init") and _has(summary, "transformer")):
        return np.array([])
    n = _model_ns(summary, "transformer_small_init").min()
    if n not in _model_ns(summary, "transformer"):
        return np.array([])
    return _final_rank(summary, "transformer_small_init", n) / _final_rank(summary, "transformer", n)


def _final_rank(summary: xr.Dataset, model: str, n: int) -> np.ndarray:
    """(seed,) stable rank of Δ(W_Q W_Kᵀ) at the last snapshot, mean over layers and heads."""
    ranks = summary["stable_rank"].sel(model=model, n=n).isel(product=0).values  # (seed, snapshot, layer, head)
    last = int(np.flatnonzero(summary["snapshot_step"].sel(model=model).values >= 0)[-1])
    return np.nanmean(ranks[:, last].reshape(ranks.shape[0], -1), axis=1)


def _smallest_alpha(summary: xr.Dataset) -> int:
    return int(np.argmin(summary["alpha"].values))


def metrics(summary: xr.Dataset) -> dict:
    """Headline numbers (module docstring) and a ``detail`` object."""
    reached = {m: float(summary["n_reached_median"].sel(model=m)) for m in summary["model"].values}
    plain, identity = reached.get("transformer", np.nan), reached.get("transformer_identity", np.nan)
    out = {"n_transformer": _json(plain), "n_transformer_identity": _json(identity),
           "identity_gain": _json(plain / identity),
           "mlp_loss_at_max_n": _json(np.median(_loss_at(summary, "mlp", "max"))) if _has(summary, "mlp") else None,
           "mlp_xxt_loss_at_min_n": (_json(np.median(_loss_at(summary, "mlp_xxt", "min")))
                                     if _has(summary, "mlp_xxt") else None)}
    if "toy_stages" in summary:
        a = _smallest_alpha(summary)
        increments = summary["toy_rank_increment"].values[a]
        out["toy_stages_small_alpha"] = int(summary["toy_stages"].values[a])
        out["rank_increment_max"] = int(increments.max()) if (increments >= 0).any() else None
    else:
        out["toy_stages_small_alpha"] = out["rank_increment_max"] = None
    ratio = _rank_ratio(summary)
    out["final_stable_rank_small_vs_default_init"] = _json(np.median(ratio)) if ratio.size else None
    out["detail"] = _detail(summary, reached, ratio)
    return out


def _detail(summary: xr.Dataset, reached: dict, ratio: np.ndarray) -> dict:
    detail = {"loss_threshold": float(summary.attrs["loss_threshold"]), "chance_loss": _json(summary["chance_loss"]),
              "template_set": summary.attrs["template_set"], "n": [int(n) for n in summary["n"].values],
              "median_test_loss": {str(m): [_json(v) for v in summary["median_test_loss"].sel(model=m).values]
                                   for m in summary["model"].values},
              "n_reached_median": {str(m): _json(v) for m, v in reached.items()},
              "n_reached_per_seed": {str(m): [_json(v) for v in summary["n_reached"].sel(model=m).values]
                                     for m in summary["model"].values}}
    if "toy_stages" in summary:
        detail["toy"] = {f"{alpha:g}": {"stages": int(summary["toy_stages"].values[e]),
                                        "stage_tau": [_json(v) for v in summary["toy_stage_tau"].values[e]
                                                      if np.isfinite(v)],
                                        "rank_increments": [int(v) for v in summary["toy_rank_increment"].values[e]
                                                            if v >= 0]}
                         for e, alpha in enumerate(summary["alpha"].values)}
    if ratio.size:
        detail["final_stable_rank_ratio_per_seed"] = [_json(v) for v in ratio]
    return detail


def claims(summary: xr.Dataset) -> list[Claim]:
    """The papers' claims beside our values (per seed), references and chance levels."""
    chance = float(summary["chance_loss"])
    threshold = float(summary.attrs["loss_threshold"])
    ns = summary["n"].values
    out = []

    def per_seed_n(model: str) -> np.ndarray:
        return summary["n_reached"].sel(model=model).values if _has(summary, model) else np.array([])

    out.append(Claim("n_transformer", "A transformer trained on enough training symbols generalises to unseen "
                     f"symbols: its test loss falls below {threshold:g} (chance {chance:g}) at some n of the sweep.",
                     SYMBOLS_PAPER, per_seed_n("transformer"), reference=PAPER_N_TRANSFORMER, chance=None, op="<=",
                     threshold=float(ns.max()), rule=f"median smallest n ≤ the sweep's largest n ({int(ns.max())})"))
    out.append(Claim("n_transformer_identity", "With the identity scalars a·XXᵀ and b·I per head, the transformer "
                     f"generalises from few symbols (test loss < {threshold:g} by n ≈ 64–100).", SYMBOLS_PAPER,
                     per_seed_n("transformer_identity"), reference=PAPER_N_IDENTITY, chance=None, op="<=",
                     threshold=128.0, rule="median smallest n ≤ 128"))
    gain = (per_seed_n("transformer") / per_seed_n("transformer_identity")
            if _has(summary, "transformer") and _has(summary, "transformer_identity") else np.array([]))
    out.append(Claim("identity_gain", "The identity scalars cut the training symbols a transformer needs to "
                     "generalise by a large factor (plain n over identity n).", SYMBOLS_PAPER, gain,
                     reference=PAPER_GAIN, chance=1.0, op=">=", threshold=4.0,
                     rule="median ratio ≥ 4 (chance: no effect, 1); NaN where one never generalises"))
    out.append(Claim("mlp_loss_at_max_n", "An MLP on concatenated one-hots never generalises to unseen symbols: its "
                     "test loss stays at the constant predictor's, however many training symbols.", SYMBOLS_PAPER,
                     _loss_at(summary, "mlp", "max") if _has(summary, "mlp") else np.array([]), reference=chance,
                     chance=None, op="within", threshold=0.2 * chance,
                     rule=f"median within 20% of the constant predictor's loss {chance:g} at the largest n"))
    out.append(Claim("mlp_xxt_loss_at_min_n", "Appending the pairwise equalities XXᵀ to the MLP's input makes it "
                     "generalise from very few symbols (≈ 0.13 at n = 4).", SYMBOLS_PAPER,
                     _loss_at(summary, "mlp_xxt", "min") if _has(summary, "mlp_xxt") else np.array([]),
                     reference=PAPER_MLP_XXT, chance=chance, op="<=", threshold=0.25,
                     rule="median ≤ 0.25 at the smallest n, every seed below chance", above_chance=True))
    if "toy_stages" in summary:
        a = _smallest_alpha(summary)
        d = summary.sizes["entry"]
        increments = summary["toy_rank_increment"].values[a]
        out.append(Claim("toy_stages_small_alpha", f"From a small init (α = {summary['alpha'].values[a]:g}) the "
                         "diagonal attention head learns in stages, one per teacher direction.", RANK_PAPER,
                         np.array([summary["toy_stages"].values[a]], dtype=np.float64), reference=float(d),
                         chance=None, op="within", threshold=0.0, rule=f"exactly {d} stages"))
        out.append(Claim("rank_increment_max", "The rank of Δ(W_K W_Qᵀ) grows by at most one per stage.", RANK_PAPER,
                         np.array([increments.max() if (increments >= 0).any() else np.nan], dtype=np.float64),
                         reference=1.0, chance=float(d), op="<=", threshold=1.0,
                         rule=f"≤ 1 in every stage (chance: all {d} entries at once)"))
    out.append(Claim("final_stable_rank_small_vs_default_init", "A transformer trained from a smaller init ends "
                     "with lower-rank attention updates: the final stable rank of Δ(W_Q W_Kᵀ), small over default "
                     "init.", RANK_PAPER, _rank_ratio(summary), reference=None, chance=1.0, op="<=", threshold=0.9,
                     rule="median ratio ≤ 0.9 (chance: init makes no difference, 1)"))
    return out
