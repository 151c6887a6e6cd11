"""Figures of the ``gdln`` study: the loss and the singular values of simulation vs the
neural race reduction on one epoch axis, and held-out error vs init scale."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.plotting import band, figure



def _transitions(ax, summary: xr.Dataset) -> None:
    for k, t in enumerate(summary["transition_theory"].values):
        if np.isfinite(t):
            ax.axvline(t, color="0.6", linewidth=0.8, linestyle=":", label="predicted transitions" if k == 0 else None)


def loss(summary: xr.Dataset):
    """Training (trained pairs) and held-out loss of the reference runs vs the reduction."""
    ref = summary.attrs["reference_init_scale"]
    sim = summary.sel(init_scale=ref)
    epochs = summary["epoch"].values
    fig, axes = figure(2, width=5.0)
    for ax, scale in zip(axes, ("linear", "log")):
        band(ax, epochs, sim["train_loss"].values, "simulation, trained pairs", color="C3")
        band(ax, epochs, sim["test_loss"].values, "simulation, held-out pairs", color="C1", linestyle="--")
        ax.plot(epochs, summary["theory_loss"].values, color="k", linestyle="--",
                label="reduction (trained = held-out)")
        for level in summary["plateau_theory"].values[1:-1]:
            ax.axhline(level, color="0.8", linewidth=0.8)
        _transitions(ax, summary)
        ax.set_yscale(scale)
        if scale == "log":  # the reduction's loss falls geometrically to rounding level
            ax.set_ylim(bottom=max(1e-6, 0.1 * np.nanmin(sim["train_loss"].values)))
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss: squared error,\nsummed over outputs")  # one line is taller than the axes
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Plateaus and drops follow the race reduction (init {ref:g}, "
                 f"{summary.attrs['trained_pairs']} trained pairs, median and range over seeds)", fontsize=9)
    return fig


def singular_values(summary: xr.Dataset):
    """Shared-layer singular values over training (each seed) vs the reduction, and the
    input and output layers' (median over pathways)."""
    snapshots, epochs = summary["snapshot"].values, summary["epoch"].values
    r = summary.sizes["mode"]
    fig, axes = figure(2, width=5.0)
    panels = [(axes[0], "shared layer (top singular values)",
               [("shared layer, each seed", summary["sv_shared"].values[:, :, 0, :r],
                 summary["theory_shared"].values[:, 0])]),
              (axes[1], "input and output layers (median over pathways)",
               [("input layers, each seed", summary["sv_in"].values[:, :, :r], summary["theory_in"].values),
                ("output layers, each seed", summary["sv_out"].values[:, :, :r], summary["theory_out"].values)])]
    for ax, title, series in panels:
        for n, (label, sims, predicted) in enumerate(series):  # sims (seed, snapshot, r); predicted (epoch, r)
            for seed in range(sims.shape[0]):
                for a in range(r):
                    ax.plot(snapshots, sims[seed, :, a], color=f"C{a}", alpha=0.35, linewidth=1,
                            linestyle="-" if n == 0 else "-.", label=label if seed == 0 and a == 0 else None)
            for a, values in enumerate(predicted.T):
                ax.plot(epochs, values, color=f"C{a}", linestyle="--", linewidth=1.5,
                        label=f"reduction, mode {a + 1} (s = {summary['mode_sv'].values[a]:.3g})" if n == 0 else None)
        _transitions(ax, summary)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("singular value")
        ax.legend(fontsize=6)
    fig.suptitle("Singular values grow to the race reduction's, mode by mode (dashed: reduction)", fontsize=9)
    return fig


def heldout(summary: xr.Dataset):
    """Final loss on held-out and trained pairs vs init scale, with the held-out loss at init."""
    scales = summary["init_scale"].values
    fig, axes = figure(1, width=5.0)
    ax = axes[0]
    band(ax, scales, summary["test_loss"].values[:, :, -1].T, "held-out pairs, trained", color="C1", marker="o")
    band(ax, scales, summary["train_loss"].values[:, :, -1].T, "trained pairs", color="C3", marker="s")
    band(ax, scales, summary["test_loss"].values[:, :, 0].T, "held-out pairs, at init", color="0.5", linestyle=":")
    ax.set_yscale("log")
    ax.set_xlabel("init scale (orthogonal gain)")
    ax.set_ylabel("final loss")
    ax.legend(fontsize=7)
    ax.set_title("Small init generalises to untrained pathway pairs;\nlarge init does not?", fontsize=9)
    return fig


FIGURES = {"loss.png": loss, "singular_values.png": singular_values, "heldout.png": heldout}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "loss.png": ("plateau_levels", "transition_epochs"),
    "heldout.png": ("heldout_small_init",),
}
