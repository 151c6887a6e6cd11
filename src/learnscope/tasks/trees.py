"""Random decision trees on the Boolean hypercube: the teacher of the ``distill`` study
(Boix-Adsera, "Towards a theory of model distillation", 2024).

A random depth-r tree on d ±1 variables is drawn as in the paper's code: every internal
node (all nodes above depth r: the tree is complete, 2^r leaves) splits on a variable drawn
uniformly among those not already on its path from the root, and every leaf's label is ±1
with probability 1/2. Nothing is redrawn, so a tree may compute a function that a smaller
tree also computes (two sibling leaves with one label); recovery is judged on the function
(``learnscope.distill.ands.same_function``), never on the node layout.

The tree is a ``TreeArrays`` (``tree()``) like every tree in learnscope: a split on x_i
sends x_i = −1 left (threshold 0), so the left child is the AND with the literal ¬x_i.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from learnscope.distill.trees import LEAF, UNDEFINED_FEATURE, TreeArrays, from_counts, predict
from learnscope.errors import config_error
from learnscope.tasks.base import SUPPORT_STREAM, seeded_generator
from learnscope.tasks.boolean import HypercubeTask, uniform_hypercube

MAX_DEPTH = 12  # 2^12 leaves; the study's exact-recovery check enumerates a tree's variables


def random_tree(n_bits: int, depth: int, generator: torch.Generator) -> tuple[np.ndarray, ...]:
    """The node arrays of a random complete depth-``depth`` tree (module docstring).

    Nodes are numbered in preorder (left subtree first), as scikit-learn numbers them.

    Returns:
        children_left, children_right, feature (int64, -1 / -2 at leaves) and label
        (float64, ±1 at leaves, 0 at internal nodes), each (2^(depth+1) - 1,).
    """
    n_nodes = 2 ** (depth + 1) - 1
    left, right = np.full(n_nodes, LEAF, np.int64), np.full(n_nodes, LEAF, np.int64)
    feature, label = np.full(n_nodes, UNDEFINED_FEATURE, np.int64), np.zeros(n_nodes)
    next_id = 0

    def grow(path: list[int]) -> int:
        nonlocal next_id
        node, next_id = next_id, next_id + 1
        if len(path) == depth:
            label[node] = 2.0 * int(torch.randint(0, 2, (), generator=generator)) - 1.0
            return node
        free = np.setdiff1d(np.arange(n_bits), path)  # sorted variables not on the path
        feature[node] = free[int(torch.randint(0, len(free), (), generator=generator))]
        left[node] = grow(path + [int(feature[node])])
        right[node] = grow(path + [int(feature[node])])
        return node

    grow([])
    return left, right, feature, label


def tree_arrays(left: np.ndarray, right: np.ndarray, feature: np.ndarray, label: np.ndarray,
                x: np.ndarray) -> TreeArrays:
    """A ±1 tree as binary-kind ``TreeArrays``: splits at threshold 0, each node's class
    fractions, sample counts and Gini impurity measured on the inputs ``x`` (n, d) labelled by
    the tree itself (an internal node's value is the mix of its leaves reached by ``x``)."""
    leaf_class = np.stack([label < 0, label > 0], axis=1).astype(np.float64)  # one-hot at leaves, 0 inside
    skeleton = from_counts(left, right, feature, leaf_class)
    return from_counts(left, right, feature, _node_counts(skeleton, np.asarray(x, dtype=np.float64)), leaf_class)


def _node_counts(tree: TreeArrays, x: np.ndarray) -> np.ndarray:
    """(n_nodes, 2) how many of ``x`` reach each node and end at a −1 / +1 leaf."""
    node = np.zeros(len(x), dtype=np.int64)
    column = (predict(tree, x) > 0).astype(np.int64)
    visits = np.zeros((tree.n_nodes, 2))
    at = np.arange(len(x))  # the samples still moving down
    while at.size:
        np.add.at(visits, (node[at], column[at]), 1.0)
        at = at[~tree.is_leaf[node[at]]]
        cur = node[at]
        node[at] = np.where(x[at, tree.feature[cur]] <= 0.0, tree.children_left[cur], tree.children_right[cur])
    return visits


@dataclass(frozen=True, kw_only=True)
class RandomTree(HypercubeTask):
    """A random depth-``depth`` decision tree of uniform ±1 bits; kind "binary".

    The tree (module docstring) depends only on ``data_seed``, ``n_bits`` and ``depth``; the
    label of x is the leaf it reaches. The dataset stores the tree's node arrays
    (``tree_*`` variables on dim ``tree_node``, ``dataset_variables``).

    Example (depth 1, root on x3 with leaves −1, +1): y = x3.

    Attributes:
        n_bits: input dimension d (≥ depth).
        depth: the tree's depth r, 1 ≤ r ≤ 12.
    """

    depth: int

    @property
    def kind(self) -> str:
        return "binary"

    def check(self, path: str) -> None:
        super().check(path)
        if not 1 <= self.depth <= MAX_DEPTH:
            raise config_error(path, "depth", self.depth, f"must be between 1 and {MAX_DEPTH}")
        if self.depth > self.n_bits:
            raise config_error(path, "depth", self.depth,
                               f"must be at most n_bits = {self.n_bits} (no variable repeats on a path)")

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, ...]:
        return random_tree(self.n_bits, self.depth, seeded_generator(self.data_seed, SUPPORT_STREAM))

    def tree(self, x: np.ndarray | None = None) -> TreeArrays:
        """The teacher tree; node counts and class fractions measured on ``x`` (n, d) (default:
        the dataset's training inputs)."""
        if x is None:
            x = self.make_dataset()["x_train"]
        return tree_arrays(*self._arrays, x)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """The leaf label ±1 of each row of x (n, n_bits); (n,) float32."""
        left, right, feature, label = self._arrays
        node = torch.zeros(x.shape[0], dtype=torch.int64)
        left, right, feature = (torch.as_tensor(a) for a in (left, right, feature))
        for _ in range(self.depth):  # complete tree: every sample is at a leaf after depth steps
            go_left = x.gather(1, feature[node].unsqueeze(1)).squeeze(1) <= 0
            node = torch.where(go_left, left[node], right[node])
        return torch.as_tensor(label, dtype=torch.float32)[node]

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = uniform_hypercube(n, self.n_bits, generator)  # (n, n_bits)
        return x, self.target(x)

    def support_mask(self) -> np.ndarray:
        mask = np.zeros(self.n_bits, dtype=np.int8)
        feature = self._arrays[2]
        mask[feature[feature >= 0]] = 1
        return mask

    def dataset_variables(self, arrays: dict[str, np.ndarray]) -> dict:
        tree = self.tree(arrays["x_train"])
        dims = ("tree_node",)
        return {
            "tree_children_left": (dims, tree.children_left, {"long_name": "left child (x <= 0), -1 at a leaf"}),
            "tree_children_right": (dims, tree.children_right, {"long_name": "right child, -1 at a leaf"}),
            "tree_feature": (dims, tree.feature, {"long_name": "variable the node splits on, -2 at a leaf"}),
            "tree_threshold": (dims, tree.threshold, {"long_name": "x[feature] <= threshold goes left"}),
            "tree_impurity": (dims, tree.impurity, {"long_name": "Gini impurity on x_train"}),
            "tree_n_node_samples": (dims, tree.n_node_samples, {"long_name": "training inputs reaching the node"}),
            "tree_value": (dims + ("tree_class",), tree.value[:, 0, :],
                           {"long_name": "fractions of x_train reaching the node with label -1, +1"}),
            "tree_label": (dims, self._arrays[3], {"long_name": "leaf label (+1 or -1), 0 at internal nodes"}),
        }

    def describe(self) -> str:
        support = np.flatnonzero(self.support_mask()).tolist()
        return f"random depth-{self.depth} decision tree of {self.n_bits} bits (variables {support})"
