"""Figures of the ``similarity`` study: GULP heat maps per input space (runs ordered by task,
width and seed), GULP to the final network over training, GULP against the other measures
across pairs, and ridge-predictor gaps against GULP_λ (the bound)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.plotting import band, figure, symlog_steps
from learnscope.studies.similarity.metrics import gap_ratio, metrics, seed_distances


def _groups(summary: xr.Dataset, idx: np.ndarray) -> list[tuple[int, int, str]]:
    """Consecutive runs of ``idx`` with one (source, task, width): (first, last + 1, label)."""
    keys = [(str(summary["source"].values[i]), str(summary["task"].values[i]), int(summary["width"].values[i]))
            for i in idx]
    out, start = [], 0
    for k in range(1, len(keys) + 1):
        if k == len(keys) or keys[k] != keys[start]:
            source, task, width = keys[start]
            out.append((start, k, f"{source}/{task} w{width}"))
            start = k
    return out


def distances(summary: xr.Dataset):
    """GULP between final networks, one heat map per input space with more than one run."""
    lam = float(summary.attrs["headline_lam"])
    spaces = [s for s in dict.fromkeys(summary["space"].values) if (summary["space"].values == s).sum() > 1]
    fig, axes = figure(max(len(spaces), 1), width=4.6, height=4.4)
    d = summary["gulp"].sel(lam=lam).values
    for ax, space in zip(axes, spaces):
        idx = np.flatnonzero(summary["space"].values == space)
        image = ax.imshow(d[np.ix_(idx, idx)], cmap="viridis", interpolation="nearest")
        groups = _groups(summary, idx)
        for start, stop, _ in groups[1:]:
            ax.axhline(start - 0.5, color="w", linewidth=0.8)
            ax.axvline(start - 0.5, color="w", linewidth=0.8)
        centres = [(start + stop - 1) / 2 for start, stop, _ in groups]
        ax.set_yticks(centres, [label for *_, label in groups], fontsize=6)
        ax.set_xticks(centres, [str(i + 1) for i in range(len(groups))], fontsize=6)
        ax.set_xlabel("the same groups, in order (seeds within)", fontsize=7)
        ax.set_title(f"{space}: GULP λ = {lam:g}", fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="d_λ")
    same = metrics(summary)["same_task_closer_frac"]
    fig.suptitle(f"Do networks trained on the same task cluster? nearest run shares the task: "
                 f"{'n/a' if same is None else f'{same:.2f}'} of informative runs", fontsize=9)
    return fig


def convergence(summary: xr.Dataset):
    """GULP of each checkpoint to its run's final network, median and range over seeds per
    (source, task, width), with the median distance between seeds' final networks dashed."""
    lam = float(summary.attrs["headline_lam"])
    fig, axes = figure(1, width=6.0, height=4.0)
    ax = axes[0]
    order = np.arange(summary.sizes["run"])
    across = seed_distances(summary)
    for c, (start, stop, label) in enumerate(_groups(summary, order)):
        idx = order[start:stop]
        steps = summary["snapshot_step"].values[idx[0]]
        valid = steps >= 0
        if not all(np.array_equal(summary["snapshot_step"].values[i], steps) for i in idx):
            continue  # seeds snapshotted at other steps: drawn only when they agree
        band(ax, steps[valid], summary["gulp_to_final"].sel(lam=lam).values[idx][:, valid], label, color=f"C{c % 10}")
        if np.isfinite(across[idx]).any():
            ax.axhline(np.nanmedian(across[idx]), color=f"C{c % 10}", linestyle="--", linewidth=0.8)
    symlog_steps(ax)
    ax.set_ylabel(f"GULP d_λ to the final network (λ = {lam:g})")
    frac = metrics(summary)["converges_over_training"]
    ax.set_title(f"Representations converge over training: non-increasing over the last half for {frac:.2f} "
                 "of runs\n(dashed: median distance between seeds' final networks)", fontsize=8)
    ax.legend(fontsize=6)
    return fig


def measures(summary: xr.Dataset):
    """GULP against 1 − CKA, CCA and Procrustes across pairs of final networks."""
    lam = float(summary.attrs["headline_lam"])
    fig, axes = figure(summary.sizes["measure"], width=3.8, height=3.4)
    g = summary["gulp"].sel(lam=lam).values
    pairs = np.triu(np.isfinite(g), k=1)
    same = summary["same_task"].values[pairs] == 1
    for ax, measure in zip(axes, summary["measure"].values):
        other = summary["distance"].sel(measure=measure).values[pairs]
        ax.scatter(other[same], g[pairs][same], s=5, label="same task", color="C0")
        ax.scatter(other[~same], g[pairs][~same], s=5, label="different tasks", color="C3")
        rho = float(summary["rank_corr"].sel(lam=lam, measure=measure))
        ax.set_xlabel(f"{'1 − CKA' if measure == 'cka' else measure} distance")
        ax.set_ylabel(f"GULP λ = {lam:g}")
        ax.set_title(f"Spearman ρ = {rho:.2f}", fontsize=9)
        ax.legend(fontsize=6)
    return fig


def ridge_gap(summary: xr.Dataset):
    """Largest RMS gap between ridge-λ predictors of a pair over the random targets, against
    GULP_λ, every λ; the bound is the diagonal."""
    fig, axes = figure(1, width=5.0, height=4.2)
    ax = axes[0]
    for l, lam in enumerate(summary["lam"].values):
        d = summary["gulp"].isel(lam=l).values
        gap = summary["ridge_gap_max"].isel(lam=l).values
        keep = np.isfinite(gap) & (d > 0)
        ax.scatter(d[keep], gap[keep], s=5, color=f"C{l}", label=f"λ = {lam:g}")
    top = np.nanmax(summary["gulp"].values)
    ax.plot([0, top], [0, top], color="k", linewidth=0.8, label="gap = GULP_λ (the bound)")
    ax.set_xlabel("GULP d_λ")
    ax.set_ylabel("largest RMS gap between the ridge-λ predictors")
    ratio = float(np.nanmax(gap_ratio(summary).values))
    ax.set_title(f"Ridge predictors never differ by more than GULP_λ: largest gap ÷ d_λ = {ratio:.3f}", fontsize=8)
    ax.legend(fontsize=6)
    return fig


FIGURES = {"distances.png": distances, "convergence.png": convergence, "measures.png": measures,
           "ridge_gap.png": ridge_gap}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "distances.png": ("same_task_closer_frac",),
    "convergence.png": ("converges_over_training",),
    "measures.png": ("gulp_cka_spearman",),
    "ridge_gap.png": ("ridge_gap_bounded",),
}
