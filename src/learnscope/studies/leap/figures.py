"""Figures of the ``leap`` study (Abbe, Boix-Adsera, Misiakiewicz, COLT 2023); each title states the
claim it tests.

Per-run views (loss curves, coordinate mass, stable rank, Fourier coefficients) show, for each seed,
the run at that seed's ``best_c``; the panels are at the largest ``d`` of the sweep. Samples-seen axes
are symlog with the linear part ending at the first positive sample count, so sample 0 stays visible.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.arrays import nanmedian
from learnscope.studies.leap.analysis import best_runs
from learnscope.studies.plotting import band, figure, symlog_from_zero



def _finite(x: np.ndarray, y: np.ndarray, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The points where both ``x`` and ``y`` are finite (and ``y > 0`` if ``positive``, for log axes)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y) & ((y > 0) if positive else True)
    return x[keep], y[keep]


def _samples_axis(ax, x: np.ndarray) -> None:
    """Symlog samples-seen axis whose linear part ends at the first positive sample count."""
    x = np.asarray(x, dtype=np.float64)
    positive = x[np.isfinite(x) & (x > 0)]
    symlog_from_zero(ax, float(positive.min()) if positive.size else 1.0, "samples seen")


def _log_y(ax) -> None:
    """Log y-axis, unless the panel has no positive data (an empty log axis cannot be laid out)."""
    if np.isfinite(ax.dataLim.minposy):
        ax.set_yscale("log")


def _mark_drops(ax, x: np.ndarray, y: np.ndarray, drops: np.ndarray, color) -> None:
    """Markers on the curve (x, y) at the finite sample counts in ``drops``."""
    drops = np.asarray(drops, dtype=np.float64)
    drops = drops[np.isfinite(drops)]
    if x.size and drops.size:
        ax.plot(drops, np.interp(drops, x, y), "v", color=color, markersize=5)


def _per_seed(ax, x_all: np.ndarray, run: xr.Dataset, var: str, positive: bool = False) -> None:
    """One line of ``run[var]`` per seed against ``x_all``, with that run's drops marked."""
    for i, seed in enumerate(run["seed"].values):
        x, y = _finite(x_all, run[var].sel(seed=seed).values, positive=positive)
        ax.plot(x, y, color=f"C{i}", label=f"seed {seed}")
        _mark_drops(ax, x, y, run["drop_samples"].sel(seed=seed).values, f"C{i}")


