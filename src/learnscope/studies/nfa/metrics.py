"""The nfa study's headline metrics and claims, read from its table (``analysis.summarise``).

Headline NFA keys are the main task's (the first listed) at the largest width, medians over
seeds; the RFM keys are the demo task's; ``detail`` holds every task.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from learnscope.studies.claims import Claim
from learnscope.studies.nfa.analysis import MAIN

PAPER = "Radhakrishnan, Beaglehole, Pandit, Belkin, Science 2024"
N_TOP = 3  # rfm_top_coords: the largest diagonal entries of M


def top_coords(summary: xr.Dataset, task: str) -> list[int]:
    """The N_TOP coordinates with the largest final diag(M) of the task's RFM, sorted."""
    diag = summary["rfm_diag"].sel(task=task).isel(iteration=-1).values
    diag = np.where(np.isfinite(diag), diag, -np.inf)
    return sorted(int(i) for i in np.argsort(-diag, kind="stable")[:N_TOP])


def support_of(summary: xr.Dataset, task: str) -> list[int]:
    return [int(i) for i in np.flatnonzero(summary["support"].sel(task=task).values == 1)]


def _task_detail(summary: xr.Dataset, task: str) -> dict:
    widest = int(summary["width"].max())
    sel = summary.sel(task=task, width=widest)
    mse = summary["rfm_test_mse"].sel(task=task).values
    return {"mlp_test_acc": float(sel["test_acc"].median("seed")),
            "rfm_test_acc": float(summary["rfm_test_acc"].sel(task=task).values[-1]),
            "rfm_test_mse": [float(v) for v in mse],
            "rfm_top_coords": top_coords(summary, task), "support": support_of(summary, task),
            "nfa_corr_per_layer": [float(v) for v in sel["layer_nfa"].median("seed").values],
            "nfa_corr_init_per_layer": [float(v) for v in sel["layer_nfa_init"].median("seed").values],
            "nfa_corr_rfm_vs_mlp": float(sel["rfm_vs_mlp"].median("seed")),
            "nfa_corr_rfm_vs_mlp_init": float(sel["rfm_vs_mlp_init"].median("seed")),
            "nfa_corr_rfm_vs_mlp_dW": float(sel["rfm_vs_mlp_all"].sel(
                weight_form="dW", agop_power=MAIN["agop_power"], metric=MAIN["metric"]).median("seed"))}


def digits_task(summary: xr.Dataset) -> str | None:
    """The first task on scikit-learn's digits, if any."""
    tasks = [str(t) for t, f in zip(summary["task"].values, summary["task_family"].values) if f == "Digits"]
    return tasks[0] if tasks else None


def metrics(summary: xr.Dataset) -> dict:
    """Headline keys (module docstring) and ``detail`` per task."""
    main, demo, digits = summary.attrs["main_task"], summary.attrs["demo_task"], digits_task(summary)
    detail = {str(t): _task_detail(summary, str(t)) for t in summary["task"].values}
    head, rfm = detail[main], detail[demo]
    out = {"rfm_test_mse_iter0": rfm["rfm_test_mse"][0], "rfm_test_mse_final": rfm["rfm_test_mse"][-1],
           "rfm_top_coords": rfm["rfm_top_coords"],
           "nfa_corr_rfm_vs_mlp": head["nfa_corr_rfm_vs_mlp"], "nfa_corr_rfm_vs_mlp_init": head["nfa_corr_rfm_vs_mlp_init"],
           "nfa_corr_per_layer": head["nfa_corr_per_layer"], "nfa_corr_init_per_layer": head["nfa_corr_init_per_layer"]}
    if digits is not None:
        out["digits_test_acc"] = {"mlp": detail[digits]["mlp_test_acc"], "rfm": detail[digits]["rfm_test_acc"]}
    return {**out, "detail": {"main": main, "demo": demo, **detail}}


def claims(summary: xr.Dataset) -> list[Claim]:
    """The RFM demo's claims on the demo task; the ansatz per layer and the same-features claim
    on the main task at the largest width (chance: the init baselines); digits, if present."""
    main, demo, digits = summary.attrs["main_task"], summary.attrs["demo_task"], digits_task(summary)
    widest = int(summary["width"].max())
    sel = summary.sel(task=main, width=widest)
    mse = summary["rfm_test_mse"].sel(task=demo).values
    support = support_of(summary, demo)
    n_in = int(np.isfinite(summary["support"].sel(task=demo).values).sum())
    out = [
        Claim("rfm_mse_falls", f"On the demo target ({demo}), the RFM's learned metric cuts the test MSE of plain "
              "Laplace kernel ridge regression several-fold within 5 iterations.", PAPER,
              np.array([mse[0] / mse[-1]]), reference=None, chance=None, op=">=", threshold=3.0,
              rule="test MSE at iteration 0 ÷ final ≥ 3"),
        Claim("rfm_top_coords", f"The RFM's M concentrates on the target's coordinates {support}: its "
              f"{N_TOP} largest diagonal entries are exactly those.", PAPER,
              np.array([float(top_coords(summary, demo) == support)]), reference=1.0,
              chance=1.0 / math.comb(n_in, len(support)) if len(support) == N_TOP else None, op=">=", threshold=1.0,
              rule=f"top-{N_TOP} diag(M) = the support (chance: a random set of {N_TOP} coordinates)"),
        Claim("nfa_corr_rfm_vs_mlp", f"The RFM and a trained network learn the same features on {main}: the "
              "network's W1ᵀW1 correlates with the RFM's M^½ beyond what the initial weights give.", PAPER,
              sel["rfm_vs_mlp"].values, reference=1.0, chance=float(sel["rfm_vs_mlp_init"].median("seed")),
              op=">=", threshold=0.9, rule="median ≥ 0.9 and every seed above the init baseline",
              above_chance=True),
    ]
    for layer in sel["hidden_layer"].values:
        at = sel.sel(hidden_layer=layer)
        out.append(Claim(f"nfa_corr_layer{int(layer)}", f"Hidden layer {int(layer)} of a trained MLP on {main} "
                         f"follows the ansatz: W{int(layer) + 1}ᵀW{int(layer) + 1} ∝ AGOP^½ w.r.t. the layer's input.",
                         PAPER, at["layer_nfa"].values, reference=1.0, chance=float(at["layer_nfa_init"].median("seed")),
                         op=">=", threshold=0.9, rule="median ≥ 0.9 and every seed above the init baseline",
                         above_chance=True))
    if digits is not None:
        at = summary.sel(task=digits, width=widest)
        rfm_acc = float(summary["rfm_test_acc"].sel(task=digits).values[-1])
        out.append(Claim("digits_rfm_vs_mlp", "On real data (8 x 8 digits) the RFM is as accurate as a trained "
                         "network.", PAPER, rfm_acc - at["test_acc"].values, reference=0.0, chance=None, op=">=",
                         threshold=-0.01, rule="RFM test accuracy − the MLP's ≥ −0.01 (median over MLP seeds)"))
    return out
