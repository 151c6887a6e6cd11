"""Tasks on the Boolean hypercube {-1, +1}^n_bits with uniform inputs.

Coordinates are 0-based everywhere: ``x0`` is the first bit, and a monomial
``(0, 2)`` is the product ``x0·x2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from learnscope.errors import config_error
from learnscope.tasks.base import SUPPORT_STREAM, Task, seeded_generator


def uniform_hypercube(n: int, n_bits: int, generator: torch.Generator) -> torch.Tensor:
    """n points drawn uniformly from {-1, +1}^n_bits; float32 (n, n_bits)."""
    bits = torch.randint(0, 2, (n, n_bits), generator=generator)
    return (2 * bits - 1).to(torch.float32)


def monomial_target(
    x: torch.Tensor,
    monomials: tuple[tuple[int, ...], ...],
    coefficients: tuple[float, ...] = (),
) -> torch.Tensor:
    """f(x) = Σ_m c_m Π_{i∈m} x_i, vectorised over the samples.

    Args:
        x: (n, d) inputs.
        monomials: 0-based index tuples, one per term.
        coefficients: one c_m per monomial; empty means all 1.0.

    Returns:
        (n,) targets in the dtype of x.
    """
    if not coefficients:
        coefficients = (1.0,) * len(monomials)
    y = torch.zeros(x.shape[0], dtype=x.dtype)
    for c, monomial in zip(coefficients, monomials, strict=True):
        y = y + c * x[:, list(monomial)].prod(dim=1)  # (n,)
    return y


def _check_n_bits(path: str, n_bits: int) -> None:
    if n_bits < 1:
        raise config_error(path, "n_bits", n_bits, "must be at least 1")


@dataclass(frozen=True, kw_only=True)
class HypercubeTask(Task):
    """A scalar target of x uniform on {-1, +1}^n_bits.

    Attributes:
        n_bits: input dimension.
    """

    n_bits: int

    size_key = "n_bits"

    @property
    def n_inputs(self) -> int:
        return self.n_bits

    @property
    def n_outputs(self) -> int:
        return 1

    def check(self, path: str) -> None:
        super().check(path)
        _check_n_bits(path, self.n_bits)


@dataclass(frozen=True, kw_only=True)
class MultiIndex(HypercubeTask):
    """A sum of monomials (a multi-index function) of uniform ±1 bits; kind "regression".

    f(x) = Σ_m c_m Π_{i∈m} x_i with 0-based indices. The staircase
    x0 + x0x1 + x0x1x2 is ``monomials=((0,), (0, 1), (0, 1, 2))``.

    Example (the staircase, n_bits=4): x = (+1, −1, +1, −1) →
    y = x0 + x0·x1 + x0·x1·x2 = 1 − 1 − 1 = −1.

    Attributes:
        n_bits: input dimension.
        monomials: the terms, each a tuple of distinct indices in [0, n_bits).
        coefficients: one weight per monomial; empty (the default) means all 1.0.
    """

    monomials: tuple[tuple[int, ...], ...]
    coefficients: tuple[float, ...] = ()

    @property
    def kind(self) -> str:
        return "regression"

    def check(self, path: str) -> None:
        super().check(path)
        if not self.monomials:
            raise config_error(path, "monomials", self.monomials, "must list at least one monomial")
        for j, monomial in enumerate(self.monomials):
            key = f"monomials[{j}]"
            if not monomial:
                raise config_error(path, key, monomial, "is empty; a monomial needs at least one index")
            bad = [i for i in monomial if not 0 <= i < self.n_bits]
            if bad:
                raise config_error(
                    path, key, monomial, f"has index {bad[0]}; indices are 0-based in [0, n_bits = {self.n_bits})"
                )
            if len(set(monomial)) != len(monomial):
                raise config_error(path, key, monomial, "repeats an index; list each index at most once")
        if len(self.coefficients) not in (0, len(self.monomials)):
            raise config_error(
                path,
                "coefficients",
                self.coefficients,
                f"must be empty (all 1.0) or have one entry per monomial ({len(self.monomials)})",
            )

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for inputs x (n, n_bits); returns (n,)."""
        return monomial_target(x, self.monomials, self.coefficients)

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = uniform_hypercube(n, self.n_bits, generator)  # (n, n_bits)
        return x, self.target(x)

    def support_mask(self) -> np.ndarray:
        mask = np.zeros(self.n_bits, dtype=np.int8)
        for monomial in self.monomials:
            mask[list(monomial)] = 1
        return mask

    def describe(self) -> str:
        coefficients = self.coefficients or (1.0,) * len(self.monomials)
        terms = " + ".join(
            ("" if c == 1.0 else f"{c:g}·") + "".join(f"x{i}" for i in monomial)
            for c, monomial in zip(coefficients, self.monomials, strict=True)
        )
        support = np.flatnonzero(self.support_mask()).tolist()
        return f"multi-index function {terms} of {self.n_bits} bits (support {support})"


@dataclass(frozen=True, kw_only=True)
class SparseParity(HypercubeTask):
    """The parity of k hidden bits out of n_bits uniform ±1 bits; kind "binary".

    y = Π_{i∈S} x_i, where the support S is a uniformly random k-subset of
    [0, n_bits) drawn from ``data_seed`` (sorted, 0-based; see ``support_indices``).

    Example (n_bits=4, support (0, 2)): x = (+1, −1, −1, +1) → y = x0·x2 = −1.

    Attributes:
        n_bits: input dimension.
        k: size of the support, 1 ≤ k ≤ n_bits.
    """

    k: int

    @property
    def kind(self) -> str:
        return "binary"

    @property
    def support_indices(self) -> tuple[int, ...]:
        """The hidden support S, sorted and 0-based; depends only on data_seed, n_bits, k."""
        generator = seeded_generator(self.data_seed, SUPPORT_STREAM)
        chosen = torch.randperm(self.n_bits, generator=generator)[: self.k]
        return tuple(sorted(chosen.tolist()))

    def check(self, path: str) -> None:
        super().check(path)
        if not 1 <= self.k <= self.n_bits:
            raise config_error(path, "k", self.k, f"must be between 1 and n_bits = {self.n_bits}")

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """Π_{i∈S} x_i for inputs x (n, n_bits); returns (n,) in {-1, +1}."""
        return monomial_target(x, (self.support_indices,))

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = uniform_hypercube(n, self.n_bits, generator)  # (n, n_bits)
        return x, self.target(x)

    def support_mask(self) -> np.ndarray:
        mask = np.zeros(self.n_bits, dtype=np.int8)
        mask[list(self.support_indices)] = 1
        return mask

    def describe(self) -> str:
        return f"sparse parity of {self.k} of {self.n_bits} bits (support {list(self.support_indices)})"
