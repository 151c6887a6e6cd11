"""Composition tables of finite groups: modular addition a + b mod p and a·b in a
cyclic, dihedral or symmetric group (``learnscope.groups``).

The dataset is the whole table: every pair (a, b) of the n = |G| elements, n² examples.
Input x = [one-hot(a), one-hot(b)] (2n columns), label the index of a·b (n classes).
A seeded random ``train_fraction`` of the pairs is the training set and the other pairs
are the test set; with ``train_fraction: 1.0`` every pair is trained on and the test set
is the whole table again (test metrics then equal the training ones), the setting of
margin-maximisation studies (Morwani et al. 2024). Grokking studies hold pairs out
(Power et al. 2022: test accuracy rises long after training accuracy saturates).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from learnscope.groups import FiniteGroup, group
from learnscope.errors import config_error
from learnscope.tasks.base import SPLIT_STREAM, Task, seeded_generator

MAX_N = 2048  # the largest p, or n of a group spec: the table (n² pairs) is built when params load


@dataclass(frozen=True, kw_only=True)
class _CompositionTable(Task):
    """A group's table (see the module docstring); ``n_train`` and ``n_test`` follow
    from ``train_fraction`` and are not params.yaml keys.

    Attributes:
        train_fraction: fraction of the n² pairs trained on, in (0, 1]; the number of
            training pairs is round(train_fraction · n²), at least 1.
    """

    train_fraction: float = 1.0
    n_train: int = dataclasses.field(init=False)
    n_test: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        try:
            pairs = self.order**2 if self.size_n <= MAX_N else 0
        except ValueError:  # a bad group or p: check() names the key
            pairs = 0
        n_train = min(pairs, max(1, round(self.train_fraction * pairs)))
        object.__setattr__(self, "n_train", n_train)
        object.__setattr__(self, "n_test", pairs - n_train if n_train < pairs else pairs)
        if not pairs:
            object.__setattr__(self, "n_train", 0)

    @property
    def order(self) -> int:
        """|G|, the number of elements."""
        return self.finite_group.order

    @property
    def size_n(self) -> int:
        """The integer that sets the table's size (p, or n of ``family:n``), read without building it."""
        raise NotImplementedError

    @property
    def examples_key(self) -> str:
        return self.size_key

    @property
    def finite_group(self) -> FiniteGroup:
        raise NotImplementedError

    @property
    def kind(self) -> str:
        return "multiclass"

    @property
    def n_inputs(self) -> int:
        return 2 * self.order

    @property
    def n_outputs(self) -> int:
        return self.order

    def check(self, path: str) -> None:
        if self.size_n > MAX_N:
            raise config_error(path, self.size_key, getattr(self, self.size_key),
                               f"is too large: n must be at most {MAX_N} (the table has n² pairs)")
        if not 0 < self.train_fraction <= 1:
            raise config_error(path, "train_fraction", self.train_fraction, "must be in (0, 1]")
        super().check(path)

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(f"{type(self).__name__} is a fixed table of {self.order}² pairs and cannot "
                                  "sample fresh data; train on make_dataset() instead")

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) of every pair, row-major: pair i is (i // n, i % n); int64 (n²,) each."""
        n = self.order
        return np.repeat(np.arange(n), n), np.tile(np.arange(n), n)

    def encode(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """float32 (len(a), 2n) inputs [one-hot(a), one-hot(b)]."""
        x = np.zeros((len(a), 2 * self.order), dtype=np.float32)
        x[np.arange(len(a)), a] = 1.0
        x[np.arange(len(a)), self.order + b] = 1.0
        return x

    def make_dataset(self) -> dict[str, np.ndarray]:
        """The table split into training and test pairs (each in row-major pair order).

        Returns:
            ``x_train`` (n_train, 2n) float32, ``y_train`` (n_train,) int64, ``x_test``,
            ``y_test`` (the held-out pairs, or every pair when all are trained on), and
            ``support`` (2n,) int8 ones.
        """
        a, b = self.pairs()
        order = torch.randperm(len(a), generator=seeded_generator(self.data_seed, SPLIT_STREAM)).numpy()
        train = np.sort(order[: self.n_train])
        test = np.sort(order[self.n_train:]) if self.n_train < len(a) else train
        labels = self.finite_group.table[a, b]
        return {"x_train": self.encode(a[train], b[train]), "y_train": labels[train],
                "x_test": self.encode(a[test], b[test]), "y_test": labels[test],
                "support": self.support_mask()}

    def feature_names(self) -> list[str]:
        names = self.finite_group.labels
        return [f"a={g}" for g in names] + [f"b={g}" for g in names]

    def describe(self) -> str:
        held = f"{self.n_test} held out" if self.n_train < self.order**2 else "no pair held out"
        return (f"{self.operation} in {self.finite_group.name} (|G| = {self.order}): {self.order}² pairs as "
                f"one-hot [a, b], {self.n_train} trained on, {held}")

    @property
    def operation(self) -> str:
        return "a·b"


@dataclass(frozen=True, kw_only=True)
class ModularAddition(_CompositionTable):
    """a + b mod p for every a, b in Z_p: the cyclic group C_p's table.

    Example: p = 5, a = 3, b = 4 -> x = [0,0,0,1,0, 0,0,0,0,1], y = 2.

    Attributes:
        p: the modulus (≥ 2); an odd p has (p − 1)/2 nonzero frequencies, all of which a
            max-margin network uses.
    """

    p: int

    size_key = "p"

    @property
    def size_n(self) -> int:
        return self.p

    def check(self, path: str) -> None:
        if self.p < 2:
            raise config_error(path, "p", self.p, "must be at least 2")
        super().check(path)

    @cached_property
    def finite_group(self) -> FiniteGroup:
        return group(f"cyclic:{self.p}")

    @property
    def operation(self) -> str:
        return f"a + b mod {self.p}"


@dataclass(frozen=True, kw_only=True)
class GroupComposition(_CompositionTable):
    """a·b for every a, b of a finite group with its real irreps (``learnscope.groups``).

    Example: ``group: symmetric:3`` is S_3 (6 elements, irreps trivial, sign, standard).

    Attributes:
        group: ``cyclic:n``, ``dihedral:n`` (D_n, 2n elements) or ``symmetric:n`` (n ≤ 5).
    """

    group: str

    size_key = "group"

    @property
    def size_n(self) -> int:
        arg = self.group.partition(":")[2].strip()
        return int(arg) if arg.isascii() and arg.isdigit() else 0  # not an n: group() names the fault

    def check(self, path: str) -> None:
        try:
            if self.size_n <= MAX_N:  # a larger n: super().check() names it, unbuilt
                self.finite_group
        except ValueError as e:
            raise config_error(path, "group", self.group, f"is not a group: {e}") from None
        super().check(path)

    @cached_property
    def finite_group(self) -> FiniteGroup:
        return group(self.group)
