"""Figures of the ``algebra`` study; each title states the claim it tests. A figure whose
experiment is not in params.yaml says so in an empty panel (the file list is fixed)."""

from __future__ import annotations

import matplotlib.ticker as mticker
import numpy as np
import xarray as xr

from learnscope.studies.plotting import band, figure, grid, symlog_steps

SEED_SHOWN = 0  # heat maps show the first seed of the sweep


def _missing(ax, role: str) -> None:
    ax.text(0.5, 0.5, f"no `{role}` experiment in params.yaml", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _has(summary: xr.Dataset, role: str) -> bool:
    return role in summary.attrs["experiments"].split(",")


def _sorted_units(summary: xr.Dataset, role: str, seed_index: int) -> np.ndarray:
    """Active units of one seed, sorted by best irrep then by their fraction in it: (unit, irrep) fractions."""
    frac = summary[f"{role}_energy_frac"].values[seed_index]
    active = summary[f"{role}_active"].values[seed_index].astype(bool)
    frac = frac[active]
    best = frac.argmax(-1)
    order = np.lexsort((-frac.max(-1), best))
    return frac[order]


def _heatmap(ax, summary: xr.Dataset, role: str, title: str, irrep_labels: list[str] | None = None,
             seed_index: int = SEED_SHOWN) -> None:
    frac = _sorted_units(summary, role, seed_index)
    names = list(summary[f"{role}_irrep"].values)
    image = ax.imshow(frac, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), irrep_labels or names, rotation=90, fontsize=6 if len(names) > 12 else 8)
    ax.yaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.set_ylabel(f"active {summary.attrs[f'{role}_unit_dim']} (sorted by best irrep)")
    ax.set_title(title, fontsize=9)
    ax.figure.colorbar(image, ax=ax, label="energy fraction")


def frequencies(summary: xr.Dataset):
    """Neuron x frequency energy fractions of every seed (columns), L_{2,3} vs plain L2 (rows)."""
    seeds = summary["seed"].values
    fig, axes = grid(2, len(seeds), width=4.4, height=4.4)
    for row, role, reg in zip(axes, ("margin", "contrast"), (r"$L_{2,3}$ penalty", "L2 weight decay")):
        for i, (ax, seed) in enumerate(zip(row, seeds)):
            if not _has(summary, role):
                _missing(ax, role)
                continue
            labels = [n.replace("rot", "") if n.startswith("rot") else n[:4] for n in summary[f"{role}_irrep"].values]
            used = summary[f"{role}_coverage"].values[i, -1]
            _heatmap(ax, summary, role, f"{summary.attrs[f'{role}_group']}, {reg}, seed {int(seed)}:\n"
                                        f"{used:.0%} of frequencies used", labels, seed_index=i)
            ax.set_xlabel("frequency k (trivial = constant)")
    fig.suptitle("Neurons are single-frequency and use every frequency with the max-margin penalty, "
                 "not with L2?", fontsize=10)
    return fig


