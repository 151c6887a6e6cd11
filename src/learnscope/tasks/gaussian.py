"""Targets of Gaussian inputs: the Recursive Feature Machine's reference demo (Radhakrishnan,
Beaglehole, Pandit, Belkin, Science 2024), f(x) = x0·x1·1[x5 > 0] of x ~ N(0, 0.5² I_20)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from learnscope.errors import config_error
from learnscope.tasks.base import Task


@dataclass(frozen=True, kw_only=True)
class GatedProduct(Task):
    """A product of coordinates switched on by the signs of others; kind "regression".

    f(x) = Π_{i∈product} x_i · Π_{j∈gate} 1[x_j > 0] with x ~ N(0, std² I_dim), 0-based
    indices. The RFM demo is ``dim=20, std=0.5, product=(0, 1), gate=(5,)``: the target
    depends on three of twenty coordinates, and a learned metric should find them.

    Example (the demo, dim=6): x = (0.5, −0.4, 0.1, 0, 0, 0.3) → y = 0.5·(−0.4)·1 = −0.2;
    with x5 = −0.3 instead, y = 0.

    Attributes:
        dim: input dimension.
        std: standard deviation of every input coordinate (> 0).
        product: the coordinates multiplied (at least one).
        gate: the coordinates whose positivity switches the product on (may be empty).
    """

    dim: int = 20
    std: float = 0.5
    product: tuple[int, ...] = (0, 1)
    gate: tuple[int, ...] = (5,)

    size_key = "dim"

    @property
    def kind(self) -> str:
        return "regression"

    @property
    def n_inputs(self) -> int:
        return self.dim

    @property
    def n_outputs(self) -> int:
        return 1

    def check(self, path: str) -> None:
        super().check(path)
        if self.dim < 1:
            raise config_error(path, "dim", self.dim, "must be at least 1")
        if not self.std > 0:
            raise config_error(path, "std", self.std, "must be > 0")
        if not self.product:
            raise config_error(path, "product", list(self.product), "must list at least one coordinate")
        for key in ("product", "gate"):
            indices = getattr(self, key)
            bad = [i for i in indices if not 0 <= i < self.dim]
            if bad:
                raise config_error(path, key, list(indices), f"has index {bad[0]}; indices are 0-based in "
                                   f"[0, dim = {self.dim})")
            if len(set(indices)) != len(indices):
                raise config_error(path, key, list(indices), "repeats an index")
        shared = sorted(set(self.product) & set(self.gate))
        if shared:
            raise config_error(path, "gate", list(self.gate), f"shares coordinate {shared[0]} with product")

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for inputs x (n, dim); returns (n,)."""
        y = x[:, list(self.product)].prod(dim=1)  # (n,)
        if self.gate:
            y = y * (x[:, list(self.gate)] > 0).all(dim=1).to(x.dtype)
        return y

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, self.dim, generator=generator) * self.std  # (n, dim)
        return x, self.target(x)

    def support_mask(self) -> np.ndarray:
        mask = np.zeros(self.dim, dtype=np.int8)
        mask[[*self.product, *self.gate]] = 1
        return mask

    def describe(self) -> str:
        product = "·".join(f"x{i}" for i in self.product)
        gate = "".join(f"·1[x{j} > 0]" for j in self.gate)
        return f"{product}{gate} of x ~ N(0, {self.std:g}² I_{self.dim})"
