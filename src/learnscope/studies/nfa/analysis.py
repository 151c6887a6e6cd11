"""Study ``nfa``: the Neural Feature Ansatz at every layer and on real data, and the Recursive
Feature Machine that learns features by the same AGOP update (Radhakrishnan, Beaglehole,
Pandit, Belkin, "Mechanism for feature learning in neural networks and backpropagation-free
machine learning models", Science 2024).

- Per layer: each hidden weight matrix's W_lᵀW_l against the AGOP of the output with respect
  to that layer's input (``features.nfa.LayerNfaMeasure``), main convention Pearson with
  AGOP^½, beside the init baseline corr(W_l,0ᵀW_l,0, AGOP_l,T).
- RFM (``learnscope.rfm``) on every task: test error and diag(M) over its iterations; on the
  demo task (x0·x1·1[x5 > 0]) the test MSE must fall several-fold and M concentrate on the
  support.
- Same features: corr(W1ᵀW1 of the trained MLP, M^½ of the RFM on the same task), beside the
  init baseline corr(W1,0ᵀW1,0, M^½).
- Digits (scikit-learn's bundled images): MLP and RFM test accuracy; diag(M) and
  diag(W1ᵀW1) as 8 x 8 images.

The table is ``summarise``'s; the headline keys and claims are ``metrics``'.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from learnscope import store
from learnscope.features.nfa import AGOP_POWERS, MAIN_CONVENTION, METRICS, WEIGHT_FORMS, matrix_correlations
from learnscope.runspec import ComputeConfig
from learnscope.studies.arrays import pad
from learnscope.studies.base import LoadedRuns
from learnscope.studies.nfa.config import NfaConfig

MAIN = dict(zip(("weight_form", "agop_power", "metric"), MAIN_CONVENTION))


def load(study: str, cfg: NfaConfig, inputs: list[str]) -> LoadedRuns:
    """Each run's curves and features, and its task's RFM file, by (task, width, seed)."""
    rfms = {task: store.read(store.rfm_path(study, task), "rfm", expect={"task_name": task}) for task in cfg.tasks}
    return {coords: {"curves": store.read(store.run_path(spec.name, "curves.nc"), "curves", expect={"run": spec.name}),
                     "features": store.read(store.run_path(spec.name, "features.nc"), "features",
                                            expect={"run": spec.name}),
                     "rfm": rfms[coords[0]]}
            for coords, spec in cfg.runs(study, ComputeConfig()).items()}


def _grid(cfg: NfaConfig, get) -> np.ndarray:
    """Stack ``get((task, width, seed))`` over (task, width, seed)."""
    return np.array([[[get((t, w, s)) for s in cfg.seeds] for w in cfg.widths] for t in cfg.tasks])


def _rfm_vs_mlp(features: xr.Dataset, metric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """corr(F(W1_T), G(M)) for F in WEIGHT_FORMS (W1ᵀW1, ΔW1ᵀΔW1), and the init baseline
    corr(W1_0ᵀW1_0, G(M)): (weight_form, agop_power, metric), (agop_power, metric)."""
    m = torch.from_numpy(metric)
    final = {"W": features["nfm"].values[-1], "dW": features["dnfm"].values[-1]}
    table = np.stack([matrix_correlations(torch.from_numpy(final[form]), m).numpy() for form in WEIGHT_FORMS])
    return table, matrix_correlations(torch.from_numpy(features["nfm"].values[0]), m).numpy()


def summarise(study: str, cfg: NfaConfig, runs: LoadedRuns) -> xr.Dataset:
    """The study's table from each run's curves and features and each task's RFM."""
    first = next(iter(runs.values()))
    rfm = {t: runs[t, cfg.widths[0], cfg.seeds[0]]["rfm"] for t in cfg.tasks}
    feat = {n: r["features"] for n, r in runs.items()}
    n_in = max(r.sizes["input"] for r in rfm.values())
    n_iter = cfg.rfm.iterations + 1
    n_layers = first["features"].sizes["hidden_layer"]
    layer_main = {"agop_power": MAIN["agop_power"], "metric": MAIN["metric"]}
    vs = {n: _rfm_vs_mlp(f, rfm[n[0]]["metric"].values[-1]) for n, f in feat.items()}
    dims, task = ("task", "width", "seed"), ("task",)
    width, seed = max(cfg.widths), cfg.seeds[0]
    data = {
        "test_acc": (dims, _grid(cfg, lambda n: feat[n]["test_acc"].values[-1]),
                     {"long_name": "the MLP's final test accuracy", "units": "1"}),
        "test_loss": (dims, _grid(cfg, lambda n: feat[n]["test_loss"].values[-1]),
                      {"long_name": "the MLP's final test loss"}),
        "curve_test_loss": (dims + ("eval_step",), _grid(cfg, lambda n: runs[n]["curves"]["test_loss"].values),
                            {"long_name": "the MLP's test loss at eval steps"}),
        "layer_nfa_curve": (dims + ("step", "hidden_layer"), _grid(cfg, lambda n: feat[n]["layer_nfa_corr"].sel(**MAIN).values),
                            {"long_name": "corr(W_lᵀW_l, AGOP_l^½) over training, per hidden layer", "units": "1"}),
        "layer_nfa_init_curve": (dims + ("step", "hidden_layer"), _grid(cfg, lambda n: feat[n]["layer_nfa_corr_init"].sel(
            **layer_main).values), {"long_name": "init baseline corr(W_l,0ᵀW_l,0, AGOP_l,t^½)", "units": "1"}),
        "layer_nfa_final": (dims + ("hidden_layer", "weight_form", "agop_power", "metric"),
                            _grid(cfg, lambda n: feat[n]["layer_nfa_corr"].values[-1]),
                            {"long_name": "final per-layer NFA correlation, every convention", "units": "1"}),
        "rfm_vs_mlp_all": (dims + ("weight_form", "agop_power", "metric"), _grid(cfg, lambda n: vs[n][0]),
                           {"long_name": "corr(F(W1) of the trained MLP, G(M) of the RFM), every convention",
                            "units": "1"}),
        "rfm_vs_mlp_init_all": (dims + ("agop_power", "metric"), _grid(cfg, lambda n: vs[n][1]),
                                {"long_name": "init baseline corr(W1_0ᵀW1_0, G(M)), every convention", "units": "1"}),
        "rfm_test_mse": (task + ("iteration",), np.stack([rfm[t]["test_mse"].values for t in cfg.tasks]),
                         {"long_name": "the RFM's test MSE per iteration (0: M = I)"}),
        "rfm_test_acc": (task + ("iteration",), np.stack([rfm[t]["test_acc"].values for t in cfg.tasks]),
                         {"long_name": "the RFM's test accuracy per iteration", "units": "1"}),
        "rfm_diag": (task + ("iteration", "input"), np.stack([pad(np.diagonal(rfm[t]["metric"].values, axis1=1, axis2=2),
                                                                  (n_iter, n_in)) for t in cfg.tasks]),
                     {"long_name": "diag(M) of the RFM per iteration (NaN beyond a task's inputs)"}),
        "support": (task + ("input",), np.stack([pad(rfm[t]["support"].values, (n_in,)) for t in cfg.tasks]),
                    {"long_name": "1 where the target depends on the coordinate (NaN beyond a task's inputs)",
                     "units": "1"}),
        "rfm_metric": (task + ("in_a", "in_b"), np.stack([pad(rfm[t]["metric"].values[-1], (n_in, n_in))
                                                          for t in cfg.tasks]),
                       {"long_name": "the RFM's final M (NaN beyond a task's inputs)"}),
        "nfm_final": (task + ("in_a", "in_b"), np.stack([pad(feat[t, width, seed]["nfm"].values[-1], (n_in, n_in))
                                                         for t in cfg.tasks]),
                      {"long_name": f"final W1ᵀW1 of the seed-{seed} MLP at width {width} (NaN beyond a task's inputs)"}),
        "dnfm_final": (task + ("in_a", "in_b"), np.stack([pad(feat[t, width, seed]["dnfm"].values[-1], (n_in, n_in))
                                                          for t in cfg.tasks]),
                       {"long_name": f"final (W1 − W1_0)ᵀ(W1 − W1_0) of the seed-{seed} MLP at width {width} "
                        "(NaN beyond a task's inputs)"}),
    }
    ds = xr.Dataset(data, coords={
        "task": list(cfg.tasks), "width": list(cfg.widths), "seed": list(cfg.seeds),
        "task_family": ("task", np.array([type(t).__name__ for t in cfg.tasks.values()], dtype=object),
                        {"long_name": "the task's class"}),
        "step": ("step", first["features"]["step"].values, {"long_name": "snapshot step"}),
        "eval_step": ("eval_step", first["curves"]["step"].values, {"long_name": "evaluation step"}),
        "hidden_layer": ("hidden_layer", np.arange(n_layers), {"long_name": "hidden weight matrix, 0-based (0: on the input)"}),
        "iteration": ("iteration", np.arange(n_iter), {"long_name": "RFM iteration (0: M = I)"}),
        "input": np.arange(n_in), "in_a": np.arange(n_in), "in_b": np.arange(n_in),
        "weight_form": np.array(WEIGHT_FORMS, dtype=object), "agop_power": np.array(AGOP_POWERS, dtype=object),
        "metric": np.array(METRICS, dtype=object)},
        attrs={"study": study, "main_task": next(iter(cfg.tasks)), "demo_task": cfg.demo_task,
               "main_convention": ",".join(MAIN_CONVENTION)})
    ds["layer_nfa"] = ds["layer_nfa_curve"].isel(step=-1).assign_attrs(
        long_name="final corr(W_lᵀW_l, AGOP_l^½)", units="1")
    ds["layer_nfa_init"] = ds["layer_nfa_init_curve"].isel(step=-1).assign_attrs(
        long_name="init baseline corr(W_l,0ᵀW_l,0, AGOP_l,T^½)", units="1")
    ds["rfm_vs_mlp"] = ds["rfm_vs_mlp_all"].sel(**MAIN, drop=True).assign_attrs(
        long_name="corr(W1ᵀW1 of the trained MLP, M^½ of the RFM)", units="1")
    ds["rfm_vs_mlp_init"] = ds["rfm_vs_mlp_init_all"].sel(**layer_main, drop=True).assign_attrs(
        long_name="init baseline corr(W1_0ᵀW1_0, M^½)", units="1")
    return ds
