"""Task kinds as objects: each knows its loss, its labels, what counts as correct, how a
distilled tree's fidelity is measured and how its files name these. ``KINDS`` looks one up
by the name a task and a dataset's ``kind`` attr carry.

- ``binary``: one output, labels in {-1, +1}; squared loss; accuracy = sign agreement.
- ``regression``: one output, real labels; squared loss; accuracy = fraction of
  predictions within ``REGRESSION_TOLERANCE`` of the label (meaningful for the
  integer-valued Boolean targets used here, e.g. the staircase); trees are regression
  trees and fidelity is 1 − MSE(tree, net) / Var(net).
- ``multiclass``: one output per class, integer labels; cross-entropy; accuracy = argmax.
- ``vector``: c real outputs, real target vectors (n, c); squared error summed over the
  outputs, mean over samples; accuracy = fraction of samples whose every output is within
  ``REGRESSION_TOLERANCE`` of its target (the gated networks of the gdln study); no trees.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

REGRESSION_TOLERANCE = 0.5


class TaskKind:
    """Base: squared loss on one output, exact label agreement, agreement as fidelity.

    Attributes:
        name: the kind's name in tasks, datasets and params.
        label_name: what a label is, for the dataset's long names.
        y_dims: extra dims of a label beyond the sample (``("output",)`` for vectors).
        loss_name, accuracy_rule: the curves' long names.
        tree: ``classifier``, ``regressor`` or ``""`` (no tree is distilled).
    """

    name = ""
    label_name = "target value"
    y_dims: tuple[str, ...] = ()
    loss_name = "mean squared error"
    accuracy_rule = ""
    tree = "classifier"

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean loss over samples: ``out`` (..., n, c), ``y`` (..., n) -> (...); leading axes
        (e.g. ensemble members) are kept, so summing members keeps each one's gradient exact."""
        return ((out[..., 0] - y) ** 2).mean(-1)

    def predict_labels(self, out: torch.Tensor) -> torch.Tensor:
        """Network outputs (n, c) -> the labels a tree imitates (n,)."""
        return out[..., 0]

    def correct(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Boolean: which predicted labels count as correct."""
        return pred.double() == y.double()

    def fidelity(self, tree_prediction: np.ndarray, net_labels: np.ndarray) -> float:
        """How well a tree copies the network: label agreement in [0, 1]."""
        return float(self.correct(torch.as_tensor(tree_prediction), torch.as_tensor(net_labels)).double().mean())


class Binary(TaskKind):
    name, accuracy_rule = "binary", "sign agreement"

    def predict_labels(self, out):
        return torch.where(out[..., 0] >= 0, 1.0, -1.0).to(out.dtype)


class Regression(TaskKind):
    name, tree = "regression", "regressor"
    accuracy_rule = f"|prediction - label| < {REGRESSION_TOLERANCE}"

    def correct(self, pred, y):
        return (pred.double() - y.double()).abs() < REGRESSION_TOLERANCE

    def fidelity(self, tree_prediction, net_labels):
        """1 − MSE/Var: 1 for a perfect copy, ≤ 0 for any constant (−inf if the network is
        constant and the tree is not)."""
        tree_prediction = np.asarray(tree_prediction, dtype=np.float64)
        net_labels = np.asarray(net_labels, dtype=np.float64)
        mse = float(np.mean((tree_prediction - net_labels) ** 2))
        variance = float(np.var(net_labels))
        if variance == 0.0:
            return 1.0 if mse == 0.0 else -np.inf
        return 1.0 - mse / variance


class Multiclass(TaskKind):
    name, label_name, loss_name, accuracy_rule = "multiclass", "class index", "cross-entropy", "argmax agreement"

    def loss(self, out, y):
        y = y.expand(out.shape[:-1])  # labels shared by every member
        per_sample = F.cross_entropy(out.flatten(0, -2), y.flatten(), reduction="none").view(y.shape)
        return per_sample.mean(-1)

    def predict_labels(self, out):
        return out.argmax(-1)


class Vector(TaskKind):
    name, label_name, y_dims, tree = "vector", "target vector", ("output",), ""
    loss_name = "squared error summed over outputs, mean over samples"
    accuracy_rule = f"every |output - target| < {REGRESSION_TOLERANCE}"

    def loss(self, out, y):
        return (out - y).square().sum(-1).mean(-1)

    def predict_labels(self, out):
        return out

    def correct(self, pred, y):
        return ((pred.double() - y.double()).abs() < REGRESSION_TOLERANCE).all(-1)


KINDS: dict[str, TaskKind] = {k.name: k for k in (Binary(), Regression(), Multiclass(), Vector())}


def task_kind(name: str) -> TaskKind:
    """The kind called ``name``; an unknown name lists the known ones."""
    if name not in KINDS:
        raise ValueError(f"unknown task kind {name!r}; known kinds: {', '.join(KINDS)}")
    return KINDS[name]
