"""Loss and accuracy per task kind: the one place that defines them.

Task kinds:
- ``binary``: one output, labels in {-1, +1}; squared loss; accuracy = sign agreement.
- ``regression``: one output, real labels; squared loss; accuracy = fraction of
  predictions within ``REGRESSION_TOLERANCE`` of the label (meaningful for the
  integer-valued Boolean targets used here, e.g. the staircase).
- ``multiclass``: one output per class, integer labels; cross-entropy; accuracy = argmax.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

KINDS = ("binary", "regression", "multiclass")
REGRESSION_TOLERANCE = 0.5


def loss(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean training loss of outputs ``out`` (n, c) against labels ``y`` (n,)."""
    if kind == "multiclass":
        return F.cross_entropy(out, y)
    return ((out[..., 0] - y) ** 2).mean()


def predict_labels(kind: str, out) -> torch.Tensor:
    """Network outputs (n, c) -> the labels a tree imitates: sign, class index or value (n,).

    Accepts a tensor or a numpy array; returns a tensor (``.numpy()`` for numpy code).
    """
    out = torch.as_tensor(out)
    if kind == "binary":
        return torch.where(out[..., 0] >= 0, 1.0, -1.0).to(out.dtype)
    if kind == "multiclass":
        return out.argmax(-1)
    return out[..., 0]


def accuracy(kind: str, pred, y) -> float:
    """Fraction of predictions (labels as from ``predict_labels``) that count as correct."""
    pred = np.asarray(torch.as_tensor(pred).detach().cpu(), dtype=np.float64)
    y = np.asarray(torch.as_tensor(y).detach().cpu(), dtype=np.float64)
    if kind == "regression":
        return float(np.mean(np.abs(pred - y) < REGRESSION_TOLERANCE))
    return float(np.mean(pred == y))
