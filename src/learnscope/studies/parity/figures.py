"""Figures of the ``parity`` study; each title states the claim it tests."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.plotting import band, figure, integer_ticks, symlog_steps

def loss_curves(summary: xr.Dataset):
    """Loss every ``eval_every`` steps (lines) and at the log-spaced snapshots (markers)."""
    fig, axes = figure(summary.sizes["task"])
    for ax, task in zip(axes, summary["task"].values):
        for width in summary["width"].values:
            sel = summary.sel(task=task, width=width)
            for split, style in (("train", "-"), ("test", "--")):
                band(ax, summary["eval_step"].values, sel[f"curve_{split}_loss"].values,
                     f"{split}, width {width}", linestyle=style)
                ax.plot(summary["step"].values, sel[f"{split}_loss"].median("seed").values, "o",
                        markersize=2.5, color=ax.lines[-1].get_color())
        symlog_steps(ax)
        ax.set_yscale("log")
        ax.set_ylabel("loss")
        ax.set_title(f"{task}: loss (dots = checkpoint snapshots)")
        ax.legend(fontsize=7)
    return fig


def nfa(summary: xr.Dataset):
    fig, axes = figure(summary.sizes["task"])
    widest = summary["width"].max()
    for ax, task in zip(axes, summary["task"].values):
        sel = summary.sel(task=task, width=widest)
        band(ax, summary["step"].values, sel["nfa_corr_curve"].values, "corr(W1ᵀW1, AGOP^½)")
        band(ax, summary["step"].values, sel["nfa_corr_init_curve"].values, "init baseline corr(W0ᵀW0, AGOP^½)")
        symlog_steps(ax)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("Pearson correlation")
        ax.set_title(f"{task}, width {int(widest)}:\nNFA holds beyond the init baseline?", fontsize=9)
        ax.legend(fontsize=7)
    return fig


def agop_nfm(summary: xr.Dataset):
    """Final AGOP and W1ᵀW1 of the first seed at the largest width, per task."""
    fig, axes = figure(2 * summary.sizes["task"], width=4.0, height=3.4)
    widest, seed = int(summary["width"].max()), int(summary["seed"].values[0])
    for i, task in enumerate(summary["task"].values):
        for ax, name, label in ((axes[2 * i], "agop_final", "AGOP"), (axes[2 * i + 1], "nfm_final", "W1ᵀW1")):
            m = summary[name].sel(task=task).values
            inputs = np.isfinite(m).all(axis=1)  # a task with fewer inputs is padded with NaN
            m = m[inputs][:, inputs]
            image = ax.imshow(m / np.abs(m).max(), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
            fig.colorbar(image, ax=ax, fraction=0.046, label="÷ largest |entry|")
            integer_ticks(ax)
            ax.set_title(f"{task}: final {label}\n(width {widest}, seed {seed})", fontsize=8)
            ax.set_xlabel("input coordinate")
            ax.set_ylabel("input coordinate")
    return fig


def stable_rank(summary: xr.Dataset):
    fig, axes = figure(summary.sizes["task"])
    for ax, task in zip(axes, summary["task"].values):
        for width in summary["width"].values:
            band(ax, summary["step"].values, summary["dw_stable_rank"].sel(task=task, width=width).values,
                 f"width {width}")
        symlog_steps(ax)
        ax.set_ylabel("stable rank of W1_t − W1_0")
        ax.set_title(f"{task}: the first-layer update is low rank?", fontsize=9)
        ax.legend(fontsize=7)
    return fig


def fidelity(summary: xr.Dataset):
    fig, axes = figure(summary.sizes["task"])
    widest = summary["width"].max()
    for ax, task in zip(axes, summary["task"].values):
        sel = summary["tree_fidelity"].sel(task=task, width=widest)
        for variant, label in (("cart", "CART on the net's labels"), ("agop", "CART on AGOP-selected coords")):
            band(ax, summary["depth"].values, sel.sel(variant=variant).values, label, marker="o")
        ax.set_xlabel("tree depth")
        ax.set_ylabel("fidelity to the network")
        ax.set_xticks(summary["depth"].values)
        ax.set_title(f"{task}, width {int(widest)}:\nthe AGOP guides a tree to the support?", fontsize=9)
        ax.legend(fontsize=7)
    return fig


FIGURES = {"loss_curves.png": loss_curves, "nfa.png": nfa, "agop_nfm.png": agop_nfm,
           "stable_rank.png": stable_rank, "fidelity.png": fidelity}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "nfa.png": ("nfa_corr",),
    "fidelity.png": ("support_recovered", "cart_misses_support"),
}
