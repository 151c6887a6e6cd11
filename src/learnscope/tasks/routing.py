"""Routing between pathways: the gated task of Saxe, Sodhani & Lewallen (ICML 2022, §5).

There are M input pathways (e.g. sensory domains) and M output pathways (e.g. response
domains). Every pathway presents the same P items and every output pathway must produce
the same features of the item, but only some (input i → output j) pairs are trained:
input i with outputs (i + o) mod M for o in ``offsets``. The other pairs are held out, and
a network that routes every pair through one shared representation answers them too
(systematic generalisation).

The items and features form a binary hierarchy (Saxe, McClelland & Ganguli, PNAS 2019):
with ``levels`` = (v_0, ..., v_D) there are P = 2^D items, and level k has 2^k features,
feature f of level k being v_k on the items of the f-th block of 2^(D−k) items and 0
elsewhere. The default (6, 4, 3) is the authors' verification notebook: 4 items, 7
features (one shared by all, two by halves, four by single items).

Gates are data: an example's input is x = [one-hot(item) (P), g_in (M), g_out (M)], with
g_in and g_out the one-hot input and output pathway, and its target has one block of
features per output pathway, the item's features in block j and 0 elsewhere
(``learnscope.models.gdln`` applies the gates). Worked example with the defaults
(M = 7, P = 4, 7 features): item 1 through pair (input 3 → output 4) is
x = [0,1,0,0 | 0,0,0,1,0,0,0 | 0,0,0,0,1,0,0] and y = 0 except y[4·7 : 5·7] = (6,4,0,0,3,0,0).

The dataset is every trained pair × every item (training set, ``n_train`` = M·|offsets|·P)
and every held-out pair × every item (test set); with every pair trained the test set is
the training set again (as ``learnscope.tasks.algebra``). No randomness is involved.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from learnscope.errors import config_error
from learnscope.tasks.base import Task

MAX_LEVELS = 6  # up to 32 items
MAX_PATHWAYS = 1024  # the pathway pairs (M²) are enumerated when params load


@dataclass(frozen=True, kw_only=True)
class Routing(Task):
    """M input and M output pathways, a subset of pairs trained (see the module docstring).

    Attributes:
        pathways: M, the number of input pathways and of output pathways (1 to 1024).
        offsets: input pathway i is trained with outputs (i + o) mod M for each o; the
            authors' (−1, 0, 1, 2) trains 4 of 7 pairs per input.
        levels: feature values of the hierarchy's levels, root first; P = 2^(len − 1) items.
    """

    pathways: int = 7
    offsets: tuple[int, ...] = (-1, 0, 1, 2)
    levels: tuple[float, ...] = (6.0, 4.0, 3.0)
    n_train: int = dataclasses.field(init=False)
    n_test: int = dataclasses.field(init=False)

    size_key = "pathways"

    def __post_init__(self) -> None:
        valid = 1 <= self.pathways <= MAX_PATHWAYS and len(self.offsets) <= self.pathways  # else check() refuses
        trained = int(self.trained_pairs().sum()) if valid else 0
        total = self.pathways**2 if valid else 0
        items = self.items if 1 <= len(self.levels) <= MAX_LEVELS else 0
        object.__setattr__(self, "n_train", trained * items)
        object.__setattr__(self, "n_test", (total - trained if trained < total else total) * items)

    @property
    def kind(self) -> str:
        return "vector"

    @property
    def examples_key(self) -> str:
        return "pathways"  # n_train and n_test follow from it

    @property
    def items(self) -> int:
        """P = 2^(len(levels) − 1)."""
        return 2 ** (len(self.levels) - 1)

    @property
    def n_features(self) -> int:
        """Features per output pathway: 2^len(levels) − 1."""
        return 2 ** len(self.levels) - 1

    @property
    def n_inputs(self) -> int:
        return self.items + 2 * self.pathways

    @property
    def n_outputs(self) -> int:
        return self.pathways * self.n_features

    def describe(self) -> str:
        m, trained = self.pathways, int(self.trained_pairs().sum())
        return (f"routing: {m} input x {m} output pathways, input i trained with outputs i + o mod {m}, "
                f"o in {list(self.offsets)} ({trained} of {m * m} pairs); {self.items} items of a "
                f"{len(self.levels)}-level hierarchy (feature values {', '.join(f'{v:g}' for v in self.levels)})")

    def check(self, path: str) -> None:
        if not 1 <= self.pathways <= MAX_PATHWAYS:
            raise config_error(path, "pathways", self.pathways, f"must be in [1, {MAX_PATHWAYS}]")
        if not self.offsets:
            raise config_error(path, "offsets", list(self.offsets), "must list at least one offset")
        if len({o % self.pathways for o in self.offsets}) != len(self.offsets):
            raise config_error(path, "offsets", list(self.offsets), f"repeats a pair: offsets are taken mod "
                               f"pathways = {self.pathways}")
        if not 1 <= len(self.levels) <= MAX_LEVELS:
            raise config_error(path, "levels", list(self.levels), f"must list 1 to {MAX_LEVELS} values")
        super().check(path)

    def trained_pairs(self) -> np.ndarray:
        """bool (M_out, M_in): entry [j, i] is True where input i → output j is trained."""
        m = max(self.pathways, 0)
        gate = np.zeros((m, m), dtype=bool)
        for i in range(m):
            for o in self.offsets:
                gate[(i + o) % m, i] = True
        return gate

    def item_inputs(self) -> np.ndarray:
        """float64 (P, P): the items' inputs, one-hot (white: (1/P) XᵀX = I/P)."""
        return np.eye(self.items)

    def item_targets(self) -> np.ndarray:
        """float64 (P, n_features): each item's features, level by level (module docstring)."""
        depth = len(self.levels) - 1
        columns = []
        for k, value in enumerate(self.levels):
            block = 2 ** (depth - k)
            columns.append(value * np.kron(np.eye(2**k), np.ones((block, 1))))  # (P, 2^k)
        return np.concatenate(columns, axis=1)

    def feature_names(self) -> list[str]:
        m = self.pathways
        return ([f"item{p}" for p in range(self.items)] + [f"in{i}" for i in range(m)]
                + [f"out{j}" for j in range(m)])

    def encode(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of every item through each (output j, input i) pair, items inner.

        Args:
            pairs: int (k, 2) rows (j, i).

        Returns:
            x float32 (k·P, n_inputs) and y float32 (k·P, n_outputs).
        """
        p, m, f = self.items, self.pathways, self.n_features
        j, i = np.repeat(pairs[:, 0], p), np.repeat(pairs[:, 1], p)
        item = np.tile(np.arange(p), len(pairs))
        rows = np.arange(len(item))
        x = np.zeros((len(item), self.n_inputs), dtype=np.float32)
        x[rows, item] = 1.0
        x[rows, p + i] = 1.0
        x[rows, p + m + j] = 1.0
        y = np.zeros((len(item), m, f), dtype=np.float32)
        y[rows, j] = self.item_targets()[item]
        return x, y.reshape(len(item), m * f)

    def make_dataset(self) -> dict[str, np.ndarray]:
        """Trained pairs (training set) and held-out pairs (test set), each in (input, output)
        order with items inner.

        Returns:
            ``x_train`` (n_train, P + 2M) float32, ``y_train`` (n_train, M·features) float32,
            ``x_test``, ``y_test`` likewise, ``support`` (P + 2M,) int8 ones.
        """
        gate = self.trained_pairs().T  # (M_in, M_out): row-major order is input-major
        trained = np.argwhere(gate)[:, ::-1]
        held_out = np.argwhere(~gate)[:, ::-1]
        x_train, y_train = self.encode(trained)
        x_test, y_test = self.encode(held_out if len(held_out) else trained)
        return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
                "support": self.support_mask()}
