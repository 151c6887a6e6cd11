"""Finite groups and their real irreducible representations, for group-composition tasks.

A ``FiniteGroup`` is its multiplication table (element 0 is the identity) plus every real
irrep as an array of orthogonal matrices ``rho(g)``. ``energy_per_irrep`` splits a function on
the group (e.g. a neuron's embedding weights, indexed by element) into the Peter–Weyl
components: the spans of each irrep's matrix coefficients ``g -> rho(g)_ij``, which are
mutually orthogonal and together span R^|G|. This is the per-neuron measurement of Chughtai
et al. 2023 ("A toy model of universality", §4) and Morwani et al. 2024 ("Feature emergence
via margin maximization", §5).

Example:
    >>> g = group("dihedral:4")                    # D4, order 8
    >>> g.labels[5], [r.name for r in g.irreps]
    ('s r1', ['trivial', 'sign', 'alt', 'alt_sign', 'rot1'])
    >>> energy_per_irrep(g.irreps[4].matrices[:, 0, 1], g).round(3)
    array([0., 0., 0., 0., 1.])
"""

from __future__ import annotations

import itertools
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


def _make_group(name: str, table: np.ndarray, labels: list[str], irreps: list[Irrep]) -> FiniteGroup:
    table = table.astype(np.int64)
    inverse = np.argmax(table == 0, axis=1)  # the b with a·b = e
    return FiniteGroup(name, _readonly(table), _readonly(inverse.astype(np.int64)),
                       tuple(labels), tuple(irreps))


