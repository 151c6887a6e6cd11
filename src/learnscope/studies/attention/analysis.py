"""Study ``attention``: transformers reasoning with abstract symbols (Boix-Adsera, Saremi, Abbe,
Bengio, Littwin, Susskind, ICLR 2024) and gradual rank increase (Boix-Adsera, Littwin, Abbe,
Bengio, Susskind, NeurIPS 2023).

Per run (model x n x seed, trained online on fresh sequences over n training symbols):

- the train and unseen-symbol test loss at every evaluation; the final ones are the last
  evaluation's. Chance (``chance_loss``) is the loss of the best constant prediction, the
  variance of the balanced label values (1.0 for labels ±1);
- ``n_reached`` per model and seed: the smallest n of the sweep whose final test loss is
  below ``loss_threshold`` (NaN: never); ``n_reached_median`` per model: the smallest n whose
  median final test loss over seeds is below it (the headline number);
- for transformers, per snapshot, layer and head: the stable rank of Δ(W_Q W_Kᵀ) and
  Δ(W_V W_O) (``features.attention_rank``) and the identity scalars a, b.

The rank toy (``toy``), computed here (seconds): the diagonal head trained from each α;
``toy_stages`` counts the drops of its loss on the τ = t·lr/log(1/α) axis (the leap study's
detector, ``toy.find_stages``); ``toy_rank_increment`` is, per stage, how many entries of
diag(W_K W_Qᵀ) switched on in it (``toy.entries_per_stage``): the rise of rank Δ(W_K W_Qᵀ).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.arrays import pad
from learnscope.studies.attention import toy as diag_toy
from learnscope.studies.attention.config import AttentionStudyConfig, ToyConfig

MAX_STAGES = 8  # toy stages kept per α


def chance_loss(cfg: AttentionStudyConfig) -> float:
    """The test loss of the best constant prediction: labels take each distinct value with
    equal probability (``tasks.templates``), so it is the variance of the distinct values."""
    values = np.unique([label for _, label in cfg.task(cfg.n_symbols[0]).labelled_templates])
    return float(np.var(values))


def reach_n(ns: np.ndarray, loss: np.ndarray, threshold: float) -> float:
    """The smallest n (ascending ``ns``) whose ``loss`` (last axis along ns) is below ``threshold``; NaN if none."""
    hit = np.flatnonzero(np.isfinite(loss) & (loss < threshold))
    return float(ns[hit[0]]) if hit.size else np.nan


def _runs_table(cfg: AttentionStudyConfig, runs: dict) -> dict:
    """Curves, final losses, ranks and identity scalars on (model, n, seed, ...), NaN where a
    model has no run at that n or no attention."""
    models, ns, seeds = list(cfg.models), list(cfg.n_symbols), list(cfg.seeds)
    n_eval = max(r["curves"].sizes["step"] for r in runs.values())
    n_snap = max(r["features"].sizes["step"] for r in runs.values())
    attn = [r["features"] for r in runs.values() if "attn_stable_rank" in r["features"]]
    n_layer = max((f.sizes["block"] for f in attn), default=1)
    n_head = max((f.sizes["head"] for f in attn), default=1)
    shape = (len(models), len(ns), len(seeds))
    out = {"train_loss": np.full(shape + (n_eval,), np.nan), "test_loss": np.full(shape + (n_eval,), np.nan),
           "stable_rank": np.full(shape + (n_snap, n_layer, n_head, 2), np.nan),
           "identity_a": np.full(shape + (n_snap, n_layer, n_head), np.nan),
           "identity_b": np.full(shape + (n_snap, n_layer, n_head), np.nan),
           "eval_step": np.full((len(models), n_eval), -1, dtype=np.int64),
           "snapshot_step": np.full((len(models), n_snap), -1, dtype=np.int64)}
    for (name, n, seed), r in runs.items():
        i, j, k = models.index(name), ns.index(n), seeds.index(seed)
        curves, features = r["curves"], r["features"]
        out["train_loss"][i, j, k] = pad(curves["train_loss"].values, (n_eval,))
        out["test_loss"][i, j, k] = pad(curves["test_loss"].values, (n_eval,))
        out["eval_step"][i] = pad(curves["step"].values, (n_eval,), -1, np.int64)
        out["snapshot_step"][i] = pad(features["step"].values, (n_snap,), -1, np.int64)
        if "attn_stable_rank" in features:
            out["stable_rank"][i, j, k] = pad(features["attn_stable_rank"].values, (n_snap, n_layer, n_head, 2))
            for leaf in ("a", "b"):
                out[f"identity_{leaf}"][i, j, k] = pad(features[f"identity_{leaf}"].values, (n_snap, n_layer, n_head))
    for split in ("train", "test"):
        out[f"final_{split}_loss"] = np.apply_along_axis(_last_finite, -1, out[f"{split}_loss"])
    return out


def _last_finite(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else np.nan


def run_toy(toy: ToyConfig) -> dict:
    """The rank toy's trajectories, stages and rank increments, one row per α."""
    rng = np.random.default_rng(toy.seed)
    X, Y_star = diag_toy.make_teacher_data(np.array(toy.teacher_qk), np.array(toy.teacher_vo), toy.n_seq,
                                           toy.seq_len, rng)
    run = diag_toy.train_toy(X, Y_star, toy.alphas, lr=toy.lr, n_steps=toy.steps, log_every=toy.log_every)
    n_alpha = len(toy.alphas)
    stages = np.zeros(n_alpha, dtype=np.int64)
    stage_tau = np.full((n_alpha, MAX_STAGES), np.nan)
    increment = np.full((n_alpha, MAX_STAGES), -1, dtype=np.int64)
    for e in range(n_alpha):
        drops = diag_toy.find_stages(run, e, floor=toy.converged)[:MAX_STAGES]
        stages[e] = len(drops)
        per_step = run.time[e, -1] / run.steps[-1] if run.steps[-1] else 0.0
        stage_tau[e, :len(drops)] = [d.step * per_step for d in drops]
        entries = diag_toy.entries_per_stage(run.steps, run.qk[e], drops)
        increment[e, :len(drops)] = [len(x) for x in entries]
    return {"run": run, "stages": stages, "stage_tau": stage_tau, "increment": increment}


