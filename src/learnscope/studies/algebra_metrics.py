"""Metrics of the ``algebra`` study: headline numbers and the ``detail`` behind them.

Headline keys (median over seeds, at the last snapshot; null where the experiment is not
in params.yaml):

- ``single_freq_frac``: margin experiment (modular addition, L_{2,3}), median over active
  neurons of the energy fraction in the neuron's best frequency;
- ``freq_coverage``: margin experiment, fraction of the (p − 1)/2 frequencies that are
  some active neuron's best;
- ``margin_ratio``: margin experiment, final normalised margin ÷ the maximum γ*;
- ``irrep_frac``: irreps experiment, median over active neurons of the best irrep's
  energy fraction;
- ``grok_delay_ratio``: grokking experiment, first step with test accuracy ≥ threshold ÷
  first step with train accuracy ≥ threshold (null for a seed that never reaches it);
- ``parity_support_frac``: parity experiment, fraction of the first-layer weight mass on
  the k relevant bits.

``detail`` has the contrast experiment's (plain L2) values of the first three, the
chance levels, every per-seed value, the irreps learned per seed and the grokking steps.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.metric_values import json_value as _json


def _median(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(np.median(values[np.isfinite(values)])) if np.isfinite(values).any() else np.nan


def table_values(summary: xr.Dataset, role: str) -> dict:
    """Per-seed final values of a group-table experiment (``role``)."""
    out = {"best_frac": summary[f"{role}_best_frac"].values[:, -1],
           "coverage": summary[f"{role}_coverage"].values[:, -1],
           "chance_best_frac": float(summary[f"{role}_chance_best_frac"])}
    if f"{role}_normalised_margin" in summary and f"{role}_max_margin" in summary:
        out["margin_ratio"] = summary[f"{role}_normalised_margin"].values[:, -1] / float(summary[f"{role}_max_margin"])
    return out


def irreps_learned(summary: xr.Dataset, role: str) -> list[list[str]]:
    """Per seed, the irreps that are the best of some active unit, most units first."""
    names = summary[f"{role}_irrep"].values
    out = []
    for frac, active in zip(summary[f"{role}_energy_frac"].values, summary[f"{role}_active"].values.astype(bool)):
        counts = np.bincount(frac[active].argmax(-1), minlength=len(names))
        out.append([f"{names[i]}:{counts[i]}" for i in np.argsort(-counts, kind="stable") if counts[i]])
    return out


def grok_steps(summary: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed: first steps with train and test accuracy >= threshold, and their ratio
    (NaN where either is never reached, or train accuracy already is at step 0)."""
    train = summary["grokking_train_reach_step"].values
    test = summary["grokking_test_reach_step"].values
    with np.errstate(divide="ignore", invalid="ignore"):
        return train, test, np.where(train > 0, test / train, np.nan)


def metrics(summary: xr.Dataset) -> dict:
    """Headline numbers (see the module docstring); everything else under ``detail``."""
    roles = summary.attrs["experiments"].split(",")
    out = dict.fromkeys(("single_freq_frac", "freq_coverage", "margin_ratio", "irrep_frac", "grok_delay_ratio",
                         "parity_support_frac"))
    detail: dict = {"accuracy_threshold": float(summary.attrs["accuracy_threshold"]),
                    "active_fraction": float(summary.attrs["active_fraction"])}
    for role in ("margin", "contrast", "irreps"):
        if role not in roles:
            continue
        values = table_values(summary, role)
        detail[role] = {"task": summary.attrs[f"{role}_task"], "best_frac_per_seed": [_json(v) for v in values["best_frac"]],
                        "coverage_per_seed": [_json(v) for v in values["coverage"]],
                        "chance_best_frac": _json(values["chance_best_frac"]),
                        "best_frac": _json(_median(values["best_frac"])), "coverage": _json(_median(values["coverage"])),
                        "irreps_learned_per_seed": irreps_learned(summary, role)}
        if "margin_ratio" in values:
            detail[role] |= {"margin_ratio_per_seed": [_json(v) for v in values["margin_ratio"]],
                             "margin_ratio": _json(_median(values["margin_ratio"])),
                             "max_margin": float(summary[f"{role}_max_margin"])}
    if "margin" in roles:
        out["single_freq_frac"] = detail["margin"]["best_frac"]
        out["freq_coverage"] = detail["margin"]["coverage"]
        out["margin_ratio"] = detail["margin"].get("margin_ratio")
    if "irreps" in roles:
        out["irrep_frac"] = detail["irreps"]["best_frac"]
    if "grokking" in roles:
        train, test, ratio = grok_steps(summary)
        out["grok_delay_ratio"] = _json(_median(ratio))
        detail["grokking"] = {"task": summary.attrs["grokking_task"],
                              "train_reach_step_per_seed": [_json(v) for v in train],
                              "test_reach_step_per_seed": [_json(v) for v in test],
                              "delay_ratio_per_seed": [_json(v) for v in ratio],
                              "final_test_acc_per_seed": [_json(v) for v in summary["grokking_test_acc"].values[:, -1]],
                              "key_frequencies_per_seed": key_frequencies(summary)}
    if "parity" in roles:
        final = summary["parity_support_frac"].values[:, -1]
        out["parity_support_frac"] = _json(_median(final))
        detail["parity"] = {"task": summary.attrs["parity_task"], "support_frac_per_seed": [_json(v) for v in final]}
    out["detail"] = detail
    return out


def key_frequencies(summary: xr.Dataset, share: float = 0.5) -> list[list[str]]:
    """Per seed, the fewest irreps (frequencies) holding ``share`` of the embedding's energy
    at the last snapshot, largest first."""
    names = summary["grokking_irrep"].values
    out = []
    for frac in summary["grokking_embed_irrep_frac"].values[:, -1]:
        order = np.argsort(-frac, kind="stable")
        n = int(np.searchsorted(np.cumsum(frac[order]), share)) + 1
        out.append([str(names[i]) for i in order[:n]])
    return out
