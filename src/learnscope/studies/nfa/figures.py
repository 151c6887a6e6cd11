"""Figures of the ``nfa`` study; each title states the claim it tests and what was measured."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.nfa.metrics import digits_task, support_of, top_coords
from learnscope.studies.plotting import band, figure, integer_ticks, symlog_steps


def _inputs(summary: xr.Dataset, task: str) -> int:
    return int(np.isfinite(summary["support"].sel(task=task).values).sum())


def rfm_iterations(summary: xr.Dataset):
    """Test MSE per RFM iteration (÷ iteration 0) for every task, and diag(M) per iteration
    of each task as a heat map with the support marked."""
    tasks = [str(t) for t in summary["task"].values]
    fig, axes = figure(1 + len(tasks), width=3.8, height=3.4)
    iterations = summary["iteration"].values
    for task in tasks:
        mse = summary["rfm_test_mse"].sel(task=task).values
        axes[0].plot(iterations, mse / mse[0], marker="o", label=f"{task} ({mse[0]:.3g} → {mse[-1]:.3g})")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("RFM iteration (0: M = I)")
    axes[0].set_ylabel("test MSE ÷ iteration 0")
    axes[0].set_xticks(iterations)
    axes[0].set_title("the learned metric lowers the test error?", fontsize=9)
    axes[0].legend(fontsize=6)
    for ax, task in zip(axes[1:], tasks):
        n = _inputs(summary, task)
        diag = summary["rfm_diag"].sel(task=task).values[:, :n]
        image = ax.imshow(diag, aspect="auto", cmap="viridis", interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.046, label="diag(M) (÷ max entry)")
        support = support_of(summary, task)
        if len(support) < n:
            ax.set_xticks(support)
            ax.set_xticklabels([str(i) for i in support], fontsize=7)
        ax.set_yticks(iterations)
        ax.set_xlabel("input coordinate" + (" (ticks: the support)" if len(support) < n else ""))
        ax.set_ylabel("iteration")
        ax.set_title(f"{task}: diag(M); top {len(top_coords(summary, task))} = {top_coords(summary, task)}",
                     fontsize=9)
    return fig


def layer_nfa(summary: xr.Dataset):
    """Per task: corr(W_lᵀW_l, AGOP_l^½) over training for every hidden layer, with its init baseline."""
    widest = int(summary["width"].max())
    fig, axes = figure(summary.sizes["task"], width=4.2, height=3.4)
    for ax, task in zip(axes, summary["task"].values):
        sel = summary.sel(task=task, width=widest)
        for layer in summary["hidden_layer"].values:
            color = f"C{int(layer)}"
            at = sel.sel(hidden_layer=layer)
            band(ax, summary["step"].values, at["layer_nfa_curve"].values,
                 f"layer {int(layer)}: {float(at['layer_nfa'].median('seed')):.2f}", color=color)
            band(ax, summary["step"].values, at["layer_nfa_init_curve"].values,
                 f"layer {int(layer)} init baseline: {float(at['layer_nfa_init'].median('seed')):.2f}",
                 color=color, linestyle="--")
        ax.axhline(0.9, color="k", linewidth=0.8, linestyle=":")
        symlog_steps(ax)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("Pearson corr(W_lᵀW_l, AGOP_l^½)")
        ax.set_title(f"{task}, width {widest}: every layer follows the\nansatz beyond its init baseline (≥ 0.9)?",
                     fontsize=9)
        ax.legend(fontsize=6, loc="lower right")
    return fig


def _normalised(m: np.ndarray) -> np.ndarray:
    return m / np.abs(m).max()


def features(summary: xr.Dataset):
    """Per task: the RFM's final M next to the trained MLP's W1ᵀW1 (seed 0, largest width)."""
    tasks = [str(t) for t in summary["task"].values]
    widest, seed = int(summary["width"].max()), int(summary["seed"].values[0])
    fig, axes = figure(2 * len(tasks), width=3.3, height=3.2)
    for i, task in enumerate(tasks):
        n = _inputs(summary, task)
        corr = float(summary["rfm_vs_mlp"].sel(task=task, width=widest).median("seed"))
        init = float(summary["rfm_vs_mlp_init"].sel(task=task, width=widest).median("seed"))
        for ax, name, label in ((axes[2 * i], "rfm_metric", "RFM M"), (axes[2 * i + 1], "nfm_final", "MLP W1ᵀW1")):
            image = ax.imshow(_normalised(summary[name].sel(task=task).values[:n, :n]), cmap="RdBu_r", vmin=-1, vmax=1,
                              interpolation="nearest")
            fig.colorbar(image, ax=ax, fraction=0.046, label="÷ largest |entry|")
            integer_ticks(ax)
            ax.set_xlabel("input")
            ax.set_title(f"{task}: {label}" + (f"\nseed {seed}, width {widest}" if name == "nfm_final" else
                                                f"\ncorr(W1ᵀW1, M^½) {corr:.2f} (init {init:.2f})"), fontsize=8)
    return fig


def digits(summary: xr.Dataset):
    """diag(M) of the RFM, diag(W1ᵀW1) and diag(ΔW1ᵀΔW1) of the MLP (ΔW1 = W1 − W1_0: pixels
    that are blank in every image keep their initial weights) on digits, as 8 x 8 images."""
    task = digits_task(summary)
    fig, axes = figure(3, width=3.4, height=3.4)
    if task is None:
        for ax in axes:
            ax.axis("off")
        axes[0].text(0.5, 0.5, "no digits task in this study's params", ha="center", transform=axes[0].transAxes)
        return fig
    widest, seed = int(summary["width"].max()), int(summary["seed"].values[0])
    n = _inputs(summary, task)
    side = int(round(np.sqrt(n)))
    rfm_acc = float(summary["rfm_test_acc"].sel(task=task).values[-1])
    mlp_acc = float(summary["test_acc"].sel(task=task, width=widest).median("seed"))
    panels = ((axes[0], "rfm_metric", f"RFM diag(M)\ntest acc {rfm_acc:.3f}"),
              (axes[1], "nfm_final", f"MLP diag(W1ᵀW1), seed {seed}\ntest acc {mlp_acc:.3f} (median of seeds)"),
              (axes[2], "dnfm_final", f"MLP diag(ΔW1ᵀΔW1), seed {seed}\n(the change since init)"))
    for ax, name, label in panels:
        diag = np.diagonal(summary[name].sel(task=task).values[:n, :n])
        image = ax.imshow(_normalised(diag).reshape(side, side), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.046, label="÷ max")
        ax.set_xticks(range(side))
        ax.set_yticks(range(side))
        ax.set_xlabel("pixel column")
        ax.set_ylabel("pixel row")
        ax.set_title(label, fontsize=8)
    corr = float(summary["rfm_vs_mlp"].sel(task=task, width=widest).median("seed"))
    fig.suptitle(f"{task}: the same pixels matter to the RFM and the MLP? corr(W1ᵀW1, M^½) = {corr:.2f} "
                 "(claim: ≥ 0.9)", fontsize=9)
    return fig


FIGURES = {"rfm_iterations.png": rfm_iterations, "layer_nfa.png": layer_nfa, "features.png": features,
           "digits.png": digits}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "rfm_iterations.png": ("rfm_mse_falls", "rfm_top_coords"),
    "layer_nfa.png": ("nfa_corr_layer0", "nfa_corr_layer1"),
    "features.png": ("nfa_corr_rfm_vs_mlp",),
    "digits.png": ("digits_rfm_vs_mlp",),
}
