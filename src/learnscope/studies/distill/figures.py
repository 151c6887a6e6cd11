"""Figures of the ``distill`` study: exact recovery vs the beam width k per depth r (CART and
chance beside it), fidelity vs size for CART and the distilled trees, the example run's probed ANDs by score with the true tree's ANDs marked, and
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


def fidelity_vs_size(summary: xr.Dataset):
    """Fidelity to the network vs tree size: CART at every size 2..2^r (median and range over
    runs) and the distilled tree of every beam width k (median size and fidelity)."""
    depths = summary["depth"].values
    fig, axes = figure(len(depths), width=4.2, height=3.4)
    sizes = summary["cart_leaves"].values
    for ax, r in zip(axes, depths):
        cart = summary["cart_size_fidelity"].sel(depth=r).values.reshape(-1, len(sizes))  # (run, size)
        keep = np.isfinite(cart).all(axis=0)
        ax.plot(sizes[keep], np.median(cart[:, keep], axis=0), marker="s", color="C1", label="CART (median)")
        ax.fill_between(sizes[keep], cart[:, keep].min(axis=0), cart[:, keep].max(axis=0), color="C1", alpha=0.2)
        leaves = summary["leaves"].sel(depth=r).values.reshape(-1, len(summary["k"]))
        fidelity = summary["fidelity"].sel(depth=r).values.reshape(-1, len(summary["k"]))
        ax.plot(np.median(leaves, axis=0), np.median(fidelity, axis=0), "o", color="C0", label="probing (median)")
        points: dict[tuple, list[str]] = {}  # widths that land on one point share one label
        for k, x, y in zip(summary["k"].values, np.median(leaves, axis=0), np.median(fidelity, axis=0)):
            points.setdefault((float(x), float(y)), []).append(str(k))
        for (x, y), ks in points.items():
            ax.annotate(f"k = {', '.join(ks)}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=6)
        ax.set_xlabel("leaves")
        ax.set_ylabel("fidelity to the network (validation)")
        ax.set_title(f"depth-{r} trees", fontsize=9)
        ax.legend(fontsize=7)
    return fig


FIGURES = {"recovery.png": recovery, "fidelity_vs_size.png": fidelity_vs_size, "and_scores.png": and_scores, "trees.png": trees}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "recovery.png": ("recovery_r2_k10", "recovery_r3_k10", "recovery_r3_k50"),
    "fidelity_vs_size.png": ("probing_vs_cart",),
    "and_scores.png": ("probes_vs_all",),
}