def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _median_seed(summary: xr.Dataset, target, d) -> int:
    """The seed whose ``best_samples`` is the (lower) median at (target, d); the first seed if none reached."""
    samples = summary["best_samples"].sel(target=target, d=d).values
    reached = np.flatnonzero(np.isfinite(samples))
    if reached.size == 0:
        return int(summary["seed"].values[0])
    order = reached[np.argsort(samples[reached], kind="stable")]
    return int(summary["seed"].values[order[(order.size - 1) // 2]])


def _panels(summary: xr.Dataset, x_var: str):
    """(figure, [(ax, target, d, x, runs)]): one panel per target at the largest d, with the
    samples axis ``x_var`` there and each seed's best run (``best_runs``) there."""
    fig, axes = figure(summary.sizes["target"])
    d, runs = summary["d"].max().item(), best_runs(summary)
    return fig, d, [(ax, target, summary[x_var].sel(target=target, d=d).values, runs.sel(target=target, d=d))
                    for ax, target in zip(axes, summary["target"].values)]


def loss_curves(summary: xr.Dataset):
    """Test loss of each seed's best-c run at the largest d, drops marked, threshold dashed."""
    fig, d, panels = _panels(summary, "eval_samples")
    for ax, target, x_all, run in panels:
        _per_seed(ax, x_all, run, "test_loss", positive=True)
        initial = float(nanmedian(run["test_loss"].isel(eval=0).values))
        if np.isfinite(initial) and initial > 0:
            ax.axhline(summary.attrs["threshold"] * initial, color="grey", linestyle="--",
                       label=f"threshold × initial ({summary.attrs['threshold']:g})")
        _samples_axis(ax, x_all)
        _log_y(ax)
        ax.set_ylabel("test loss")
        ax.set_title(f"{target} at d={d}: plateaus and drops\n(best c per seed, ▼ = detected drop)", fontsize=9)
        _legend(ax)
    return fig


def samples_vs_d(summary: xr.Dataset):
    """Best samples-to-threshold vs d per target, the fitted power law and the theory d^k."""
    fig, (ax,) = figure(1, width=5.6, height=4.4)
    d = summary["d"].values.astype(np.float64)
    for i, target in enumerate(summary["target"].values):
        sel, color = summary.sel(target=target), f"C{i}"
        samples = sel["best_samples"].transpose("seed", "d").values
        for per_seed in samples:
            ax.plot(*_finite(d, per_seed, positive=True), "o", color=color, alpha=0.4, markersize=4)
        median = nanmedian(samples, axis=0)
        ax.plot(*_finite(d, median, positive=True), "-", color=color, label=f"{target} median")
        slope, intercept = sel["slope_median"].item(), float(nanmedian(sel["intercept"].values))
        if np.isfinite(slope) and np.isfinite(intercept):
            ax.plot(d, np.exp(intercept) * d**slope, ":", color=color, label=f"{target} fit, slope {slope:.2f}")
        anchor = np.flatnonzero(np.isfinite(median) & (median > 0))
        if anchor.size:  # the theory line goes through the median at the smallest d that has one
            k, (d0, s0) = sel["theory_exponent"].item(), (d[anchor[0]], median[anchor[0]])
            ax.plot(d, s0 * (d / d0) ** k, "--", color=color, label=f"{target} theory d^{k:g}")
    ax.set_xscale("log")
    ax.set_xticks(d, [f"{v:g}" for v in d])
    ax.set_xticks([], minor=True)
    _log_y(ax)
    ax.set_xlabel("input dimension d")
    ax.set_ylabel(f"samples to test loss ≤ {summary.attrs['threshold']:g} × initial (best c)")
    ax.set_title("samples to reach the threshold vs d (slope vs theory)", fontsize=9)
    _legend(ax)
    return fig


def coord_mass(summary: xr.Dataset):
    """First-layer weight mass per coordinate over training for the median seed at the largest d."""
    fig, d, panels = _panels(summary, "snapshot_samples")
    for ax, target, x_all, runs in panels:
        seed = _median_seed(summary, target, d)
        run = runs.sel(seed=seed)
        for coord in summary["coord"].values:
            ax.plot(*_finite(x_all, run["coord_mass"].sel(coord=coord).values, positive=True), label=str(coord))
        for at, coords in zip(run["drop_samples"].values, run["drop_coords"].values):
            if np.isfinite(at):
                ax.axvline(at, color="grey", linestyle=":", linewidth=1)
                ax.text(at, 0.98, str(coords), transform=ax.get_xaxis_transform(), fontsize=7, va="top")
        _samples_axis(ax, x_all)
        _log_y(ax)
        ax.set_ylabel("Σ_j W1[j, i]²  (rest = mean off support)")
        c = summary["best_c"].sel(target=target, d=d, seed=seed).item()
        ax.set_title(f"{target} at d={d} (seed {seed}, c={c:g}): which coordinates\n"
                     "the first layer picks up, and when (dotted = drops)", fontsize=9)
        _legend(ax)
    return fig


def stable_rank(summary: xr.Dataset):
    """Stable rank of W1_t − W1_0 for each seed's best-c run at the largest d, drops marked."""
    fig, d, panels = _panels(summary, "snapshot_samples")
    for ax, target, x_all, run in panels:
        _per_seed(ax, x_all, run, "stable_rank")
        _samples_axis(ax, x_all)
        ax.set_ylabel("stable rank of W1_t − W1_0")
        ax.set_title(f"{target} at d={d}: stable rank of W1_t − W1_0:\nlow, stepping up at drops (▼)?", fontsize=9)
        _legend(ax)
    return fig


def fourier(summary: xr.Dataset):
    """The network's Fourier coefficient on each target monomial over training, band over seeds."""
    fig, d, panels = _panels(summary, "snapshot_samples")
    for ax, target, x_all, runs in panels:
        run = runs["fourier"]
        for monomial, name in zip(summary["monomial"].values, summary["monomial_name"].sel(target=target).values):
            if not name:
                continue  # padding
            values = run.sel(monomial=monomial).transpose("seed", "snapshot").values
            keep = np.isfinite(x_all) & np.isfinite(values).any(axis=0)
            band(ax, x_all[keep], values[:, keep], str(name))
        for level in (0.5, 1.0):
            ax.axhline(level, color="grey", linestyle="--" if level == 0.5 else ":", linewidth=1)
        _samples_axis(ax, x_all)
        ax.set_ylabel("E[f χ_S]  (target: 1)")
        ax.set_title(f"{target} at d={d}: Fourier coefficients learned in leap order\n"
                     "(best c per seed; dashed = 0.5 crossing)", fontsize=9)
        _legend(ax)
    return fig


FIGURES = {"loss_curves.png": loss_curves, "samples_vs_d.png": samples_vs_d, "coord_mass.png": coord_mass,
           "stable_rank.png": stable_rank, "fourier.png": fourier}

CLAIMS = {  # figure -> the claims it illustrates (its title states their values and verdicts)
    "samples_vs_d.png": ("slope_*",),
    "fourier.png": ("fourier_order_*",),
}
