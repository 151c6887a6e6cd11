"""scikit-learn's bundled 8×8 handwritten digits (1797 images, 10 classes; no download)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from learnscope.errors import ConfigError
from learnscope.tasks.base import SPLIT_STREAM, Task, seeded_generator

N_IMAGES = 1797
SIDE = 8  # images are SIDE × SIDE pixels, flattened row-major
N_CLASSES = 10
MAX_PIXEL = 16.0  # raw pixel intensities are integers in [0, 16]


@functools.cache
def _all_digits() -> tuple[np.ndarray, np.ndarray]:
    """All images scaled to [0, 1], float32 (1797, 64), and labels, int64 (1797,); read-only."""
    from sklearn.datasets import load_digits  # lazy: sklearn costs 1.5 s to import

    bunch = load_digits()
    x = (bunch.data / MAX_PIXEL).astype(np.float32)
    y = bunch.target.astype(np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


@dataclass(frozen=True, kw_only=True)
class Digits(Task):
    """Classify 8×8 handwritten digit images; kind "multiclass" with 10 classes.

    Inputs are the 64 pixel intensities (row-major, ``px_r{row}_c{col}``) divided by
    16, so they lie in [0, 1]. The 1797 images are split at random (from
    ``data_seed``) into disjoint train and test sets of ``n_train`` and ``n_test``
    images; the rest are unused. This is a fixed dataset: ``sample`` is unavailable.

    Example: an image of a "0" whose row 0 reads (0, 0, 5, 13, 9, 1, 0, 0) in raw
    intensities → x[0:8] = (0, 0, 0.3125, 0.8125, 0.5625, 0.0625, 0, 0), y = 0.
    """

    @property
    def kind(self) -> str:
        return "multiclass"

    @property
    def n_inputs(self) -> int:
        return SIDE * SIDE

    @property
    def n_outputs(self) -> int:
        return N_CLASSES

    def check(self, path: str) -> None:
        super().check(path)
        total = self.n_train + self.n_test
        if total > N_IMAGES:
            raise ConfigError(
                f"{path}.n_train + {path}.n_test = {self.n_train} + {self.n_test} = {total} "
                f"must be at most {N_IMAGES} (the number of images in scikit-learn's digits)"
            )

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(
            f"Digits is a fixed dataset of {N_IMAGES} images and cannot sample fresh data; "
            "train on make_dataset() instead"
        )

    def make_dataset(self) -> dict[str, np.ndarray]:
        """A seeded, disjoint train/test split of the digits.

        Returns:
            ``x_train`` (n_train, 64) float32 in [0, 1], ``y_train`` (n_train,) int64,
            ``x_test`` (n_test, 64), ``y_test`` (n_test,), ``support`` (64,) int8 ones.
        """
        x, y = _all_digits()
        generator = seeded_generator(self.data_seed, SPLIT_STREAM)
        order = torch.randperm(N_IMAGES, generator=generator).numpy()
        train = order[: self.n_train]
        test = order[self.n_train : self.n_train + self.n_test]
        return {
            "x_train": x[train],
            "y_train": y[train],
            "x_test": x[test],
            "y_test": y[test],
            "support": self.support_mask(),
        }

    def feature_names(self) -> list[str]:
        return [f"px_r{row}_c{col}" for row in range(SIDE) for col in range(SIDE)]

    def describe(self) -> str:
        return (
            f"scikit-learn digits ({SIDE}×{SIDE} pixels, {N_CLASSES} classes): "
            f"{self.n_train} train / {self.n_test} test images"
        )
