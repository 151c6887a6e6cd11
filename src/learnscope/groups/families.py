"""The group families: cyclic C_n, dihedral D_n and symmetric S_n (n <= 5), each with every
real irrep (S_n's from Young's orthogonal form), and ``group("family:n")``."""

from __future__ import annotations

import itertools

import numpy as np

from learnscope.groups.base import MAX_SYMMETRIC_N, FiniteGroup, Irrep, check_n, make_group


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
    check_n("cyclic", n, 2)
    i = np.arange(n)
    table = (i[:, None] + i[None, :]) % n
    irreps = [Irrep("trivial", np.ones((n, 1, 1)), "real")]
    if n % 2 == 0:
        irreps.append(Irrep("sign", ((-1.0) ** i)[:, None, None], "real"))
    irreps += [Irrep(f"rot{k}", _rotations(n, k), "complex") for k in range(1, (n + 1) // 2)]
    labels = ["e"] + [f"r{k}" for k in range(1, n)]
    return make_group(f"C{n}", table, labels, irreps)


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
    check_n("dihedral", n, 3)
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
    return make_group(f"D{n}", table, labels, irreps)


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
    check_n("symmetric", n, 2, MAX_SYMMETRIC_N)
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
    return make_group(f"S{n}", table, labels, irreps)


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
