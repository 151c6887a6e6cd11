"""Study ``parity``: does a trained MLP's first layer follow the Neural Feature Ansatz, and
can its AGOP guide a decision tree to the target's hidden support?

Reproduces, at laptop scale:
- Radhakrishnan, Beaglehole, Pandit, Belkin, "Mechanism for feature learning in neural
  networks and backpropagation-free machine learning models", Science 2024: after training,
  W1ᵀW1 is proportional to AGOP^{1/2} (main convention: Pearson with AGOP^{1/2}), compared
  with the init baseline corr(W0ᵀW0, AGOP_T) (how much of the match needs no training).
- Boix-Adsera, "Towards a theory of model distillation", 2024: greedy CART cannot find a
  sparse parity's support (no bit carries marginal information); the network's AGOP can.

Headline metrics refer to the study's main task (the first listed in params.yaml) at its
largest width, median over seeds; ``detail`` holds every task and width.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.features.nfa import MAIN_CONVENTION
from learnscope.params import StudyConfig
from learnscope.runspec import run_name

MAIN = dict(zip(("weight_form", "agop_power", "metric"), MAIN_CONVENTION))


def _grid(cfg: StudyConfig, study: str, get) -> np.ndarray:
    """Stack ``get(run_name)`` over (task, width, seed)."""
    return np.array([[[get(run_name(study, t, w, s)) for s in cfg.seeds] for w in cfg.widths]
                     for t in cfg.tasks])


def summarise(study: str, cfg: StudyConfig, runs: dict[str, dict[str, xr.Dataset]]) -> xr.Dataset:
    """The study's table. ``runs[name]`` holds that run's ``curves``, ``features`` and ``tree``."""
    curves = {n: r["curves"] for n, r in runs.items()}
    feat = {n: r["features"] for n, r in runs.items()}
    tree = {n: r["tree"] for n, r in runs.items()}
    first = next(iter(runs.values()))
    max_depth = int(first["tree"]["depth"].values[-1])

    def supp_recovered(name: str) -> list[int]:
        t = tree[name]
        used = t["coords_used"].sel(depth=max_depth).values.astype(bool)  # (variant, input)
        return [int(np.array_equal(u, t["support"].values.astype(bool))) for u in used]

    dims = ("task", "width", "seed")
    ds = xr.Dataset(
        {
            "test_acc": (dims, _grid(cfg, study, lambda n: feat[n]["test_acc"].values[-1]),
                         {"long_name": "final test accuracy", "units": "1"}),
            "nfa_corr_curve": (dims + ("step",), _grid(cfg, study, lambda n: feat[n]["nfa_corr"].sel(**MAIN).values),
                               {"long_name": "corr(W1ᵀW1, AGOP^1/2) over training (main convention)", "units": "1"}),
            "nfa_corr_init_curve": (dims + ("step",), _grid(cfg, study, lambda n: feat[n]["nfa_corr_init"].sel(
                agop_power=MAIN["agop_power"], metric=MAIN["metric"]).values),
                {"long_name": "corr(W0ᵀW0, AGOP_t^1/2): the init baseline", "units": "1"}),
            "nfa_corr_final": (dims + ("weight_form", "agop_power", "metric"),
                               _grid(cfg, study, lambda n: feat[n]["nfa_corr"].values[-1]),
                               {"long_name": "final NFA correlation, every convention", "units": "1"}),
            "dw_stable_rank": (dims + ("step",), _grid(cfg, study, lambda n: feat[n]["dw_stable_rank"].values[:, 0]),
                               {"long_name": "stable rank of W1_t − W1_0", "units": "1"}),
            "train_loss": (dims + ("step",), _grid(cfg, study, lambda n: feat[n]["train_loss"].values),
                           {"long_name": "training loss at snapshots"}),
            "test_loss": (dims + ("step",), _grid(cfg, study, lambda n: feat[n]["test_loss"].values),
                          {"long_name": "test loss at snapshots"}),
            "curve_train_loss": (dims + ("eval_step",), _grid(cfg, study, lambda n: curves[n]["train_loss"].values),
                                 {"long_name": "training loss at eval steps"}),
            "curve_test_loss": (dims + ("eval_step",), _grid(cfg, study, lambda n: curves[n]["test_loss"].values),
                                {"long_name": "test loss at eval steps"}),
            "tree_fidelity": (dims + ("variant", "depth"), _grid(cfg, study, lambda n: tree[n]["fidelity"].values),
                              {"long_name": "fidelity of the distilled tree to the network", "units": "1"}),
            "tree_accuracy": (dims + ("variant", "depth"), _grid(cfg, study, lambda n: tree[n]["accuracy"].values),
                              {"long_name": "accuracy of the distilled tree on true labels", "units": "1"}),
            "support_recovered": (dims + ("variant",), _grid(cfg, study, supp_recovered).astype(np.int8),
                                  {"long_name": f"1 if the depth-{max_depth} tree splits on exactly the true support",
                                   "units": "1"}),
        },
        coords={"task": list(cfg.tasks), "width": list(cfg.widths), "seed": list(cfg.seeds),
                "step": ("step", first["features"]["step"].values, {"long_name": "snapshot step"}),
                "eval_step": ("eval_step", first["curves"]["step"].values, {"long_name": "evaluation step"}),
                "weight_form": first["features"]["weight_form"].values,
                "agop_power": first["features"]["agop_power"].values,
                "metric": first["features"]["metric"].values,
                "variant": first["tree"]["variant"].values, "depth": first["tree"]["depth"].values},
        attrs={"study": study, "main_task": next(iter(cfg.tasks)),
               "main_convention": ",".join(MAIN_CONVENTION)},
    )
    ds["nfa_corr"] = ds["nfa_corr_curve"].isel(step=-1).assign_attrs(
        long_name="final corr(W1ᵀW1, AGOP^1/2)", units="1")
    ds["nfa_corr_init"] = ds["nfa_corr_init_curve"].isel(step=-1).assign_attrs(
        long_name="init baseline corr(W0ᵀW0, AGOP_T^1/2)", units="1")
    return ds


def _headline(sel: xr.Dataset) -> dict:
    """Metrics of one (task, width): medians over seeds, support recovery for every seed."""
    deepest = {"depth": sel["depth"].values[-1]}
    return {
        "test_acc": float(sel["test_acc"].median("seed")),
        "nfa_corr": float(sel["nfa_corr"].median("seed")),
        "nfa_corr_init": float(sel["nfa_corr_init"].median("seed")),
        "tree_fidelity": float(sel["tree_fidelity"].sel(variant="agop", **deepest).median("seed")),
        "tree_fidelity_cart": float(sel["tree_fidelity"].sel(variant="cart", **deepest).median("seed")),
        "support_recovered": bool(sel["support_recovered"].sel(variant="agop").all()),
        "support_recovered_cart": bool(sel["support_recovered"].sel(variant="cart").all()),
    }


def metrics(summary: xr.Dataset) -> dict:
    """Headline keys for the main task at the largest width, plus ``detail`` for all."""
    main, widest = summary.attrs["main_task"], int(summary["width"].max())
    detail = {f"{t}/w{int(w)}": _headline(summary.sel(task=t, width=w))
              for t in summary["task"].values for w in summary["width"].values}
    head = _headline(summary.sel(task=main, width=widest))
    return {**head, "detail": {"main": f"{main}/w{widest}", **detail}}
