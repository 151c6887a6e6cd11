"""Study ``gdln``: gated deep linear networks and the neural race reduction (Saxe, Sodhani
& Lewallen, ICML 2022).

Claim tested: learning in a gated deep linear network decouples into the modes of the
task's input–output correlation, each following the reduced dynamics
(``learnscope.features.race``): the training loss sits on plateaus at the analytic levels
and drops at the predicted epochs, the shared layer's singular values grow to the
predicted values, and a mode shared by many pathways is learned as one shared
representation, so small-init networks answer held-out pathway pairs (systematic
generalisation) while large-init ones do not.

Simulation (runs of ``GdlnStudyConfig``): the loss on trained pairs (training set) and on
held-out pairs (test set) at every epoch; at every snapshot each mode's strength in each
pair's map (``features.gdln``) and every layer's singular values.

Reduction: integrated once per epoch from the random init's expected overlap with the
shared mode (``features.race.random_init_overlaps``), with the run's learning rate, the task's modes
and its trained pairs. Definitions shared by both:

- transition epoch of a group of equal singular values: the mean over its modes of the
  first epoch at which the mode's strength, averaged over the trained pairs, reaches half
  of its target s̃/d (``features.modes.half_time``, interpolated between snapshots for runs);
- plateau levels: the theory's analytic levels (``features.modes.plateau_levels``); a run's level k
  is its training loss midway between its transitions k − 1 and k (epoch 0 and the last
  epoch at the ends).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.features.modes import Modes, half_time, mode_groups, plateau_levels, task_modes
from learnscope.studies.gdln.race import RaceSolution, integrate_race, random_init_overlaps
from learnscope.studies.gdln.config import GdlnStudyConfig
from learnscope.studies.claims import Claim
from learnscope.studies.metric_values import json_list, json_value


def theory(cfg: GdlnStudyConfig, init_scale: float) -> tuple[Modes, RaceSolution]:
    """The task's modes and the reduction's trajectory for a run of ``cfg`` at ``init_scale``."""
    task, model = cfg.task, cfg.model
    modes = task_modes(task.item_inputs(), task.item_targets())
    b_in, c, b_out = random_init_overlaps(init_scale, task.pathways)
    solution = integrate_race(modes, task.trained_pairs().astype(np.float64),
                              cfg.train.lr * model.lr_scale(cfg.width), cfg.train.steps,
                              b_in, c, b_out, model.shared_layers)
    return modes, solution


def group_times(epochs: np.ndarray, strength: np.ndarray, modes: Modes) -> np.ndarray:
    """(..., G) transition epoch of each group of equal singular values, from strengths
    (T, ..., r) averaged over trained pairs."""
    half = half_time(epochs, strength, modes.s / modes.d)  # (..., r)
    return np.stack([half[..., idx].mean(-1) for idx in mode_groups(modes)], axis=-1)


def run_plateau_levels(epochs: np.ndarray, loss: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(G + 1,) the loss midway between consecutive transitions (module docstring); NaN
    after a transition that never happened (the run ends on the plateau before it)."""
    missing = ~np.isfinite(times)
    bounds = np.concatenate([[epochs[0]], np.where(missing, epochs[-1], times), [epochs[-1]]])
    levels = np.interp((bounds[:-1] + bounds[1:]) / 2, epochs, loss)
    after_missing = np.concatenate([[False], np.cumsum(missing) > 0])
    return np.where(after_missing, np.nan, levels)


