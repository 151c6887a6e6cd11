"""Finite groups and real irreps: group axioms, homomorphisms, character orthogonality,
Peter–Weyl completeness, and the per-irrep energy split (known answers, a naive reference,
invariance under translation)."""

from __future__ import annotations

import numpy as np
import pytest

from learnscope.groups import (
    FiniteGroup,
    cyclic,
    dihedral,
    energy_per_irrep,
    group,
    symmetric,
)

SPECS = ["cyclic:2", "cyclic:5", "cyclic:6", "dihedral:3", "dihedral:4", "dihedral:5",
         "symmetric:3", "symmetric:4", "symmetric:5"]

# name -> (order, irrep dims in order); counts of real irreps are the classic ones
EXPECTED = {
    "C2": (2, [1, 1]), "C5": (5, [1, 2, 2]), "C6": (6, [1, 1, 2, 2]),
    "D3": (6, [1, 1, 2]), "D4": (8, [1, 1, 1, 1, 2]), "D5": (10, [1, 1, 2, 2]),
    "S3": (6, [1, 2, 1]), "S4": (24, [1, 3, 2, 3, 1]), "S5": (120, [1, 4, 5, 6, 5, 4, 1]),
}


@pytest.fixture(scope="module", params=SPECS)
def g(request) -> FiniteGroup:
    return group(request.param)


def test_table_is_a_group(g):
    t, n = g.table, g.order
    e = np.arange(n)
    assert t.dtype == np.int64 and t.shape == (n, n)
    left = t[t[:, :, None], e[None, None, :]]  # (a·b)·c
    right = t[e[:, None, None], t[None, :, :]]  # a·(b·c)
    np.testing.assert_array_equal(left, right)
    np.testing.assert_array_equal(t[0], e)
    np.testing.assert_array_equal(t[:, 0], e)
    np.testing.assert_array_equal(t[e, g.inverse], 0)
    np.testing.assert_array_equal(t[g.inverse, e], 0)
    assert len(g.labels) == n == len(set(g.labels))


def test_order_and_irrep_dims(g):
    order, dims = EXPECTED[g.name]
    assert g.order == order
    assert [r.dim for r in g.irreps] == dims
    assert g.irreps[0].name == "trivial"
    np.testing.assert_array_equal(g.irreps[0].character(), np.ones(order))


def test_irreps_are_orthogonal_homomorphisms(g):
    for r in g.irreps:
        m = r.matrices  # (n, d, d)
        assert m.shape == (g.order, r.dim, r.dim)
        np.testing.assert_allclose(np.einsum("aij,bjk->abik", m, m), m[g.table], atol=1e-12)
        np.testing.assert_allclose(np.einsum("aji,ajk->aik", m, m),
                                   np.broadcast_to(np.eye(r.dim), m.shape), atol=1e-12)


