"""Array helpers the studies' tables share: runs of unequal length stacked on one grid, and
medians over seeds that some runs did not reach (NaN)."""

from __future__ import annotations

import numpy as np


def pad(values, shape: tuple[int, ...], fill=np.nan, dtype=np.float64) -> np.ndarray:
    """``values`` in the corner of an array of ``shape`` filled with ``fill`` (e.g. a run's
    curve of 40 evaluations on a grid of 45: the last 5 are NaN)."""
    values = np.asarray(values)
    out = np.full(shape, fill, dtype=dtype)
    out[tuple(slice(0, n) for n in values.shape)] = values
    return out


def nanmedian(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median along ``axis`` ignoring NaN; NaN where all are NaN (without a warning)."""
    values = np.moveaxis(np.asarray(values, dtype=np.float64), axis, -1)
    ok = np.isfinite(values).any(axis=-1)
    out = np.full(values.shape[:-1], np.nan)
    out[ok] = np.nanmedian(values[ok], axis=-1)
    return out
