"""The common base of every task family: fields, validation, sampling and fixed datasets.

A task family is a frozen, keyword-only dataclass whose fields are exactly its
params.yaml keys. Two kinds of data come out of a task:

- ``make_dataset()``: the fixed dataset the ``generate`` stage writes, seeded from
  ``data_seed`` only, so the same fields always give byte-identical arrays.
- ``sample(n, generator)``: fresh samples for online training, drawn from a generator
  the caller owns.

Randomness a task needs for itself (e.g. the hidden support of a sparse parity) comes
from its own stream of ``data_seed`` (see ``seeded_generator``), so it never depends on
how many samples were drawn elsewhere.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from learnscope.config import MAX_SEED
from learnscope.errors import config_error
from learnscope.registry import Registry
from learnscope.tasks import TASKS

# Independent random streams derived from one data_seed.
DATA_STREAM = 0  # the samples of make_dataset
SUPPORT_STREAM = 1  # hidden structure of the target, e.g. a parity's support
SPLIT_STREAM = 2  # the train/test split of a fixed dataset


def seeded_generator(seed: int, stream: int) -> torch.Generator:
    """A CPU generator for one named stream of ``seed``; streams are independent.

    Args:
        seed: the task's ``data_seed`` (≥ 0).
        stream: which use of the seed, e.g. ``DATA_STREAM`` or ``SUPPORT_STREAM``.

    Returns:
        A ``torch.Generator`` whose state depends only on ``(seed, stream)``.
    """
    state = np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & (2**63 - 1))


@dataclass(frozen=True, kw_only=True)
class Task(abc.ABC):
    """Abstract task family: the data a network learns from.

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` and add their own fields.

    Attributes:
        n_train: number of training examples in the fixed dataset (≥ 1).
        n_test: number of test examples in the fixed dataset (≥ 1).
        data_seed: seed of every random choice the task makes, in [0, 2**32 - 1].

    ``size_key`` names the field that sets ``n_inputs`` (``""`` if none does), so that a
    resource limit (``learnscope.limits``) can name it.
    """

    registry: ClassVar[Registry] = TASKS  # params.yaml's ``family`` picks the subclass
    size_key: ClassVar[str] = ""

    n_train: int
    n_test: int
    data_seed: int = 0

    @property
    @abc.abstractmethod
    def kind(self) -> str:
        """The task kind, one of ``learnscope.kinds.KINDS``."""

    @property
    @abc.abstractmethod
    def n_inputs(self) -> int:
        """Input dimension d."""

    @property
    @abc.abstractmethod
    def n_outputs(self) -> int:
        """Number of network outputs: 1 for binary/regression, C for multiclass."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One human-readable line saying what the task is."""

    def check(self, path: str) -> None:
        """Raise ConfigError for an impossible value; subclasses extend and call super.

        Args:
            path: dotted location of this task's section, e.g.
                ``"params.yaml: parity.tasks.sparse_parity"``; messages name
                ``f"{path}.{field}"``.

        Raises:
            ConfigError: one line naming the key, its value and what is allowed.
        """
        for key in ("n_train", "n_test"):
            if getattr(self, key) < 1:
                raise config_error(path, key, getattr(self, key), "must be at least 1")
        if not 0 <= self.data_seed <= MAX_SEED:
            raise config_error(path, "data_seed", self.data_seed, f"must be in [0, 2**32 - 1] = [0, {MAX_SEED}]")

    @property
    def examples_key(self) -> str:
        """The field that sets most of the n_train + n_test examples (named by resource limits)."""
        return "n_test" if self.n_test > self.n_train else "n_train"

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw n fresh examples for online training.

        Args:
            n: number of examples.
            generator: CPU generator owned by the caller; advanced by the draw.

        Returns:
            x: float32 (n, n_inputs).
            y: (n,), float32 for binary/regression, int64 class indices for multiclass.

        Raises:
            NotImplementedError: the family is a fixed dataset and cannot sample.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot sample fresh data")

    def support_mask(self) -> np.ndarray:
        """int8 (n_inputs,) mask of the coordinates the target depends on; all ones if unknown."""
        return np.ones(self.n_inputs, dtype=np.int8)

    def feature_names(self) -> list[str]:
        """Names of the input coordinates, ``["x0", "x1", ...]`` unless overridden."""
        return [f"x{i}" for i in range(self.n_inputs)]

    def dataset_variables(self, arrays: dict[str, np.ndarray]) -> dict:
        """Extra variables of the dataset file (name -> (dims, values, attrs)), given the
        ``make_dataset`` arrays; none by default (a random tree stores its node arrays)."""
        return {}

    def make_dataset(self) -> dict[str, np.ndarray]:
        """The fixed dataset: ``n_train`` then ``n_test`` i.i.d. draws of ``sample``.

        Train and test are drawn independently, so on a small input space they may
        share points. Families backed by a fixed dataset override this.

        Returns:
            ``x_train`` (n_train, d) float32, ``y_train`` (n_train,), ``x_test``
            (n_test, d) float32, ``y_test`` (n_test,), ``support`` (d,) int8.
        """
        generator = seeded_generator(self.data_seed, DATA_STREAM)
        x_train, y_train = self.sample(self.n_train, generator)
        x_test, y_test = self.sample(self.n_test, generator)
        return {
            "x_train": x_train.numpy(),
            "y_train": y_train.numpy(),
            "x_test": x_test.numpy(),
            "y_test": y_test.numpy(),
            "support": self.support_mask(),
        }
