"""Array helpers the studies' tables share: runs of unequal length stacked on one grid."""

from __future__ import annotations

import numpy as np


def pad(values, shape: tuple[int, ...], fill=np.nan, dtype=np.float64) -> np.ndarray:
    """``values`` in the corner of an array of ``shape`` filled with ``fill`` (e.g. a run's
    curve of 40 evaluations on a grid of 45: the last 5 are NaN)."""
    values = np.asarray(values)
    out = np.full(shape, fill, dtype=dtype)
    out[tuple(slice(0, n) for n in values.shape)] = values
    return out
