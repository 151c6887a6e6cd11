"""Loss and accuracy by task kind name: thin calls into the kind objects of ``learnscope.kinds``
(the one place that defines them), for code that holds a dataset's ``kind`` attr."""

from __future__ import annotations

import numpy as np
import torch

from learnscope.kinds import task_kind


def loss(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean loss over samples per leading axis (``TaskKind.loss``)."""
    return task_kind(kind).loss(out, y)


def predict_labels(kind: str, out) -> torch.Tensor:
    """Network outputs -> the labels a tree imitates (``TaskKind.predict_labels``); accepts a
    tensor or a numpy array, returns a tensor."""
    return task_kind(kind).predict_labels(torch.as_tensor(out))


def correct(kind: str, pred, y) -> torch.Tensor:
    """Boolean tensor: which predictions count as correct (``TaskKind.correct``)."""
    return task_kind(kind).correct(torch.as_tensor(pred), torch.as_tensor(y))


def accuracy(kind: str, pred, y) -> float:
    """Fraction of predictions that count as correct."""
    return float(correct(kind, pred, y).double().mean())


def member_loss_and_accuracy(kind: str, out: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(E, 2) float64 loss and accuracy of each ensemble member from its outputs (E, n, c)."""
    k = task_kind(kind)
    losses = k.loss(out, y).double()
    accs = k.correct(k.predict_labels(out), y).double().mean(-1)
    return torch.stack([losses, accs], dim=1).cpu().numpy()
