"""Distillers: fit a decision tree to a network's own labels, scikit-learn style.

Two variants, looked up by name in ``DISTILLERS``:

- ``cart``: plain CART on every input coordinate.
- ``agop``: CART restricted to the coordinates the network's AGOP singles out
  (``select_coordinates_by_gap``), chosen without knowing the true support.
  Greedy CART cannot find a sparse parity's support, since no single bit of
  ``x2 * x5 * x9`` carries marginal information; the AGOP of a network that learned
  the parity does (Radhakrishnan et al., Science 2024: features learned by a
  network are captured by its AGOP).
"""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from learnscope.distill import trees
from learnscope.kinds import KINDS

_ESTIMATORS = {"classifier": DecisionTreeClassifier, "regressor": DecisionTreeRegressor}  # by ``TaskKind.tree``
_FLOOR = 1e-12  # relative floor on AGOP diagonal entries, so their logs are finite


def select_coordinates_by_gap(agop_diag: np.ndarray) -> np.ndarray:
    """Coordinates above the largest gap in the sorted AGOP diagonal, on a log scale.

    Entries are floored at ``1e-12 * max`` and sorted in decreasing order; the cut falls
    between the two consecutive entries with the largest ratio. Ties in the ratio keep
    the fewest coordinates. A flat diagonal (every ratio 1) singles nothing out, so all
    coordinates are kept; at least one is always kept.

    Example: ``[3, 2, 1, 0, 0, 0]`` -> ratios 1.5, 2, ~3e11, 1, 1 -> ``[0, 1, 2]``.

    Args:
        agop_diag: (d,) nonnegative diagonal of the AGOP.

    Returns:
        (k,) int64 sorted original coordinates, 1 <= k <= d.
    """
    agop_diag = np.asarray(agop_diag, dtype=np.float64)
    if agop_diag.ndim != 1 or len(agop_diag) == 0 or not np.isfinite(agop_diag).all():
        raise ValueError(f"agop_diag must be a finite (d,) array with d >= 1, got {agop_diag!r}")
    d = len(agop_diag)
    top = agop_diag.max()
    if top <= 0:  # an all-zero diagonal is flat
        return np.arange(d, dtype=np.int64)
    order = np.argsort(-agop_diag, kind="stable")  # (d,) coordinates, largest first
    log_sorted = np.log(np.maximum(agop_diag[order], _FLOOR * top))
    log_gaps = log_sorted[:-1] - log_sorted[1:]  # (d - 1,)
    if d == 1 or log_gaps.max() <= 0:
        return np.arange(d, dtype=np.int64)
    keep = int(np.argmax(log_gaps)) + 1
    return np.sort(order[:keep]).astype(np.int64)


def _estimator(kind: str, max_depth: int, random_state: int):
    """A scikit-learn CART for ``kind``; unknown kinds list the known ones."""
    if kind not in KINDS or not KINDS[kind].tree:
        raise ValueError(f"no decision tree for task kind {kind!r}; trees are fitted for "
                         f"{', '.join(k for k, v in KINDS.items() if v.tree)} (task kinds: {', '.join(KINDS)})")
    if max_depth < 1:
        raise ValueError(f"max_depth must be >= 1, got {max_depth}")
    return _ESTIMATORS[KINDS[kind].tree](max_depth=max_depth, random_state=random_state)


class CartDistiller:
    """Plain CART fitted to the network's labels on every input coordinate.

    Args:
        max_depth: largest depth of the tree (root at depth 0).
        kind: task kind, one of ``kinds.KINDS``.
        random_state: seed of CART's feature permutation, which breaks ties between
            equally good splits; fixed so fits are deterministic.

    Attributes:
        tree_: the fitted ``trees.TreeArrays`` (features in original coordinates).
    """

    def __init__(self, max_depth: int, kind: str, random_state: int = 0):
        self.max_depth = max_depth
        self.kind = kind
        self.random_state = random_state

    def fit(self, x: np.ndarray, y_net: np.ndarray):
        """Fit to inputs x (n, d) and the network's labels y_net (n,); returns self."""
        x = np.asarray(x, dtype=np.float64)
        return self._fit_on(x, y_net, np.arange(x.shape[1]))

    def _fit_on(self, x: np.ndarray, y_net: np.ndarray, columns: np.ndarray):
        """Fit CART on the original coordinates ``columns`` (k,) of x (n, d); returns self."""
        estimator = _estimator(self.kind, self.max_depth, self.random_state)
        estimator.fit(x[:, columns], np.asarray(y_net))
        self.tree_ = trees.from_sklearn(estimator, columns, self.kind)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Tree predictions (n,) for inputs x (n, d), from the node arrays alone."""
        return trees.predict(self.tree_, x)


class AgopGuidedDistiller(CartDistiller):
    """CART on the coordinates above the largest gap of the AGOP diagonal.

    Args:
        max_depth: largest depth of the tree (root at depth 0).
        kind: task kind, one of ``kinds.KINDS``.
        agop: (d, d) average gradient outer product of the network.
        random_state: seed of CART's tie-breaking feature permutation.

    Attributes:
        coordinates_: (k,) sorted original coordinates CART was allowed to use.
        tree_: the fitted ``trees.TreeArrays`` (features in original coordinates).
    """

    def __init__(self, max_depth: int, kind: str, agop: np.ndarray, random_state: int = 0):
        super().__init__(max_depth, kind, random_state)
        self.agop = agop

    def fit(self, x: np.ndarray, y_net: np.ndarray):
        """Select coordinates from the AGOP, then fit CART on them; returns self.

        Args:
            x: (n, d) inputs.
            y_net: (n,) the network's labels.
        """
        x = np.asarray(x, dtype=np.float64)
        agop = np.asarray(self.agop, dtype=np.float64)
        if agop.shape != (x.shape[1], x.shape[1]):
            raise ValueError(f"agop must be (d, d) = {(x.shape[1],) * 2}, got {agop.shape}")
        self.coordinates_ = select_coordinates_by_gap(np.diag(agop))
        return self._fit_on(x, y_net, self.coordinates_)


DISTILLERS = {"cart": CartDistiller, "agop": AgopGuidedDistiller}
