"""Loss and accuracy per task kind: the one place that defines them.

Task kinds:
- ``binary``: one output, labels in {-1, +1}; squared loss; accuracy = sign agreement.
- ``regression``: one output, real labels; squared loss; accuracy = fraction of
  predictions within ``REGRESSION_TOLERANCE`` of the label (meaningful for the
  integer-valued Boolean targets used here, e.g. the staircase).
- ``multiclass``: one output per class, integer labels; cross-entropy; accuracy = argmax.
- ``vector``: c real outputs, real target vectors (n, c); squared error summed over the
  outputs, mean over samples; accuracy = fraction of samples whose every output is within
  ``REGRESSION_TOLERANCE`` of its target (the gated networks of the gdln study).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

KINDS = ("binary", "regression", "multiclass", "vector")
REGRESSION_TOLERANCE = 0.5


def loss(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean loss over samples: ``out`` (..., n, c), ``y`` (..., n) or, for ``vector``,
    (..., n, c) -> (...); leading axes (e.g. ensemble members) are kept, so summing members
    keeps each one's gradient exact."""
    if kind == "vector":
        return (out - y).square().sum(-1).mean(-1)
    if kind == "multiclass":
        y = y.expand(out.shape[:-1])  # labels shared by every member
        per_sample = F.cross_entropy(out.flatten(0, -2), y.flatten(), reduction="none").view(y.shape)
    else:
        per_sample = (out[..., 0] - y) ** 2
    return per_sample.mean(-1)


def predict_labels(kind: str, out) -> torch.Tensor:
    """Network outputs (n, c) -> the labels a tree imitates: sign, class index or value (n,);
    for ``vector`` the outputs themselves (n, c).

    Accepts a tensor or a numpy array; returns a tensor (``.numpy()`` for numpy code).
    """
    out = torch.as_tensor(out)
    if kind == "binary":
        return torch.where(out[..., 0] >= 0, 1.0, -1.0).to(out.dtype)
    if kind == "multiclass":
        return out.argmax(-1)
    if kind == "vector":
        return out
    return out[..., 0]


def correct(kind: str, pred, y) -> torch.Tensor:
    """Boolean tensor: which predictions (labels as from ``predict_labels``) count as correct."""
    pred, y = torch.as_tensor(pred), torch.as_tensor(y)
    if kind == "vector":
        return ((pred.double() - y.double()).abs() < REGRESSION_TOLERANCE).all(-1)
    if kind == "regression":
        return (pred.double() - y.double()).abs() < REGRESSION_TOLERANCE
    return pred.double() == y.double()


def accuracy(kind: str, pred, y) -> float:
    """Fraction of predictions that count as correct (see ``correct``)."""
    return float(correct(kind, pred, y).double().mean())


def member_loss_and_accuracy(kind: str, out: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(E, 2) float64 loss and accuracy of each ensemble member from its outputs (E, n, c)."""
    losses = loss(kind, out, y).double()
    accs = correct(kind, predict_labels(kind, out), y).double().mean(-1)
    return torch.stack([losses, accs], dim=1).cpu().numpy()
