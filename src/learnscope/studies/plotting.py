"""Shared plotting helpers: every study shows the spread over seeds (median and range)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402


def band(ax, x: np.ndarray, values: np.ndarray, label: str, color=None, **kwargs) -> None:
    """Median over seeds as a line and the min-max range as a band; ``values`` is (seed, x)."""
    values = np.asarray(values, dtype=np.float64)
    line, = ax.plot(x, np.nanmedian(values, axis=0), label=label, color=color, **kwargs)
    ax.fill_between(x, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=line.get_color(),
                    alpha=0.2, linewidth=0)


class ZeroAndDecades(mticker.Locator):
    """Major ticks of a symlog axis from 0: 0 and every power of ten ≥ its linear threshold
    (a tick inside the linear part would print on top of the 0)."""

    def __init__(self, linthresh: float):
        self.linthresh = linthresh

    def __call__(self):
        vmax = max(self.axis.get_view_interval())
        first, last = math.ceil(math.log10(self.linthresh)), math.floor(math.log10(max(vmax, self.linthresh)))
        return [0.0] + [10.0 ** k for k in range(first, last + 1)]


def _zero_or_power(value: float, _position) -> str:
    return "0" if value == 0 else f"$10^{{{round(math.log10(value))}}}$"


def symlog_from_zero(ax, linthresh: float, label: str) -> None:
    """A log-scaled x axis that still shows 0: linear up to ``linthresh``, ticks 0 and the decades."""
    ax.set_xscale("symlog", linthresh=linthresh)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_locator(ZeroAndDecades(linthresh))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(_zero_or_power))
    ax.set_xlabel(label)


def symlog_steps(ax) -> None:
    """Log-scaled step axis that still shows step 0."""
    symlog_from_zero(ax, 1.0, "step")


def integer_ticks(ax) -> None:
    """Whole-number ticks on both axes (indices of inputs, units, layers)."""
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(mticker.MaxNLocator(integer=True))


def figure(n_panels: int, width: float = 4.2, height: float = 3.4):
    fig, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
    return fig, axes[0]


def grid(rows: int, cols: int, width: float = 4.2, height: float = 3.4):
    """A rows x cols figure; axes[r][c]."""
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    return fig, axes
