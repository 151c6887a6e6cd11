"""Shared plotting helpers: every study shows the spread over seeds (median and range)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def band(ax, x: np.ndarray, values: np.ndarray, label: str, color=None, **kwargs) -> None:
    """Median over seeds as a line and the min-max range as a band; ``values`` is (seed, x)."""
    values = np.asarray(values, dtype=np.float64)
    line, = ax.plot(x, np.nanmedian(values, axis=0), label=label, color=color, **kwargs)
    ax.fill_between(x, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=line.get_color(),
                    alpha=0.2, linewidth=0)


def symlog_steps(ax) -> None:
    """Log-scaled step axis that still shows step 0."""
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(left=0)
    ax.set_xlabel("step")


def figure(n_panels: int, width: float = 4.2, height: float = 3.4):
    fig, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
    return fig, axes[0]
