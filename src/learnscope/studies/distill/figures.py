"""Figures of the ``distill`` study: exact recovery vs the beam width k per depth r (CART and
chance beside it), the example run's probed ANDs by score with the true tree's ANDs marked, and
the example's distilled tree next to the true one."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.distill.trees import plot_tree
from learnscope.studies.distill.analysis import example_tree
from learnscope.studies.plotting import figure


def recovery(summary: xr.Dataset):
    """Exact recovery rate vs k, one line per depth; CART and the constant tree dashed/dotted."""
    fig, axes = figure(2, width=4.4, height=3.6)
    ks = summary["k"].values
    for i, r in enumerate(summary["depth"].values):
        color = f"C{i}"
        axes[0].plot(ks, summary["recovery"].sel(depth=r).values, marker="o", color=color, label=f"probing, r = {r}")
        axes[0].axhline(float(summary["cart_recovery"].sel(depth=r)), color=color, linestyle="--", linewidth=1,
                        label=f"CART (same leaves), r = {r}")
        axes[1].plot(ks, summary["probes_median"].sel(depth=r).values, marker="o", color=color, label=f"r = {r}")
        axes[1].axhline(float(summary["n_all_ands"].sel(depth=r)), color=color, linestyle=":", linewidth=1,
                        label=f"all ANDs of ≤ {r} literals")
    axes[0].axhline(float(summary["chance_recovery"].max()), color="k", linestyle=":", linewidth=1,
                    label="chance (constant tree)")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].set_ylabel("exact recovery rate")
    axes[0].set_title(f"d = {summary.attrs['n_bits']}: {len(summary['tree'])} trees x {len(summary['seed'])} seeds "
                      "per depth", fontsize=9)
    axes[1].set_yscale("log")
    axes[1].set_ylabel("ANDs probed (median)")
    axes[1].set_title("probes vs all ANDs", fontsize=9)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("beam width k")
        ax.legend(fontsize=6)
    return fig


def and_scores(summary: xr.Dataset):
    """The example run's probe scores (1 − R², log scale) per AND depth; true ANDs in red (the
    root, the empty AND, is always kept and not drawn)."""
    fig, axes = figure(1, width=5.6, height=3.8)
    ax = axes[0]
    drawn = summary["example_and_depth"].values > 0
    depth = summary["example_and_depth"].values[drawn]
    score = np.maximum(summary["example_and_score"].values[drawn], 1e-4)  # drawn at 1e-4 if below
    true = summary["example_and_true"].values[drawn].astype(bool)
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(depth))
    ax.scatter(depth[~true] + jitter[~true], score[~true], s=2, color="0.6", alpha=0.5, label="probed AND")
    ax.scatter(depth[true] + jitter[true], score[true], s=30, marker="x", color="C3", label="AND of the true tree")
    ax.set_yscale("log")
    ax.set_xticks(sorted(set(depth.tolist())))
    ax.set_xlabel("literals in the AND")
    ax.set_ylabel("probe score: validation 1 − R²")
    ax.set_title(f"{summary.attrs['example_run']}: {len(depth)} ANDs probed at k = {summary.attrs['k_max']}",
                 fontsize=9)
    ax.legend(fontsize=7)
    return fig


def trees(summary: xr.Dataset):
    """The example's true tree beside its distilled tree at the widest beam."""
    fig, axes = figure(2, width=5.2, height=3.6)
    for ax, which, title in zip(axes, (0, 1), ("true tree", f"distilled by probing, k = {summary.attrs['k_max']}")):
        plot_tree(example_tree(summary, which), ax)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    return fig


FIGURES = {"recovery.png": recovery, "and_scores.png": and_scores, "trees.png": trees}
