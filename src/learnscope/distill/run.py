"""Distill a trained network into trees of every depth and every variant, as one Dataset.

The Dataset is what ``tree.nc`` holds (DESIGN.md, "Trees on disk"): node arrays with dims
(variant, depth, node), padded with -1 past each tree's ``n_nodes``, plus the fidelity
and accuracy of each tree. ``tree_from_dataset`` rebuilds a tree from it, so a saved
file predicts without scikit-learn.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from learnscope.distill import trees
from learnscope.distill.distillers import DISTILLERS, select_coordinates_by_gap
from learnscope.kinds import task_kind
from learnscope.metrics import accuracy, predict_labels

log = logging.getLogger(__name__)

VARIANTS = tuple(DISTILLERS)
FIDELITY_DEFINITIONS = {
    "binary": "fraction of inputs where the tree's label equals the sign of the network output",
    "multiclass": "fraction of inputs where the tree's class equals the network's argmax class",
    "regression": "1 - MSE(tree, network output) / Var(network output)",
}
# Node arrays: dtype, padding value and long_name; dims (variant, depth, node[, output, class]).
_NODE_ARRAYS = {
    "children_left": (np.int32, -1, "left child node id, -1 at a leaf"),
    "children_right": (np.int32, -1, "right child node id, -1 at a leaf"),
    "feature": (np.int32, -1, "input coordinate the node splits on, -2 at a leaf"),
    "threshold": (np.float64, -1.0, "split threshold: x[feature] <= threshold goes left"),
    "impurity": (np.float64, -1.0, "node impurity (Gini or MSE)"),
    "n_node_samples": (np.int64, -1, "number of fitting samples reaching the node"),
    "value": (np.float64, -1.0, "class fractions or mean target at the node"),
}


def fidelity(kind: str, tree_prediction: np.ndarray, net_labels: np.ndarray) -> float:
    """How well a tree imitates the network (see ``FIDELITY_DEFINITIONS``).

    Args:
        kind: task kind.
        tree_prediction: (n,) tree labels or values.
        net_labels: (n,) the network's labels (``predict_labels`` of its outputs).

    Returns:
        Agreement in [0, 1] for classification; 1 - MSE/Var for regression, which is 1
        for a perfect copy and <= 0 for any constant (-inf if the network is constant and
        the tree is not).
    """
    return task_kind(kind).fidelity(tree_prediction, net_labels)


def _fit_all(x_fit, labels_fit, agop, kind, max_depth):
    """{(variant, depth): fitted distiller} for every variant and depth 1..max_depth."""
    extra_args = {"cart": {}, "agop": {"agop": agop}}
    return {
        (variant, depth): DISTILLERS[variant](max_depth=depth, kind=kind, **extra_args[variant])
        .fit(x_fit, labels_fit)
        for variant in VARIANTS
        for depth in range(1, max_depth + 1)
    }


def _padded(fitted: dict, name: str, n_node: int) -> np.ndarray:
    """Stack one node array of every tree into (variant, depth, node, ...), padded."""
    dtype, pad, _ = _NODE_ARRAYS[name]
    depths = sorted({depth for _, depth in fitted})
    first = getattr(next(iter(fitted.values())).tree_, name)
    out = np.full((len(VARIANTS), len(depths), n_node, *first.shape[1:]), pad, dtype=dtype)
    for (variant, depth), distiller in fitted.items():
        array = getattr(distiller.tree_, name)
        out[VARIANTS.index(variant), depth - 1, : len(array)] = array
    return out


def _scores(fitted: dict, x_eval, labels_eval, y_eval, kind: str, d: int) -> dict:
    """Fidelity, accuracy (variant, depth) and coords_used (variant, depth, input) arrays."""
    n_depth = len(fitted) // len(VARIANTS)
    scores = {
        "fidelity": np.zeros((len(VARIANTS), n_depth)),
        "accuracy": np.zeros((len(VARIANTS), n_depth)),
        "coords_used": np.zeros((len(VARIANTS), n_depth, d), dtype=np.int8),
    }
    for (variant, depth), distiller in fitted.items():
        at = (VARIANTS.index(variant), depth - 1)
        prediction = distiller.predict(x_eval)  # (n_eval,)
        scores["fidelity"][at] = fidelity(kind, prediction, labels_eval)
        scores["accuracy"][at] = accuracy(kind, prediction, y_eval)
        scores["coords_used"][at][trees.features_used(distiller.tree_)] = 1
        log.info(
            "%s tree, depth %d: %d nodes, fidelity %.4f, accuracy %.4f",
            variant, depth, distiller.tree_.n_nodes, scores["fidelity"][at], scores["accuracy"][at],
        )
    return scores


def _check_inputs(x_fit, x_eval, agop, max_depth, feature_names) -> None:
    d = x_fit.shape[1]
    if x_eval.shape[1] != d:
        raise ValueError(f"x_eval has {x_eval.shape[1]} input coordinates, x_fit has {d}")
    if agop.shape != (d, d):
        raise ValueError(f"agop must be (d, d) = {(d, d)}, got {agop.shape}")
    if max_depth < 1:
        raise ValueError(f"max_depth must be >= 1, got {max_depth}")
    if feature_names is not None and len(feature_names) != d:
        raise ValueError(
            f"feature_names must name all {d} input coordinates, got {len(feature_names)}"
        )


def distill_network(
    x_fit, out_fit, x_eval, out_eval, y_eval, agop, kind: str, max_depth: int, feature_names=None
) -> xr.Dataset:
    """Fit every variant in ``VARIANTS`` at depths 1..max_depth to the network's labels.

    Each tree is fitted on (x_fit, labels of out_fit) and scored on x_eval: fidelity
    against the network's labels of out_eval, accuracy against the true labels y_eval.

    Args:
        x_fit: (n_fit, d) inputs to fit on.
        out_fit: (n_fit, c) network outputs on x_fit.
        x_eval: (n_eval, d) fresh inputs to score on.
        out_eval: (n_eval, c) network outputs on x_eval.
        y_eval: (n_eval,) true labels of x_eval.
        agop: (d, d) the network's AGOP; its diagonal picks the ``agop`` variant's coordinates.
        kind: task kind, one of ``kinds.KINDS``.
        max_depth: largest tree depth.
        feature_names: (d,) names of the input coordinates, stored as ``input_name``;
            default ``x0``, ``x1``, ...

    Returns:
        Dataset with dims (variant, depth, node, output, class, input): padded node arrays,
        n_nodes, fidelity, accuracy, coords_used, selected_coords and agop_diag.
    """
    x_fit, x_eval = np.asarray(x_fit, dtype=np.float64), np.asarray(x_eval, dtype=np.float64)
    agop = np.asarray(agop, dtype=np.float64)
    _check_inputs(x_fit, x_eval, agop, max_depth, feature_names)
    d = x_fit.shape[1]
    labels_fit = predict_labels(kind, np.asarray(out_fit)).numpy()
    labels_eval = predict_labels(kind, np.asarray(out_eval)).numpy()
    fitted = _fit_all(x_fit, labels_fit, agop, kind, max_depth)
    scores = _scores(fitted, x_eval, labels_eval, y_eval, kind, d)
    data_vars = {**_tree_variables(fitted, max_depth), **_score_variables(scores, agop)}
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(d)]
    names = [str(name) for name in feature_names]
    classes = next(iter(fitted.values())).tree_.classes  # every tree saw the same labels_fit
    coords = {
        "variant": ("variant", np.array(VARIANTS), {"long_name": "distiller variant"}),
        "depth": ("depth", np.arange(1, max_depth + 1), {"long_name": "maximum tree depth"}),
        "input": ("input", np.arange(d), {"long_name": "input coordinate"}),
        "input_name": ("input", np.array(names), {"long_name": "name of the input coordinate"}),
        "class": ("class", classes.copy(), {"long_name": "class label value (0.0 for regression)"}),
    }
    attrs = {"kind": kind, "fidelity_definition": FIDELITY_DEFINITIONS[kind]}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _tree_variables(fitted: dict, max_depth: int) -> dict:
    """Padded node arrays (variant, depth, node[, output, class]) and n_nodes (variant, depth)."""
    n_node = max(distiller.tree_.n_nodes for distiller in fitted.values())
    variables = {}
    for name, (_, _, long_name) in _NODE_ARRAYS.items():
        dims = ("variant", "depth", "node") + (("output", "class") if name == "value" else ())
        variables[name] = (dims, _padded(fitted, name, n_node), {"long_name": long_name})
    depths = range(1, max_depth + 1)
    n_nodes = np.array([[fitted[v, depth].tree_.n_nodes for depth in depths] for v in VARIANTS])
    variables["n_nodes"] = (
        ("variant", "depth"), n_nodes.astype(np.int32),
        {"long_name": "number of nodes of the tree; node arrays are padded with -1 past it"},
    )
    return variables


def _score_variables(scores: dict, agop: np.ndarray) -> dict:
    """fidelity, accuracy, coords_used, selected_coords and agop_diag as Dataset variables."""
    selected = np.zeros(len(agop), dtype=np.int8)
    selected[select_coordinates_by_gap(np.diag(agop))] = 1
    return {
        "fidelity": (("variant", "depth"), scores["fidelity"], {
            "long_name": "agreement of the tree with the network on x_eval", "units": "1"}),
        "accuracy": (("variant", "depth"), scores["accuracy"], {
            "long_name": "accuracy of the tree on the true labels of x_eval", "units": "1"}),
        "coords_used": (("variant", "depth", "input"), scores["coords_used"], {
            "long_name": "1 where the tree splits on the input coordinate", "units": "1"}),
        "selected_coords": (("input",), selected, {
            "long_name": "1 where the coordinate is above the largest log-gap of the AGOP diagonal",
            "units": "1"}),
        "agop_diag": (("input",), np.diag(agop).copy(), {
            "long_name": "diagonal of the network's AGOP"}),
    }


def tree_from_dataset(ds: xr.Dataset, variant: str, depth: int) -> trees.TreeArrays:
    """Rebuild one tree from a ``distill_network`` Dataset (e.g. an opened tree.nc).

    Args:
        ds: the Dataset.
        variant: one of ``ds.variant``.
        depth: one of ``ds.depth``.

    Returns:
        The tree, with the padding past its ``n_nodes`` dropped.
    """
    if variant not in ds["variant"].values or depth not in ds["depth"].values:
        raise ValueError(
            f"no tree for variant {variant!r}, depth {depth}; the dataset has variants "
            f"{list(ds['variant'].values)} and depths {list(ds['depth'].values)}"
        )
    one = ds.sel(variant=variant, depth=depth)
    n = int(one["n_nodes"])
    as_int = {name: one[name].values[:n].astype(np.int64) for name in
              ("children_left", "children_right", "feature", "n_node_samples")}
    as_float = {name: one[name].values[:n].astype(np.float64) for name in
                ("threshold", "impurity", "value")}
    classes = ds["class"].values.astype(np.float64)
    return trees.TreeArrays(**as_int, **as_float, classes=classes, kind=str(ds.attrs["kind"]))
