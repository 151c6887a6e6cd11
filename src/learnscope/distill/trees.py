"""Decision trees as scikit-learn-style parallel node arrays, usable without scikit-learn.

A tree with ``n`` nodes is a set of arrays indexed by node id (the root is node 0):

- ``children_left``, ``children_right`` (n,): child node ids, ``-1`` at a leaf;
- ``feature`` (n,): the ORIGINAL input coordinate a node splits on, ``-2`` at a leaf;
- ``threshold`` (n,): samples with ``x[feature] <= threshold`` go left;
- ``impurity`` (n,), ``n_node_samples`` (n,);
- ``value`` (n, output, class): class fractions (classification) or the mean target
  (regression, one class slot).

This is the layout of ``sklearn.tree._tree.Tree`` (see DESIGN.md, "Trees"), so a tree
written to ``tree.nc`` predicts, prints and plots from its arrays alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learnscope.kinds import KINDS, task_kind

LEAF = -1  # children_left / children_right of a leaf
UNDEFINED_FEATURE = -2  # feature of a leaf


@dataclass(frozen=True, eq=False)
class TreeArrays:
    """A fitted decision tree as parallel node arrays (see the module docstring).

    Attributes:
        children_left: (n_nodes,) int64, left child id or -1.
        children_right: (n_nodes,) int64, right child id or -1.
        feature: (n_nodes,) int64, original input coordinate or -2 at a leaf.
        threshold: (n_nodes,) float64.
        impurity: (n_nodes,) float64.
        n_node_samples: (n_nodes,) int64.
        value: (n_nodes, n_outputs, n_classes) float64.
        classes: (n_classes,) float64 label values; ``[0.0]`` for regression.
        kind: task kind, one of ``kinds.KINDS``.
    """

    children_left: np.ndarray
    children_right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    impurity: np.ndarray
    n_node_samples: np.ndarray
    value: np.ndarray
    classes: np.ndarray
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown task kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        n_nodes = len(self.children_left)
        per_node = ("children_right", "feature", "threshold", "impurity", "n_node_samples", "value")
        for name in per_node:
            if len(getattr(self, name)) != n_nodes:
                raise ValueError(
                    f"tree array {name!r} has {len(getattr(self, name))} nodes, "
                    f"children_left has {n_nodes}; all node arrays must have the same length"
                )
        if self.value.ndim != 3 or self.value.shape[2] != len(self.classes):
            raise ValueError(
                f"value must be (node, output, class) with {len(self.classes)} classes, "
                f"got shape {self.value.shape}"
            )

    @property
    def n_nodes(self) -> int:
        """Number of nodes, leaves included."""
        return len(self.children_left)

    @property
    def is_leaf(self) -> np.ndarray:
        """(n_nodes,) bool, True where the node has no children."""
        return self.children_left == LEAF


def from_counts(children_left, children_right, feature, counts: np.ndarray,
                fallback: np.ndarray | None = None) -> TreeArrays:
    """A binary-kind tree (classes −1, +1; splits at threshold 0, so x = −1 goes left) whose
    node values are the label counts ``counts`` (n_nodes, 2) of the inputs reaching each node
    (Gini impurity, ``n_node_samples``); a node no input reaches gets the class fractions
    ``fallback`` (n_nodes, 2) (default: 0.5 each)."""
    counts = np.asarray(counts, dtype=np.float64)
    reached = counts.sum(axis=1)
    fallback = np.full(counts.shape, 0.5) if fallback is None else np.asarray(fallback, dtype=np.float64)
    value = np.where(reached[:, None] > 0, counts / np.maximum(reached, 1.0)[:, None], fallback)
    feature = np.asarray(feature, dtype=np.int64)
    return TreeArrays(np.asarray(children_left, np.int64), np.asarray(children_right, np.int64), feature,
                      np.where(feature >= 0, 0.0, -2.0), 1.0 - (value ** 2).sum(axis=1), reached.astype(np.int64),
                      value[:, None, :], np.array([-1.0, 1.0]), "binary")


def from_sklearn(estimator, feature_map: np.ndarray | None, kind: str) -> TreeArrays:
    """Copy a fitted ``DecisionTreeClassifier``/``DecisionTreeRegressor`` into ``TreeArrays``.

    Args:
        estimator: a fitted scikit-learn decision tree.
        feature_map: (n_columns,) int, column ``j`` the estimator saw is original input
            coordinate ``feature_map[j]``; ``None`` means the identity.
        kind: task kind; ``"regression"`` stores ``classes = [0.0]``.

    Returns:
        The tree with ``feature`` expressed in original coordinates.
    """
    raw = estimator.tree_
    feature = np.asarray(raw.feature, dtype=np.int64).copy()
    if feature_map is not None:
        feature_map = np.asarray(feature_map, dtype=np.int64)
        split = feature >= 0
        feature[split] = feature_map[feature[split]]
    classes = np.asarray(estimator.classes_ if task_kind(kind).tree == "classifier" else [0.0], dtype=np.float64)
    return TreeArrays(
        children_left=np.asarray(raw.children_left, dtype=np.int64).copy(),
        children_right=np.asarray(raw.children_right, dtype=np.int64).copy(),
        feature=feature,
        threshold=np.asarray(raw.threshold, dtype=np.float64).copy(),
        impurity=np.asarray(raw.impurity, dtype=np.float64).copy(),
        n_node_samples=np.asarray(raw.n_node_samples, dtype=np.int64).copy(),
        value=np.asarray(raw.value, dtype=np.float64).copy(),
        classes=classes,
        kind=kind,
    )


def apply(tree: TreeArrays, x: np.ndarray) -> np.ndarray:
    """Leaf id reached by each sample: (n, d) -> (n,) int64.

    Vectorised over samples: one step per depth level moves every sample that still sits
    at an internal node. Inputs are rounded to float32 first, as scikit-learn does, so
    samples on a threshold go the same way as in ``estimator.predict``.
    """
    x = np.asarray(x, dtype=np.float32).astype(np.float64)
    node = np.zeros(len(x), dtype=np.int64)
    rows = np.arange(len(x))
    active = ~tree.is_leaf[node]
    while active.any():
        at, cur = rows[active], node[active]
        go_left = x[at, tree.feature[cur]] <= tree.threshold[cur]
        node[at] = np.where(go_left, tree.children_left[cur], tree.children_right[cur])
        active = ~tree.is_leaf[node]
    return node


def predict(tree: TreeArrays, x: np.ndarray) -> np.ndarray:
    """Tree predictions (n,) float64 for inputs x (n, d) in original coordinates.

    Classification returns ``classes[argmax value]`` at the leaf; regression the leaf mean.
    """
    leaf_value = tree.value[apply(tree, x), 0, :]  # (n, class)
    if task_kind(tree.kind).tree == "regressor":
        return leaf_value[:, 0].copy()
    return tree.classes[leaf_value.argmax(axis=1)]


def features_used(tree: TreeArrays) -> np.ndarray:
    """Sorted unique original coordinates the tree splits on (k,) int64."""
    return np.unique(tree.feature[~tree.is_leaf])


def node_depths(tree: TreeArrays) -> np.ndarray:
    """(n_nodes,) int64 depth of each node, the root at 0."""
    depth = np.zeros(tree.n_nodes, dtype=np.int64)
    for node in _preorder(tree):  # parents come before children
        if not tree.is_leaf[node]:
            depth[tree.children_left[node]] = depth[node] + 1
            depth[tree.children_right[node]] = depth[node] + 1
    return depth


def _preorder(tree: TreeArrays) -> list[int]:
    """Node ids in depth-first order, left subtree first."""
    order, stack = [], [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if not tree.is_leaf[node]:
            stack += [int(tree.children_right[node]), int(tree.children_left[node])]
    return order


def _feature_name(feature: int, feature_names) -> str:
    return str(feature_names[feature]) if feature_names is not None else f"x{feature}"


def _leaf_label(tree: TreeArrays, node: int, decimals: int = 2) -> str:
    """What a leaf predicts, as ``class: 1.0`` or ``value: [0.53]``."""
    if task_kind(tree.kind).tree == "regressor":
        return f"value: [{tree.value[node, 0, 0]:.{decimals}f}]"
    return f"class: {tree.classes[tree.value[node, 0].argmax()]}"


def render_text(tree: TreeArrays, feature_names=None) -> str:
    """Indented if/else rendering in the format of ``sklearn.tree.export_text``.

    Args:
        tree: the tree.
        feature_names: names indexed by ORIGINAL coordinate; default ``x{i}``.

    Returns:
        One line per branch (``|--- x2 <= 0.00`` / ``|--- x2 >  0.00``) and per leaf.
    """
    lines = []
    stack: list[tuple[int, int] | str] = [(0, 1)]  # (node, depth) to expand, or a ready line
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            lines.append(item)
            continue
        node, depth = item
        indent = ("|   " * depth)[:-3] + "---"
        if tree.is_leaf[node]:
            lines.append(f"{indent} {_leaf_label(tree, node)}")
            continue
        name = _feature_name(int(tree.feature[node]), feature_names)
        threshold = f"{tree.threshold[node]:.2f}"
        lines.append(f"{indent} {name} <= {threshold}")
        # Popped in reverse: the left subtree, then the ">" header, then the right subtree.
        stack += [
            (int(tree.children_right[node]), depth + 1),
            f"{indent} {name} >  {threshold}",
            (int(tree.children_left[node]), depth + 1),
        ]
    return "\n".join(lines) + "\n"


def _layout(tree: TreeArrays) -> np.ndarray:
    """(n_nodes, 2) box centres: leaves evenly spaced left to right, parents over children."""
    xy = np.zeros((tree.n_nodes, 2))
    xy[:, 1] = -node_depths(tree)
    next_leaf = 0
    for node in _preorder(tree):  # visits leaves left to right
        if tree.is_leaf[node]:
            xy[node, 0] = next_leaf
            next_leaf += 1
    for node in reversed(_preorder(tree)):  # children are placed before their parent
        if not tree.is_leaf[node]:
            xy[node, 0] = xy[[tree.children_left[node], tree.children_right[node]], 0].mean()
    return xy


def plot_tree(tree: TreeArrays, ax, feature_names=None) -> None:
    """Draw the tree on a matplotlib axis: one text box per node, one line per edge.

    The left child of a split is where its condition (``x <= t``) holds. Readable up to
    depth ~4; deeper trees are better read with ``render_text``.

    Args:
        tree: the tree.
        ax: a matplotlib ``Axes``; exactly ``n_nodes`` texts and ``n_nodes - 1`` lines are added.
        feature_names: names indexed by ORIGINAL coordinate; default ``x{i}``.
    """
    xy = _layout(tree)
    n_leaves = int(tree.is_leaf.sum())
    # A leaf box gets 1/n_leaves of the axis width; a label is ~6.5 font sizes wide.
    width_pt = ax.get_window_extent().width * 72 / ax.figure.dpi
    fontsize = float(np.clip(width_pt / n_leaves / 6.5, 4, 9))
    for node in range(tree.n_nodes):
        if tree.is_leaf[node]:
            label = _leaf_label(tree, node).replace(":", "")
        else:
            name = _feature_name(int(tree.feature[node]), feature_names)
            label = f"{name} <= {tree.threshold[node]:.2f}"
            for child in (tree.children_left[node], tree.children_right[node]):
                ax.plot(xy[[node, child], 0], xy[[node, child], 1], color="0.5", lw=1, zorder=1)
        ax.text(
            *xy[node], f"{label}\nn = {tree.n_node_samples[node]}",
            ha="center", va="center", fontsize=fontsize, zorder=2,
            bbox={"boxstyle": "round,pad=0.2",
                  "facecolor": "white" if tree.is_leaf[node] else "0.9"},
        )
    ax.set_xlim(xy[:, 0].min() - 0.7, xy[:, 0].max() + 0.7)
    ax.set_ylim(xy[:, 1].min() - 0.5, 0.5)
    ax.set_axis_off()


PACKED = ("children_left", "children_right", "feature", "threshold", "impurity", "n_node_samples", "value")


def pack(trees: list[TreeArrays]) -> dict[str, np.ndarray]:
    """Several trees as padded arrays (tree, node[, class]) (-1 past each tree's nodes) plus
    ``n_nodes`` (tree,): one output, the classes of the first tree (``unpack`` inverts it)."""
    n_node = max(tree.n_nodes for tree in trees)
    out = {}
    for name in PACKED:
        first = getattr(trees[0], name)
        shape = (len(trees), n_node) + ((first.shape[2],) if name == "value" else ())
        out[name] = np.full(shape, -1, dtype=first.dtype)
        for i, tree in enumerate(trees):
            array = getattr(tree, name)
            out[name][i, : tree.n_nodes] = array[:, 0, :] if name == "value" else array
    out["n_nodes"] = np.array([tree.n_nodes for tree in trees], dtype=np.int64)
    return out


def unpack(arrays, index: int, classes: np.ndarray, kind: str) -> TreeArrays:
    """Tree ``index`` of ``pack``'s arrays (a dict or a Dataset of those names)."""
    n = int(np.asarray(arrays["n_nodes"])[index])
    parts = {name: np.asarray(arrays[name])[index, :n] for name in PACKED}
    ints = {name: parts[name].astype(np.int64) for name in ("children_left", "children_right", "feature",
                                                             "n_node_samples")}
    return TreeArrays(**ints, threshold=parts["threshold"].astype(np.float64),
                      impurity=parts["impurity"].astype(np.float64),
                      value=parts["value"].astype(np.float64)[:, None, :],
                      classes=np.asarray(classes, dtype=np.float64), kind=kind)
