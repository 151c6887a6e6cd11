"""Figures of the ``attention`` study: unseen-symbol test loss vs n per model, the stable rank
of Δ(W_Q W_Kᵀ) per head over training at two init scales, and the rank toy's staircase."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.plotting import band, figure, symlog_steps

FLOOR = 1e-4  # generalisation.png draws losses below this at it


def generalisation(summary: xr.Dataset):
    """Final test loss on unseen symbols vs the number of training symbols n, per model."""
    fig, axes = figure(1, width=5.6, height=3.8)
    ax = axes[0]
    ns = summary["n"].values
    for i, model in enumerate(summary["model"].values):
        loss = np.maximum(summary["final_test_loss"].sel(model=model).values.T, FLOOR)  # (seed, n)
        keep = np.isfinite(loss).all(axis=0)
        if keep.any():
            band(ax, ns[keep], loss[:, keep], str(model), color=f"C{i}", marker="o", markersize=3)
    ax.axhline(float(summary["chance_loss"]), color="k", linestyle=":", linewidth=1, label="chance (constant)")
    ax.axhline(summary.attrs["loss_threshold"], color="0.5", linestyle="--", linewidth=1, label="threshold")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 2, 4.0)
    ax.set_xlabel("training symbols n")
    ax.set_ylabel("test loss on unseen symbols")  # values below FLOOR drawn at FLOOR
    ax.set_title(f"{summary.attrs['template_set']}: generalisation to {summary.attrs['n_test_symbols']} unseen "
                 "symbols\n(median and range over seeds)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _rank_models(summary: xr.Dataset) -> tuple[list[str], int | None]:
    """The transformers drawn (default and small init when present) and the n they share."""
    models = [m for m in ("transformer", "transformer_small_init") if m in summary["model"].values]
    shared = None
    for n in summary["n"].values:
        if all(np.isfinite(summary["stable_rank"].sel(model=m, n=n).values).any() for m in models):
            shared = int(n)
            break
    return models, shared


def stable_rank(summary: xr.Dataset):
    """Stable rank of Δ(W_Q W_Kᵀ) per layer and head over training, median over seeds."""
    models, n = _rank_models(summary)
    fig, axes = figure(max(len(models), 1), width=4.4)
    for ax, model in zip(axes, models):
        steps = summary["snapshot_step"].sel(model=model).values
        keep = steps >= 0
        ranks = summary["stable_rank"].sel(model=model, n=n).isel(product=0).values  # (seed, snapshot, layer, head)
        for layer in range(ranks.shape[2]):
            for head in range(ranks.shape[3]):
                values = ranks[:, keep, layer, head]
                if np.isfinite(values).any():
                    band(ax, steps[keep], values, f"layer {layer} head {head}")
        symlog_steps(ax)
        ax.set_ylabel("stable rank of Δ(W_Q W_Kᵀ)")
        ax.set_title(f"{model} at n = {n}", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Attention updates grow in rank gradually; smaller init, lower rank", fontsize=9)
    return fig


def toy_staircase(summary: xr.Dataset):
    """The diagonal head's loss vs τ = t·lr/log(1/α) for each α, and the diagonal entries at the smallest α."""
    fig, axes = figure(2, width=4.6)
    if "toy_loss" not in summary:
        axes[0].text(0.5, 0.5, "rank toy left out (attention.toy)", ha="center", transform=axes[0].transAxes)
        return fig
    for e, alpha in enumerate(summary["alpha"].values):
        axes[0].plot(summary["toy_tau"].values[e], summary["toy_loss"].values[e], label=f"α = {alpha:g}")
    a = int(np.argmin(summary["alpha"].values))
    tau = summary["toy_tau"].values[a]
    for t in summary["toy_stage_tau"].values[a]:
        if np.isfinite(t):
            for ax in axes:
                ax.axvline(t, color="0.7", linestyle=":", linewidth=0.8)
    axes[0].set_yscale("log")
    axes[0].set_ylim(bottom=1e-6 * float(np.nanmax(summary["toy_loss"].values[:, 0])))
    axes[0].set_xlim(0, float(np.nanmax(tau)))
    axes[0].set_xlabel("τ = t · lr / log(1/α)")
    axes[0].set_ylabel("training loss")
    axes[0].set_title(f"Loss approaches a staircase as α → 0\n(dotted: stages detected at α = "
                      f"{summary['alpha'].values[a]:g})", fontsize=9)
    axes[0].legend(fontsize=7)
    for j in range(summary.sizes["entry"]):
        axes[1].plot(tau, summary["toy_qk"].values[a, :, j], color=f"C{j}", label=f"diag(W_K W_Qᵀ)[{j}]")
        axes[1].plot(tau, summary["toy_vo"].values[a, :, j], color=f"C{j}", linestyle="--",
                     label=f"diag(W_V W_Oᵀ)[{j}]")
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[1].set_xlabel("τ = t · lr / log(1/α)")
    axes[1].set_ylabel("diagonal entry")
    axes[1].set_title("The entries switch on one stage at a time", fontsize=9)
    axes[1].legend(fontsize=6, ncol=2)
    return fig


FIGURES = {"generalisation.png": generalisation, "stable_rank.png": stable_rank, "toy_staircase.png": toy_staircase}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "generalisation.png": ("n_transformer", "n_transformer_identity", "identity_gain"),
    "stable_rank.png": ("final_stable_rank_small_vs_default_init",),
    "toy_staircase.png": ("toy_stages_small_alpha", "rank_increment_max"),
}
