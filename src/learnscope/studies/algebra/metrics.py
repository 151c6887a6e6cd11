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

from learnscope.studies.algebra.analysis import CLEAN_FRACTION
from learnscope.studies.claims import Claim
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


MARGIN_PAPER = "Morwani, Edelman, Oncescu, Zhao, Kakade, ICLR 2024"
IRREPS_PAPER = "Chughtai, Chan, Nanda, ICML 2023"
GROKKING_PAPER = "Power, Burda, Edwards, Babuschkin, Misra, 2022"


def _final(summary: xr.Dataset, name: str) -> np.ndarray:
    return summary[name].values[:, -1] if name in summary else np.array([])


def _scalar(summary: xr.Dataset, name: str) -> float | None:
    return float(summary[name]) if name in summary else None


def claims(summary: xr.Dataset) -> list[Claim]:
    """Chance levels come from random networks with as many active units (``analysis``); an
    experiment left out of params.yaml gives claims that are ``not measured``."""
    roles = summary.attrs["experiments"].split(",")
    ratio = {role: table_values(summary, role).get("margin_ratio", np.array([]))
             if role in roles else np.array([]) for role in ("margin", "contrast")}
    grok = grok_steps(summary)[2] if "grokking" in roles else np.array([])
    return [
        Claim("single_freq_frac", "Max-margin neurons of a network trained on modular addition with the L_{2,3} "
              "penalty are single-frequency: their Fourier energy is in one frequency.", MARGIN_PAPER,
              _final(summary, "margin_best_frac"), reference=1.0, chance=_scalar(summary, "margin_chance_best_frac"),
              op=">=", threshold=0.9, rule="median ≥ 0.9 and every seed above random units", above_chance=True),
        Claim("freq_coverage", "All (p − 1)/2 frequencies are used: each is the best frequency of some active "
              "neuron.", MARGIN_PAPER, _final(summary, "margin_coverage"), reference=1.0,
              chance=_scalar(summary, "margin_chance_coverage"), op=">=", threshold=0.9,
              rule="median ≥ 0.9 and every seed above random networks", above_chance=True),
        Claim("clean_freq_coverage", f"All (p − 1)/2 frequencies are used by single-frequency neurons (best "
              f"frequency holding ≥ {CLEAN_FRACTION} of the neuron's energy).", MARGIN_PAPER,
              _final(summary, "margin_clean_coverage"), reference=1.0,
              chance=_scalar(summary, "margin_chance_clean_coverage"), op=">=", threshold=0.9,
              rule="median ≥ 0.9 and every seed above random networks", above_chance=True),
        Claim("margin_ratio", "The L_{2,3}-normalised margin approaches the maximum γ* derived for modular "
              "addition.", MARGIN_PAPER, ratio["margin"], reference=1.0, chance=None, op=">=", threshold=0.9,
              rule="median final margin ≥ 0.9 γ*"),
        Claim("l2_margin_ratio", "With plain L2 weight decay instead of the L_{2,3} penalty the margin stays far "
              "from the maximum.", MARGIN_PAPER, ratio["contrast"], reference=None, chance=None, op="<=",
              threshold=0.8, rule="median final margin ≤ 0.8 γ*"),
        Claim("irrep_frac", "Neurons of a network trained on a finite group's table align with one real "
              "irreducible representation.", IRREPS_PAPER, _final(summary, "irreps_best_frac"), reference=1.0,
              chance=_scalar(summary, "irreps_chance_best_frac"), op=">=", threshold=0.9,
              rule="median ≥ 0.9 and every seed above random units", above_chance=True),
        Claim("grok_delay_ratio", "Grokking: test accuracy reaches the threshold long after training accuracy.",
              GROKKING_PAPER, grok, reference=None, chance=None, op=">=", threshold=10.0,
              rule="median (test step ÷ train step) ≥ 10"),
        Claim("parity_support_frac", "Max-margin neurons on a sparse parity put their weight on the k relevant "
              "bits only.", MARGIN_PAPER, _final(summary, "parity_support_frac"), reference=1.0,
              chance=_scalar(summary, "parity_support_chance"), op=">=", threshold=0.9,
              rule="median ≥ 0.9 and every seed above weight spread evenly (k / n)", above_chance=True),
    ]