def test_coefficient_spaces_fill_the_group_algebra(g):
    # a "real" irrep contributes dim² independent coefficients, a "complex" one dim²/2
    total = sum(r.dim**2 if r.kind == "real" else r.dim**2 // 2 for r in g.irreps)
    assert total == g.order
    basis, owner = g.peter_weyl_basis
    np.testing.assert_allclose(basis.T @ basis, np.eye(g.order), atol=1e-10)
    assert np.bincount(owner).tolist() == [r.coefficient_dim for r in g.irreps]


def test_character_orthogonality(g):
    chars = np.stack([r.character() for r in g.irreps])  # (n_irreps, n)
    gram = chars @ chars.T / g.order
    expected = np.diag([1.0 if r.kind == "real" else 2.0 for r in g.irreps])
    np.testing.assert_allclose(gram, expected, atol=1e-12)


def test_kinds():
    assert [r.kind for r in cyclic(6).irreps] == ["real", "real", "complex", "complex"]
    assert all(r.kind == "real" for r in dihedral(6).irreps)
    assert all(r.kind == "real" for r in symmetric(4).irreps)


def test_energy_sums_to_one_and_is_nonnegative_on_a_batch(g):
    v = np.random.default_rng(0).normal(size=(3, 4, g.order))
    energy = energy_per_irrep(v, g)
    assert energy.shape == (3, 4, len(g.irreps))
    assert (energy >= 0).all()
    np.testing.assert_allclose(energy.sum(-1), 1.0, atol=1e-12)


def test_matrix_coefficients_live_in_their_own_irrep(g):
    for i, r in enumerate(g.irreps):
        coeffs = r.matrices.reshape(g.order, -1).T  # (dim², n): every g -> rho(g)_jk
        expected = np.zeros((len(coeffs), len(g.irreps)))
        expected[:, i] = 1.0
        np.testing.assert_allclose(energy_per_irrep(coeffs, g), expected, atol=1e-12)


def test_energy_matches_naive_least_squares_projection(g):
    v = np.random.default_rng(1).normal(size=(2, g.order))
    naive = np.zeros((2, len(g.irreps)))
    for i, r in enumerate(g.irreps):
        span = r.matrices.reshape(g.order, -1)
        for b in range(2):
            x, *_ = np.linalg.lstsq(span, v[b], rcond=None)
            naive[b, i] = np.sum((span @ x) ** 2) / np.sum(v[b] ** 2)
    np.testing.assert_allclose(energy_per_irrep(v, g), naive, atol=1e-10)


def test_energy_is_invariant_under_translation(g):
    # coefficient spaces are two-sided ideals: f(h·x) and f(x·h) keep each irrep's energy
    v = np.random.default_rng(2).normal(size=g.order)
    h = g.order - 1
    base = energy_per_irrep(v, g)
    np.testing.assert_allclose(energy_per_irrep(v[g.table[h, :]], g), base, atol=1e-12)
    np.testing.assert_allclose(energy_per_irrep(v[g.table[:, h]], g), base, atol=1e-12)


def test_cyclic_energy_is_fourier_power():
    n = 7
    v = np.random.default_rng(3).normal(size=n)
    power = np.abs(np.fft.fft(v)) ** 2 / (n * np.sum(v**2))  # Parseval: sums to 1
    expected = [power[0]] + [power[k] + power[n - k] for k in range(1, 4)]
    np.testing.assert_allclose(energy_per_irrep(v, cyclic(n)), expected, atol=1e-12)
    np.testing.assert_allclose(energy_per_irrep([1.0, 0.0, -1.0, 0.0], cyclic(4)), [0, 0, 1],
                               atol=1e-12)


def test_zero_vector_has_zero_energy():
    np.testing.assert_array_equal(energy_per_irrep(np.zeros(6), dihedral(3)), np.zeros(3))


def test_named_elements_and_irreps():
    d4 = dihedral(4)
    assert d4.labels[:2] == ("e", "r1") and d4.labels[4:6] == ("s", "s r1")
    assert [r.name for r in d4.irreps] == ["trivial", "sign", "alt", "alt_sign", "rot1"]
    s4 = symmetric(4)
    assert s4.labels[0] == "(0 1 2 3)"
    assert [r.name for r in s4.irreps] == ["trivial", "std", "(2,2)", "(2,1,1)", "sign"]
    # sign of S4 is the parity of the permutation; a transposition is odd
    assert s4.irreps[-1].character()[s4.labels.index("(1 0 2 3)")] == -1


def test_group_spec_errors():
    with pytest.raises(ValueError, match="cyclic, dihedral, symmetric"):
        group("bogus:3")
    with pytest.raises(ValueError, match="cyclic:<int>"):
        group("cyclic:x")
    with pytest.raises(ValueError, match=r"\[2, 5\]"):
        symmetric(6)
    with pytest.raises(ValueError, match=">= 3"):
        dihedral(2)
    with pytest.raises(ValueError, match=">= 2"):
        cyclic(1)
    with pytest.raises(ValueError, match=r"\(\.\.\., 6\)"):
        energy_per_irrep(np.zeros((2, 5)), cyclic(6))
