"""Finite groups as multiplication tables with their real irreps, and the Peter–Weyl
energy of a function on a group per irrep (see ``learnscope.groups``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

KINDS = ("real", "complex")
MAX_SYMMETRIC_N = 5


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Irrep:
    """One real irreducible representation; compared by identity (it holds arrays).

    Attributes:
        name: ``"trivial"``, ``"sign"``, ``"rot{k}"`` (2-D rotation by frequency k),
            ``"std"`` (standard rep of S_n) or a partition such as ``"(3,2)"``.
        matrices: (n, dim, dim) real orthogonal matrices ``rho(g)``, indexed like the group.
        kind: ``"real"`` (absolutely irreducible: its dim² matrix coefficients are linearly
            independent) or ``"complex"`` (the realification of a complex irrep and its
            conjugate, e.g. the 2-D cyclic rotations: only dim²/2 independent coefficients).
    """

    name: str
    matrices: np.ndarray
    kind: str

    def __post_init__(self) -> None:
        m = self.matrices
        if m.ndim != 3 or m.shape[1] != m.shape[2]:
            raise ValueError(f"irrep {self.name!r}: matrices must be (n, dim, dim), got {m.shape}")
        if self.kind not in KINDS:
            raise ValueError(f"irrep {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        object.__setattr__(self, "matrices", _readonly(m.astype(np.float64)))

    @property
    def dim(self) -> int:
        """Side length of each matrix ``rho(g)``."""
        return self.matrices.shape[1]

    @property
    def coefficient_dim(self) -> int:
        """Dimension of the span of the matrix coefficients: dim² (real) or dim²/2 (complex)."""
        return self.dim**2 if self.kind == "real" else self.dim**2 // 2

    def character(self) -> np.ndarray:
        """The character ``chi(g) = tr rho(g)``, shape (n,)."""
        return np.trace(self.matrices, axis1=1, axis2=2)

    def coefficient_basis(self) -> np.ndarray:
        """Orthonormal basis (n, coefficient_dim) of the span of ``{g -> rho(g)_ij}``.

        Raises:
            ValueError: the coefficients' rank is not ``coefficient_dim`` (wrong ``kind``, or
                the matrices are not an irrep).
        """
        n, d = self.matrices.shape[:2]
        coeffs = self.matrices.reshape(n, d * d)  # (n, d²): column ij is g -> rho(g)_ij
        u, s, _ = np.linalg.svd(coeffs, full_matrices=False)
        rank = int((s > 1e-8 * s[0]).sum())
        if rank != self.coefficient_dim:
            raise ValueError(f"irrep {self.name!r} ({self.kind}, dim {d}) has coefficient rank "
                             f"{rank}, expected {self.coefficient_dim}: check its kind and matrices")
        return u[:, :rank]


@dataclass(frozen=True, eq=False)
class FiniteGroup:
    """A finite group as a multiplication table with all its real irreps.

    Attributes:
        name: short name, e.g. ``"C5"``, ``"D4"`` (order 8), ``"S4"``.
        table: (n, n) int64, ``table[a, b]`` = index of ``a·b``; element 0 is the identity.
        inverse: (n,) int64, ``table[a, inverse[a]] == 0``.
        labels: element names, e.g. ``"r2"``, ``"s r1"``, ``"(0 2 1 3)"``.
        irreps: every real irrep up to equivalence, trivial first.
    """

    name: str
    table: np.ndarray
    inverse: np.ndarray
    labels: tuple[str, ...]
    irreps: tuple[Irrep, ...]

    @property
    def order(self) -> int:
        """Number of elements |G|."""
        return self.table.shape[0]

    @cached_property
    def peter_weyl_basis(self) -> tuple[np.ndarray, np.ndarray]:
        """Orthogonal (n, n) basis of R^n whose columns span the irreps' coefficient spaces,
        and (n,) int64 giving the index in ``irreps`` that owns each column.

        Raises:
            ValueError: the irreps' coefficient spaces do not add up to dimension |G|.
        """
        bases = [irrep.coefficient_basis() for irrep in self.irreps]
        total = sum(b.shape[1] for b in bases)
        if total != self.order:
            raise ValueError(f"{self.name}: irrep coefficient spaces have total dimension {total}, "
                             f"not |G| = {self.order}; an irrep is missing or repeated")
        owner = np.repeat(np.arange(len(bases)), [b.shape[1] for b in bases])
        return _readonly(np.concatenate(bases, axis=1)), _readonly(owner)


def make_group(name: str, table: np.ndarray, labels: list[str], irreps: list[Irrep]) -> FiniteGroup:
    table = table.astype(np.int64)
    inverse = np.argmax(table == 0, axis=1)  # the b with a·b = e
    return FiniteGroup(name, _readonly(table), _readonly(inverse.astype(np.int64)),
                       tuple(labels), tuple(irreps))


def check_n(family: str, n: int, low: int, high: int | None = None) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{family}(n): n must be an int, got {n!r}")
    if n < low or (high is not None and n > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{family}(n): n must be {bound}, got {n}")


def energy_per_irrep(vectors: np.ndarray, g: FiniteGroup) -> np.ndarray:
    """Fraction of each vector's squared norm in each irrep's matrix-coefficient span.

    The spans are orthogonal and sum to R^|G| (Peter–Weyl), so the fractions of a nonzero
    vector are nonnegative and sum to 1; an all-zero vector gets all-zero fractions.
    Example: on C4, ``[1, 0, -1, 0]`` (= cos(2π·i/4)) gives ``[0, 0, 1]`` over
    (trivial, sign, rot1).

    Args:
        vectors: (..., n) functions on the group, indexed by element (e.g. embedding rows).
        g: the group, with n = ``g.order``.

    Returns:
        (..., len(g.irreps)) float64 fractions, columns in the order of ``g.irreps``.

    Raises:
        ValueError: the last axis of ``vectors`` is not ``g.order``.
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim == 0 or v.shape[-1] != g.order:
        raise ValueError(f"energy_per_irrep: vectors must be (..., {g.order}) for {g.name}, "
                         f"got shape {v.shape}")
    basis, owner = g.peter_weyl_basis  # (n, n), (n,)
    onehot = (owner[:, None] == np.arange(len(g.irreps))).astype(np.float64)  # (n, n_irreps)
    energy = ((v @ basis) ** 2) @ onehot  # (..., n_irreps)
    total = energy.sum(-1, keepdims=True)
    return np.divide(energy, total, out=np.zeros_like(energy), where=total > 0)