def summarise(study: str, cfg: GdlnStudyConfig, runs: dict[str, dict[str, xr.Dataset]]) -> xr.Dataset:
    """The gdln table: every scale's curves, the reference scale's mode dynamics and the theory."""
    ref = cfg.model.init_scale
    curves = {k: r["curves"] for k, r in runs.items()}
    epochs = curves[ref, cfg.seeds[0]]["step"].values
    loss = {split: np.stack([[curves[s, seed][f"{split}_loss"].values for seed in cfg.seeds] for s in cfg.scales])
            for split in ("train", "test")}  # (scale, seed, epoch)
    feats = [runs[ref, seed]["features"] for seed in cfg.seeds]
    snapshots = feats[0]["step"].values
    trained = cfg.task.trained_pairs()
    strength = np.stack([f["mode_strength"].values for f in feats])  # (seed, S, M_out, M_in, r)
    strength_trained = strength[:, :, trained].mean(2)  # (seed, S, r)
    modes, sol = theory(cfg, ref)
    sim_times = group_times(snapshots, strength_trained.swapaxes(0, 1), modes)  # (seed, G)
    th_times = group_times(sol.epochs, sol.strength[:, trained].mean(1), modes)
    ref_index = cfg.scales.index(ref)
    sim_levels = np.stack([run_plateau_levels(epochs, loss["train"][ref_index, k], sim_times[k])
                           for k in range(len(cfg.seeds))])
    return xr.Dataset(
        {"train_loss": (("init_scale", "seed", "epoch"), loss["train"], {"long_name": "loss on trained pairs"}),
         "test_loss": (("init_scale", "seed", "epoch"), loss["test"], {"long_name": "loss on held-out pairs"}),
         "strength_trained": (("seed", "snapshot", "mode"), strength_trained,
                              {"long_name": "mode strength, mean over trained pairs (reference scale)"}),
         "strength_heldout": (("seed", "snapshot", "mode"), strength[:, :, ~trained].mean(2),
                              {"long_name": "mode strength, mean over held-out pairs (reference scale)"}),
         "sv_shared": (("seed", "snapshot", "shared_layer", "shared_sv"), np.stack([f["sv_shared"].values
                                                                                   for f in feats]),
                       {"long_name": "singular values of each shared layer (reference scale)"}),
         "sv_in": (("seed", "snapshot", "in_sv"), np.stack([np.median(f["sv_in"].values, 1) for f in feats]),
                   {"long_name": "singular values of the input layers, median over pathways"}),
         "sv_out": (("seed", "snapshot", "out_sv"), np.stack([np.median(f["sv_out"].values, 1) for f in feats]),
                    {"long_name": "singular values of the output layers, median over pathways"}),
         "theory_loss": ("epoch", sol.loss[epochs], {"long_name": "reduction: loss on trained pairs"}),
         "theory_heldout_loss": ("epoch", sol.heldout_loss()[epochs],
                                 {"long_name": "reduction: loss on held-out pairs"}),
         "theory_strength": (("epoch", "mode"), sol.strength[epochs][:, trained].mean(1),
                             {"long_name": "reduction: mode strength, mean over trained pairs"}),
         "theory_shared": (("epoch", "shared_layer", "mode"), sol.c[epochs],
                           {"long_name": "reduction: singular value of each shared layer per mode"}),
         "theory_in": (("epoch", "mode"), sol.b_in[epochs].mean(1),
                       {"long_name": "reduction: input layers' value per mode"}),
         "theory_out": (("epoch", "mode"), sol.b_out[epochs].mean(1),
                        {"long_name": "reduction: output layers' value per mode"}),
         "transition_sim": (("seed", "group"), sim_times, {"long_name": "transition epoch per group (runs)"}),
         "transition_theory": ("group", th_times, {"long_name": "transition epoch per group (reduction)"}),
         "plateau_sim": (("seed", "level"), sim_levels, {"long_name": "plateau loss levels (runs)"}),
         "plateau_theory": ("level", plateau_levels(modes), {"long_name": "plateau loss levels (analytic)"})},
        coords={"init_scale": ("init_scale", np.array(cfg.scales)), "seed": ("seed", np.array(cfg.seeds)),
                "epoch": ("epoch", epochs), "snapshot": ("snapshot", snapshots),
                "mode_sv": ("mode", modes.s), "group_sv": ("group", [modes.s[i[0]] for i in mode_groups(modes)])},
        attrs={"study": study, "reference_init_scale": ref, "pathways": cfg.task.pathways,
               "trained_pairs": int(trained.sum()), "description": cfg.task.describe()})