def _check_n(family: str, n: int, low: int, high: int | None = None) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{family}(n): n must be an int, got {n!r}")
    if n < low or (high is not None and n > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{family}(n): n must be {bound}, got {n}")


def _rotations(n: int, k: int) -> np.ndarray:
    """(n, 2, 2) rotations by 2πk·i/n for i = 0..n-1."""
    theta = 2 * np.pi * k * np.arange(n) / n
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def cyclic(n: int) -> FiniteGroup:
    """The cyclic group C_n: element i is r^i, and r^i · r^j = r^(i+j mod n).

    Real irreps: trivial; ``sign`` (r^i -> (-1)^i) when n is even; ``rot{k}`` (r^i -> rotation
    by 2πki/n) for 1 <= k < n/2, kind ``"complex"``. E.g. C6 has trivial, sign, rot1, rot2.

    Args:
        n: order, >= 2.

    Returns:
        The group, named ``f"C{n}"``.
    """
    _check_n("cyclic", n, 2)
    i = np.arange(n)
    table = (i[:, None] + i[None, :]) % n
    irreps = [Irrep("trivial", np.ones((n, 1, 1)), "real")]
    if n % 2 == 0:
        irreps.append(Irrep("sign", ((-1.0) ** i)[:, None, None], "real"))
    irreps += [Irrep(f"rot{k}", _rotations(n, k), "complex") for k in range(1, (n + 1) // 2)]
    labels = ["e"] + [f"r{k}" for k in range(1, n)]
    return _make_group(f"C{n}", table, labels, irreps)


def dihedral(n: int) -> FiniteGroup:
    """The dihedral group D_n of order 2n: element a·n + i is s^a r^i (a in {0, 1}), s r s = r⁻¹.

    So (s^a r^i)(s^b r^j) = s^(a+b) r^((-1)^b i + j). Real irreps (all kind ``"real"``):
    trivial; ``sign`` (s -> -1, r -> 1); for even n also ``alt`` (s -> 1, r -> -1) and
    ``alt_sign`` (s -> -1, r -> -1); ``rot{k}`` for 1 <= k < n/2: r -> rotation by 2πk/n,
    s -> diag(1, -1). E.g. D4 has 5 irreps of dims 1, 1, 1, 1, 2.

    Args:
        n: number of polygon sides, >= 3.

    Returns:
        The group, named ``f"D{n}"``.
    """
    _check_n("dihedral", n, 3)
    e = np.arange(2 * n)
    a, i = e // n, e % n
    sign_b = 1 - 2 * a[None, :]  # (-1)^b over the column element b
    table = ((a[:, None] + a[None, :]) % 2) * n + (sign_b * i[:, None] + i[None, :]) % n
    refl, rot_sign = (-1.0) ** a, (-1.0) ** i
    irreps = [Irrep("trivial", np.ones((2 * n, 1, 1)), "real"),
              Irrep("sign", refl[:, None, None], "real")]
    if n % 2 == 0:
        irreps += [Irrep("alt", rot_sign[:, None, None], "real"),
                   Irrep("alt_sign", (refl * rot_sign)[:, None, None], "real")]
    flip = np.array([1.0, -1.0])[:, None]  # diag(1, -1) applied on the left
    for k in range(1, (n + 1) // 2):
        rot = _rotations(n, k)
        irreps.append(Irrep(f"rot{k}", np.concatenate([rot, flip * rot]), "real"))
    labels = ["e"] + [f"r{k}" for k in range(1, n)] + ["s"] + [f"s r{k}" for k in range(1, n)]
    return _make_group(f"D{n}", table, labels, irreps)


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """Partitions of n in reverse lexicographic order: (n), (n-1, 1), ..., (1, ..., 1)."""
    if n == 0:
        return [()]
    largest = n if largest is None else largest
    return [(first, *rest) for first in range(min(n, largest), 0, -1)
            for rest in _partitions(n - first, first)]


def _standard_tableaux(shape: tuple[int, ...]) -> list[tuple[tuple[int, int], ...]]:
    """Standard Young tableaux of ``shape``, each as the (row, col) cell of entries 0, 1, ..."""
    if sum(shape) == 0:
        return [()]
    out = []
    for r, length in enumerate(shape):  # the largest entry sits in a removable corner
        if length > 0 and (r + 1 == len(shape) or shape[r + 1] < length):
            smaller = shape[:r] + (length - 1,) + shape[r + 1:]
            out += [t + ((r, length - 1),) for t in _standard_tableaux(smaller)]
    return out


def _young_orthogonal(shape: tuple[int, ...], i: int) -> np.ndarray:
    """Young's orthogonal form of the adjacent transposition (i, i+1) on ``shape``.

    With axial distance r = c(i+1) - c(i) (content c = col - row): rho e_T = e_T if i, i+1
    share a row, -e_T if they share a column, else (1/r) e_T + sqrt(1 - 1/r²) e_{(i,i+1)T}
    (James & Kerber, The Representation Theory of the Symmetric Group, 3.3.15).
    """
    tableaux = _standard_tableaux(shape)
    index = {t: k for k, t in enumerate(tableaux)}
    m = np.zeros((len(tableaux), len(tableaux)))
    for k, t in enumerate(tableaux):
        (r0, c0), (r1, c1) = t[i], t[i + 1]
        r = (c1 - r1) - (c0 - r0)
        m[k, k] = 1.0 / r  # +1 in a row (r = 1), -1 in a column (r = -1)
        if r0 != r1 and c0 != c1:
            swapped = t[:i] + (t[i + 1], t[i]) + t[i + 2:]
            m[index[swapped], k] = np.sqrt(1.0 - 1.0 / r**2)
    return m


def _extend_to_group(table: np.ndarray, gens: list[int], gen_mats: list[np.ndarray]) -> np.ndarray:
    """rho(g) for every g from rho on generators, by breadth-first words: rho(s·g) = rho(s) rho(g)."""
    n, d = table.shape[0], gen_mats[0].shape[0]
    mats = np.zeros((n, d, d))
    mats[0] = np.eye(d)
    known = np.zeros(n, dtype=bool)
    known[0] = True
    frontier = np.array([0])
    while frontier.size:
        reached = []
        for gen, m in zip(gens, gen_mats):
            new = table[gen, frontier]
            fresh = ~known[new]
            new, first = np.unique(new[fresh], return_index=True)
            mats[new] = m @ mats[frontier[fresh][first]]
            known[new] = True
            reached.append(new)
        frontier = np.concatenate(reached)
    if not known.all():
        raise ValueError("the generators do not generate the group")
    return mats


def symmetric(n: int) -> FiniteGroup:
    """The symmetric group S_n on {0, ..., n-1}, composed right to left: (a·b)(x) = a(b(x)).

    Elements are permutations in one-line notation in lexicographic order (identity first),
    labelled like ``"(1 0 2)"`` meaning 0 -> 1, 1 -> 0, 2 -> 2. One irrep per partition of n,
    in reverse lexicographic order, built with Young's orthogonal form on the adjacent
    transpositions and extended along words; all kind ``"real"``. Named ``"trivial"`` for (n),
    ``"sign"`` for (1^n), ``"std"`` for (n-1, 1) and by partition otherwise, e.g. ``"(2,2)"``.
    S_5 has 7 irreps of dims 1, 4, 5, 6, 5, 4, 1.

    Args:
        n: 2 <= n <= 5 (S_6 has 720 elements, too many for the composition study).

    Returns:
        The group, named ``f"S{n}"``.
    """
    _check_n("symmetric", n, 2, MAX_SYMMETRIC_N)
    perms = np.array(list(itertools.permutations(range(n))))  # (m, n), lexicographic
    weights = n ** np.arange(n - 1, -1, -1)  # base-n code preserves lexicographic order
    codes = perms @ weights
    composed = perms[np.arange(len(perms))[:, None, None], perms[None, :, :]]  # (m, m, n): a(b(x))
    table = np.searchsorted(codes, composed @ weights)
    adjacent = [int(np.searchsorted(codes, np.r_[:i, i + 1, i, i + 2:n] @ weights))
                for i in range(n - 1)]
    irreps = []
    for shape in _partitions(n):
        mats = _extend_to_group(table, adjacent, [_young_orthogonal(shape, i) for i in range(n - 1)])
        name = ("trivial" if shape == (n,) else "sign" if shape == (1,) * n
                else "std" if shape == (n - 1, 1) else "(" + ",".join(map(str, shape)) + ")")
        irreps.append(Irrep(name, mats, "real"))
    labels = ["(" + " ".join(map(str, p)) + ")" for p in perms]
    return _make_group(f"S{n}", table, labels, irreps)


FAMILIES = {"cyclic": cyclic, "dihedral": dihedral, "symmetric": symmetric}


def group(spec: str) -> FiniteGroup:
    """The group named by ``"family:n"``, e.g. ``"cyclic:7"``, ``"dihedral:5"`` (order 10),
    ``"symmetric:4"``.

    Args:
        spec: family name from ``FAMILIES`` and its integer parameter, joined by ``":"``.

    Returns:
        ``FAMILIES[family](n)``.

    Raises:
        ValueError: unknown family (the message lists the known ones), a non-integer n, or
            an n the family rejects.
    """
    known = ", ".join(sorted(FAMILIES))
    family, sep, arg = spec.partition(":")
    if family not in FAMILIES:
        raise ValueError(f"group spec {spec!r}: unknown family {family!r}; known: {known} "
                         f"(write e.g. 'dihedral:5')")
    if not sep or not arg.strip().isdigit():
        raise ValueError(f"group spec {spec!r}: expected '{family}:<int>', e.g. '{family}:5'")
    return FAMILIES[family](int(arg))


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