def summarise(study: str, cfg: AttentionStudyConfig, runs: dict[tuple, dict[str, xr.Dataset]]) -> xr.Dataset:
    """The study's table (module docstring)."""
    models, ns, seeds = list(cfg.models), np.array(cfg.n_symbols, dtype=np.int64), list(cfg.seeds)
    t = _runs_table(cfg, runs)
    median = np.full(t["final_test_loss"].shape[:2], np.nan)
    ok = np.isfinite(t["final_test_loss"]).all(axis=2)
    median[ok] = np.median(t["final_test_loss"][ok], axis=-1)
    reached = np.array([[reach_n(ns, t["final_test_loss"][i, :, k], cfg.loss_threshold) for k in range(len(seeds))]
                        for i in range(len(models))])
    run = ("model", "n", "seed")
    data = {
        "train_loss": ((*run, "eval"), t["train_loss"], {"long_name": "loss on the fixed sample of training symbols"}),
        "test_loss": ((*run, "eval"), t["test_loss"], {"long_name": "loss on unseen symbols (test alphabet)"}),
        "eval_step": (("model", "eval"), t["eval_step"], {"long_name": "step of each evaluation (-1: padding)"}),
        "final_train_loss": (run, t["final_train_loss"], {"long_name": "train loss at the end"}),
        "final_test_loss": (run, t["final_test_loss"], {"long_name": "unseen-symbol test loss at the end"}),
        "median_test_loss": (("model", "n"), median, {"long_name": "median over seeds of final_test_loss"}),
        "n_reached": (("model", "seed"), reached,
                      {"long_name": "smallest n whose final test loss is below loss_threshold (NaN: never)"}),
        "n_reached_median": (("model",), np.array([reach_n(ns, median[i], cfg.loss_threshold)
                                                   for i in range(len(models))]),
                             {"long_name": "smallest n whose median final test loss is below loss_threshold"}),
        "chance_loss": ((), chance_loss(cfg), {"long_name": "loss of the best constant prediction"}),
        "stable_rank": ((*run, "snapshot", "layer", "head", "product"), t["stable_rank"],
                        {"long_name": "stable rank of D = M_t - M_0 per head (NaN: no attention)"}),
        "identity_a": ((*run, "snapshot", "layer", "head"), t["identity_a"],
                       {"long_name": "identity scalar a (NaN: none)"}),
        "identity_b": ((*run, "snapshot", "layer", "head"), t["identity_b"],
                       {"long_name": "identity scalar b (NaN: none)"}),
        "snapshot_step": (("model", "snapshot"), t["snapshot_step"], {"long_name": "step of each snapshot (-1: padding)"}),
    }
    coords = {"model": ("model", np.array(models, dtype=object)), "n": ("n", ns),
              "seed": ("seed", np.array(seeds, dtype=np.int64)),
              "product": ("product", np.array(["W_Q W_K^T", "W_V W_O"], dtype=object))}
    if cfg.toy is not None:
        data.update(_toy_variables(cfg.toy, coords))
    return xr.Dataset(data, coords=coords, attrs={"study": study, "loss_threshold": cfg.loss_threshold,
                                                  "template_set": cfg.template_set,
                                                  "n_test_symbols": cfg.n_test_symbols})


def _toy_variables(toy: ToyConfig, coords: dict) -> dict:
    out = run_toy(toy)
    run = out["run"]
    coords["alpha"] = ("alpha", run.alphas)
    coords["toy_step"] = ("toy_step", run.steps.astype(np.int64))
    coords["entry"] = ("entry", np.arange(run.qk.shape[-1], dtype=np.int64))
    return {
        "toy_tau": (("alpha", "toy_step"), run.time, {"long_name": "rescaled time t·lr / log(1/α)"}),
        "toy_loss": (("alpha", "toy_step"), run.loss, {"long_name": "toy training loss"}),
        "toy_qk": (("alpha", "toy_step", "entry"), run.qk, {"long_name": "diag(W_K W_Q^T) entries"}),
        "toy_vo": (("alpha", "toy_step", "entry"), run.vo, {"long_name": "diag(W_V W_O^T) entries"}),
        "toy_teacher_qk": (("entry",), np.array(toy.teacher_qk), {"long_name": "teacher's diag(W_K W_Q^T)"}),
        "toy_stages": (("alpha",), out["stages"], {"long_name": "loss drops detected on the τ axis"}),
        "toy_stage_tau": (("alpha", "stage"), out["stage_tau"], {"long_name": "τ of each detected drop"}),
        "toy_rank_increment": (("alpha", "stage"), out["increment"],
                               {"long_name": "entries of diag(W_K W_Q^T) switched on in each stage (-1: none)"}),
    }