def metrics(summary: xr.Dataset) -> dict:
    """Headline values (median over seeds) and ``detail``.

    ``plateau_levels_*`` (G + 1 levels), ``transition_epochs_*`` (G groups of equal singular
    values), ``hidden_sv_*`` (the first shared layer's top r singular values at the end vs the
    reduction's), ``heldout_mse_small_init`` / ``heldout_mse_large_init`` (final loss on
    held-out pairs at the smallest / largest init scale: squared error summed over the
    outputs, mean over held-out examples).
    """
    r = summary.sizes["mode"]
    hidden_sim = np.median(summary["sv_shared"].values[:, -1, 0, :r], axis=0)
    hidden_theory = np.sort(summary["theory_shared"].values[-1, 0])[::-1]
    final_test = np.median(summary["test_loss"].values[:, :, -1], axis=1)  # (scale,)
    final_train = np.median(summary["train_loss"].values[:, :, -1], axis=1)
    sim_times = np.median(summary["transition_sim"].values, axis=0)
    theory_times = summary["transition_theory"].values
    return {
        "plateau_levels_sim": json_list(np.median(summary["plateau_sim"].values, axis=0)),
        "plateau_levels_theory": json_list(summary["plateau_theory"].values),
        "transition_epochs_sim": json_list(sim_times),
        "transition_epochs_theory": json_list(theory_times),
        "hidden_sv_sim": json_list(hidden_sim),
        "hidden_sv_theory": json_list(hidden_theory),
        "heldout_mse_small_init": json_value(final_test[0]),
        "heldout_mse_large_init": json_value(final_test[-1]),
        "detail": {
            "init_scales": json_list(summary["init_scale"].values),
            "heldout_mse_final": json_list(final_test),
            "train_mse_final": json_list(final_train),
            "heldout_mse_at_init": json_list(np.median(summary["test_loss"].values[:, :, 0], axis=1)),
            "heldout_mse_theory_final": json_value(summary["theory_heldout_loss"].values[-1]),
            "transition_epochs_sim_per_seed": [json_list(v) for v in summary["transition_sim"].values],
            "transition_ratio_sim_over_theory": json_list(sim_times / theory_times),
            "plateau_levels_sim_per_seed": [json_list(v) for v in summary["plateau_sim"].values],
            "input_sv_sim": json_list(np.median(summary["sv_in"].values[:, -1, :r], axis=0)),
            "input_sv_theory": json_list(np.sort(summary["theory_in"].values[-1])[::-1]),
            "output_sv_sim": json_list(np.median(summary["sv_out"].values[:, -1, :r], axis=0)),
            "output_sv_theory": json_list(np.sort(summary["theory_out"].values[-1])[::-1]),
            "mode_singular_values": json_list(summary["mode_sv"].values),
            "reference_init_scale": json_value(summary.attrs["reference_init_scale"]),
        },
    }


GDLN_PAPER = "Saxe, Sodhani, Lewallen, ICML 2022"


def claims(summary: xr.Dataset) -> list[Claim]:
    """The reduction's predictions at the reference init scale, and systematic generalisation
    at the smallest init; the held-out loss's chance level is the untrained network's."""
    ref = np.flatnonzero(summary["init_scale"].values == summary.attrs["reference_init_scale"])[0]
    theory_levels = summary["plateau_theory"].values
    level_err = np.nanmax(np.abs(summary["plateau_sim"].values - theory_levels), axis=1) / theory_levels[0]
    timing = np.nanmax(np.abs(summary["transition_sim"].values / summary["transition_theory"].values - 1), axis=1)
    heldout = summary["test_loss"].values  # (scale, seed, epoch)
    return [
        Claim("plateau_levels", "The neural race reduction predicts the loss plateaus of gated deep linear "
              "networks (largest error over the plateaus, ÷ the initial loss).", GDLN_PAPER, level_err,
              reference=0.0, chance=None, op="<=", threshold=0.05, rule="median ≤ 0.05"),
        Claim("transition_epochs", "The reduction predicts when each mode is learned (largest relative error over "
              "the transitions).", GDLN_PAPER, timing, reference=0.0, chance=None, op="<=", threshold=0.1,
              rule="median ≤ 0.1 (within 10%)"),
        Claim("heldout_small_init", "From small initial weights the network generalises systematically to the "
              "pathway pairs it was never trained on (final held-out loss at the smallest init scale).",
              GDLN_PAPER, heldout[0, :, -1], reference=0.0, chance=float(np.median(heldout[ref, :, 0])), op="<=",
              threshold=0.01 * float(np.median(heldout[ref, :, 0])),
              rule="median ≤ 1% of the untrained network's held-out loss", above_chance=True),
    ]
