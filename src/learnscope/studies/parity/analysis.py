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

import math

import numpy as np
import xarray as xr

from learnscope.features.nfa import MAIN_CONVENTION
from learnscope.studies.claims import Claim
from learnscope.studies.parity.config import ParityConfig

MAIN = dict(zip(("weight_form", "agop_power", "metric"), MAIN_CONVENTION))


def _grid(cfg: ParityConfig, get) -> np.ndarray:
    """Stack ``get((task, width, seed))`` over (task, width, seed)."""
    return np.array([[[get((t, w, s)) for s in cfg.seeds] for w in cfg.widths] for t in cfg.tasks])


def summarise(study: str, cfg: ParityConfig, runs: dict[str, dict[str, xr.Dataset]]) -> xr.Dataset:
    """The study's table. ``runs[(task, width, seed)]`` holds that run's ``curves``, ``features`` and ``tree``."""
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
            "test_acc": (dims, _grid(cfg, lambda n: feat[n]["test_acc"].values[-1]),
                         {"long_name": "final test accuracy", "units": "1"}),
            "nfa_corr_curve": (dims + ("step",), _grid(cfg, lambda n: feat[n]["nfa_corr"].sel(**MAIN).values),
                               {"long_name": "corr(W1ᵀW1, AGOP^1/2) over training (main convention)", "units": "1"}),
            "nfa_corr_init_curve": (dims + ("step",), _grid(cfg, lambda n: feat[n]["nfa_corr_init"].sel(
                agop_power=MAIN["agop_power"], metric=MAIN["metric"]).values),
                {"long_name": "corr(W0ᵀW0, AGOP_t^1/2): the init baseline", "units": "1"}),
            "nfa_corr_final": (dims + ("weight_form", "agop_power", "metric"),
                               _grid(cfg, lambda n: feat[n]["nfa_corr"].values[-1]),
                               {"long_name": "final NFA correlation, every convention", "units": "1"}),
            "dw_stable_rank": (dims + ("step",), _grid(cfg, lambda n: feat[n]["dw_stable_rank"].values[:, 0]),
                               {"long_name": "stable rank of W1_t − W1_0", "units": "1"}),
            "train_loss": (dims + ("step",), _grid(cfg, lambda n: feat[n]["train_loss"].values),
                           {"long_name": "training loss at snapshots"}),
            "test_loss": (dims + ("step",), _grid(cfg, lambda n: feat[n]["test_loss"].values),
                          {"long_name": "test loss at snapshots"}),
            "curve_train_loss": (dims + ("eval_step",), _grid(cfg, lambda n: curves[n]["train_loss"].values),
                                 {"long_name": "training loss at eval steps"}),
            "curve_test_loss": (dims + ("eval_step",), _grid(cfg, lambda n: curves[n]["test_loss"].values),
                                {"long_name": "test loss at eval steps"}),
            "tree_fidelity": (dims + ("variant", "depth"), _grid(cfg, lambda n: tree[n]["fidelity"].values),
                              {"long_name": "fidelity of the distilled tree to the network", "units": "1"}),
            "tree_accuracy": (dims + ("variant", "depth"), _grid(cfg, lambda n: tree[n]["accuracy"].values),
                              {"long_name": "accuracy of the distilled tree on true labels", "units": "1"}),
            "support_recovered": (dims + ("variant",), _grid(cfg, supp_recovered).astype(np.int8),
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
    ds = ds.assign(_support_and_matrices(cfg, runs))
    ds["nfa_corr"] = ds["nfa_corr_curve"].isel(step=-1).assign_attrs(
        long_name="final corr(W1ᵀW1, AGOP^1/2)", units="1")
    ds["nfa_corr_init"] = ds["nfa_corr_init_curve"].isel(step=-1).assign_attrs(
        long_name="init baseline corr(W0ᵀW0, AGOP_T^1/2)", units="1")
    return ds


def _support_and_matrices(cfg: ParityConfig, runs) -> dict:
    """Per task: the chance level of support recovery (a random set of as many coordinates),
    and the final AGOP and W1ᵀW1 of the run agop_nfm.png draws (padded to the most inputs)."""
    support = [runs[t, cfg.widths[0], cfg.seeds[0]]["tree"]["support"].values.astype(bool) for t in cfg.tasks]
    out = {"support_chance": ("task", np.array([1 / math.comb(s.size, int(s.sum())) for s in support]),
                              {"long_name": "chance that a random set of as many coordinates is the support",
                               "units": "1"})}
    width, seed = max(cfg.widths), cfg.seeds[0]
    n_in = max(r["features"].sizes["in_a"] for r in runs.values())
    for var, label in (("agop", "input AGOP"), ("nfm", "first-layer W1ᵀW1")):
        out[f"{var}_final"] = (("task", "in_a", "in_b"), np.stack([
            _pad_square(runs[t, width, seed]["features"][var].values[-1], n_in) for t in cfg.tasks]),
            {"long_name": f"final {label} of the seed-{seed} run at width {width} (NaN beyond a task's inputs)"})
    return out


def _pad_square(m: np.ndarray, n: int) -> np.ndarray:
    out = np.full((n, n), np.nan)
    out[:m.shape[0], :m.shape[1]] = m
    return out


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


NFA_PAPER = "Radhakrishnan, Beaglehole, Pandit, Belkin, Science 2024"
DISTILL_PAPER = "Boix-Adsera, Towards a theory of model distillation, 2024"


def claims(summary: xr.Dataset) -> list[Claim]:
    """The main task at the largest width; the NFA's chance level is the init baseline (the
    correlation the untrained weights W0 already have with the trained network's AGOP)."""
    main, widest = summary.attrs["main_task"], int(summary["width"].max())
    sel = summary.sel(task=main, width=widest)
    deepest = int(sel["depth"].values[-1])
    return [
        Claim("nfa_corr", "After training, a layer's Gram matrix W1ᵀW1 is proportional to the AGOP^½ of the "
              "network with respect to that layer's input (Pearson correlation near 1), beyond what the initial "
              "weights give.", NFA_PAPER, sel["nfa_corr"].values, reference=1.0,
              chance=float(sel["nfa_corr_init"].median("seed")), op=">=", threshold=0.9,
              rule="median ≥ 0.9 and every seed above the init baseline", above_chance=True),
        Claim("support_recovered", f"A depth-{deepest} tree on the coordinates the network's AGOP selects splits on "
              "exactly the target's hidden support.", DISTILL_PAPER,
              sel["support_recovered"].sel(variant="agop").values.astype(np.float64), reference=1.0,
              chance=float(sel["support_chance"]), op=">=", threshold=1.0,
              rule="every seed recovers the support (chance: a random set of as many coordinates)",
              above_chance=True),
        Claim("cart_misses_support", "Greedy CART on the network's labels cannot find a sparse parity's support "
              "(no coordinate carries marginal information).", DISTILL_PAPER,
              sel["support_recovered"].sel(variant="cart").values.astype(np.float64), reference=0.0,
              chance=None, op="<=", threshold=0.0, rule="no seed recovers the support"),
    ]