def margin(summary: xr.Dataset):
    """Normalised margin over training vs the theoretical maximum."""
    fig, axes = figure(2)
    ax = axes[0]
    plotted = False
    for role, label in (("margin", r"$L_{2,3}$ penalty"), ("contrast", "L2 weight decay")):
        if _has(summary, role) and f"{role}_normalised_margin" in summary:
            steps = summary[f"{role}_snapshot_step"].values
            band(ax, steps, summary[f"{role}_normalised_margin"].values, label)
            plotted = True
    if not plotted:
        _missing(axes[0], "margin")
        _missing(axes[1], "margin")
        return fig
    role = "margin" if _has(summary, "margin") else "contrast"
    gamma = float(summary[f"{role}_max_margin"])
    ax.axhline(gamma, color="k", linestyle="--", label="theory: max margin γ*")
    ax.set_ylim(bottom=-0.5 * gamma, top=1.25 * gamma)
    symlog_steps(ax)
    ax.set_ylabel("margin / Σ_j ‖θ_j‖³")
    ax.set_title("does the normalised margin approach γ*?", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[1]
    for r, label in (("margin", r"$L_{2,3}$: median best-frequency fraction"), ("contrast", "L2: same")):
        if _has(summary, r):
            steps = summary[f"{r}_snapshot_step"].values
            band(ax, steps, summary[f"{r}_best_frac"].values, label)
            band(ax, steps, summary[f"{r}_coverage"].values, label.split(":")[0] + ": frequency coverage",
                 linestyle=":")
    ax.axhline(float(summary[f"{role}_chance_best_frac"]), color="grey", linestyle="--",
               label="chance (random neuron)")
    symlog_steps(ax)
    ax.set_ylim(0, 1.05)
    ax.set_title("single-frequency neurons, all frequencies used?", fontsize=9)
    ax.legend(fontsize=6)
    return fig


def irreps(summary: xr.Dataset):
    """Irrep energy per neuron for each seed of the irreps experiment."""
    n_seeds = summary.sizes["seed"]
    fig, axes = figure(n_seeds, width=3.6, height=4.2)
    if not _has(summary, "irreps"):
        for ax in axes:
            _missing(ax, "irreps")
        return fig
    for i, ax in enumerate(axes):
        frac = _sorted_units(summary, "irreps", i)
        names = list(summary["irreps_irrep"].values)
        image = ax.imshow(frac, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
        ax.set_title(f"{summary.attrs['irreps_group']}, seed {int(summary['seed'].values[i])}: "
                     f"median best-irrep fraction {summary['irreps_best_frac'].values[i, -1]:.2f}", fontsize=8)
    axes[0].set_ylabel("active neurons (sorted by best irrep)")
    fig.colorbar(image, ax=axes[-1], label="energy fraction")
    fig.suptitle("neurons align with one irrep; which irreps varies by seed?", fontsize=9)
    return fig


def grokking(summary: xr.Dataset):
    """Train/test accuracy with snapshots marked, and the embedding's key frequencies."""
    fig, axes = figure(2, width=5.0)
    if not _has(summary, "grokking"):
        for ax in axes:
            _missing(ax, "grokking")
        return fig
    ax = axes[0]
    steps = summary["grokking_eval_step"].values
    for i in range(summary.sizes["seed"]):
        ax.plot(steps, summary["grokking_train_acc"].values[i], linewidth=1,
                        label="train" if i == 0 else None, color="C0")
        ax.plot(steps, summary["grokking_test_acc"].values[i], linewidth=1, color="C1",
                label="test" if i == 0 else None)
    for s in summary["grokking_snapshot_step"].values:
        ax.axvline(s, color="grey", alpha=0.25, linewidth=0.5)
    ax.axhline(float(summary.attrs["accuracy_threshold"]), color="k", linestyle=":", linewidth=0.8)
    symlog_steps(ax)
    ax.set_ylabel("accuracy")
    ax.set_title(f"{summary.attrs['grokking_group']}, {summary.attrs['grokking_train_fraction']:.0%} of pairs "
                 "trained on:\ntest accuracy long after train? (grey: snapshots)", fontsize=8)
    ax.legend(fontsize=7)
    ax = axes[1]
    frac = summary["grokking_embed_irrep_frac"].values  # (seed, snapshot, irrep)
    final = frac[SEED_SHOWN, -1]
    top = np.argsort(-final, kind="stable")[:5]
    snap = summary["grokking_snapshot_step"].values
    names = summary["grokking_irrep"].values
    for j in top:
        ax.plot(snap, frac[SEED_SHOWN, :, j], label=str(names[j]).replace("rot", "k = "))
    symlog_steps(ax)
    ax.set_ylabel("fraction of embedding energy")
    ax.set_title(f"seed {int(summary['seed'].values[SEED_SHOWN])}: a few key frequencies emerge?", fontsize=8)
    ax.legend(fontsize=7)
    return fig


def parity_support(summary: xr.Dataset):
    fig, axes = figure(1)
    ax = axes[0]
    if not _has(summary, "parity"):
        _missing(ax, "parity")
        return fig
    band(ax, summary["parity_snapshot_step"].values, summary["parity_support_frac"].values, "median and range")
    symlog_steps(ax)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("first-layer weight mass on the k relevant bits")
    ax.set_title(f"{summary.attrs['parity_task'][:55]}\nweight only on the relevant bits?", fontsize=8)
    ax.legend(fontsize=7)
    return fig


FIGURES = {"frequencies.png": frequencies, "margin.png": margin, "irreps.png": irreps,
           "grokking.png": grokking, "parity_support.png": parity_support}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "frequencies.png": ("single_freq_frac", "clean_freq_coverage"),
    "margin.png": ("margin_ratio", "l2_margin_ratio"),
    "irreps.png": ("irrep_frac",),
    "grokking.png": ("grok_delay_ratio",),
    "parity_support.png": ("parity_support_frac",),
}
