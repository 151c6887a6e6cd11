"""``learnscope.similarity``: GULP against a direct formula in feature space, the CCA identity
at λ = 0, invariances, the metric axioms, known answers for CKA, CCA and Procrustes, and
the batched matrices equal to the pairwise functions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ortho_group

from learnscope import similarity
from learnscope.similarity import cca, cka, distance_matrices, gulp, preprocess, procrustes

N = 60


def _rep(seed: int, k: int, n: int = N) -> np.ndarray:
    """A random representation with correlated features (n, k)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)) @ rng.standard_normal((3, k)) + 0.5 * rng.standard_normal((n, k))


def _direct_gulp_squared(A: np.ndarray, B: np.ndarray, lam: float) -> float:
    """The paper's plug-in formula in feature space, with explicit (pseudo-)inverses."""
    A, B = preprocess(A), preprocess(B)
    n = A.shape[0]
    Sa, Sb, Sab = A.T @ A / n, B.T @ B / n, A.T @ B / n
    inv = (lambda S: np.linalg.inv(S + lam * np.eye(len(S)))) if lam > 0 else np.linalg.pinv
    Ra, Rb = inv(Sa), inv(Sb)
    return float(np.trace(Sa @ Sa @ Ra @ Ra) + np.trace(Sb @ Sb @ Rb @ Rb) - 2 * np.trace(Ra @ Sab @ Rb @ Sab.T))


def _canonical_correlations(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """ρ by QR of the centred data (an independent route to CCA)."""
    qa, _ = np.linalg.qr(A - A.mean(0))
    qb, _ = np.linalg.qr(B - B.mean(0))
    return np.linalg.svd(qa.T @ qb, compute_uv=False)


@pytest.mark.parametrize("lam", [0.0, 1.0e-3, 0.1, 1.0, 10.0])
@pytest.mark.parametrize("k, l", [(5, 8), (12, 3)])
def test_gulp_equals_the_direct_feature_space_formula(lam, k, l):
    A, B = _rep(0, k), _rep(1, l)
    assert gulp(A, B, lam) ** 2 == pytest.approx(_direct_gulp_squared(A, B, lam), rel=1e-9, abs=1e-10)


def test_at_lambda_0_gulp_is_the_cca_identity():
    A, B = _rep(2, 6), _rep(3, 9)
    rho = _canonical_correlations(A, B)
    assert gulp(A, B, 0.0) ** 2 == pytest.approx(6 + 9 - 2 * np.sum(rho ** 2), rel=1e-10)
    assert cca(A, B) == pytest.approx(1 - np.sum(rho ** 2) / 6, rel=1e-10)


def test_more_features_than_samples_uses_the_rank():
    """k > n: the centred rank is n − 1; at λ = 0 both projections are onto the same space."""
    A, B = _rep(4, 40, n=20), _rep(5, 50, n=20)
    assert gulp(A, B, 0.0) == pytest.approx(0.0, abs=1e-6)
    assert gulp(A, B, 0.1) > 0.01 and cca(A, B) == pytest.approx(0.0, abs=1e-10)
    assert gulp(A, B, 0.5) ** 2 == pytest.approx(_direct_gulp_squared(A, B, 0.5), rel=1e-8)


@pytest.mark.parametrize("lam", [0.0, 0.1, 1.0])
def test_invariant_to_rotations_of_either_representation(lam):
    A, B = _rep(6, 7), _rep(7, 5)
    Q = ortho_group.rvs(7, random_state=1)
    assert gulp(A @ Q, B, lam) == pytest.approx(gulp(A, B, lam), rel=1e-9)
    for measure in (cka, cca, procrustes):
        assert measure(A @ Q, B) == pytest.approx(measure(A, B), rel=1e-9, abs=1e-12)


def test_invariant_to_invertible_maps_at_lambda_0_only():
    A, B = _rep(8, 6), _rep(9, 6)
    G = np.random.default_rng(3).standard_normal((6, 6)) + 3 * np.eye(6)
    assert gulp(A @ G, B, 0.0) == pytest.approx(gulp(A, B, 0.0), rel=1e-8)
    assert cca(A @ G, B) == pytest.approx(cca(A, B), rel=1e-8)
    assert abs(gulp(A @ G, B, 1.0) - gulp(A, B, 1.0)) > 1e-3  # ridge sees the scale of directions


def test_metric_axioms_on_random_triples():
    reps = [_rep(s, k) for s, k in zip(range(10, 16), (3, 5, 8, 4, 6, 10))]
    for lam in (0.0, 0.01, 1.0):
        D = distance_matrices(reps, [lam])["gulp"][..., 0]
        assert np.allclose(D, D.T) and np.allclose(np.diag(D), 0)
        i, j, k = np.meshgrid(*[np.arange(len(reps))] * 3, indexing="ij")
        assert (D[i, k] <= D[i, j] + D[j, k] + 1e-12).all()
    A = _rep(20, 5)
    assert gulp(A, A, 0.3) == pytest.approx(0.0, abs=1e-7)
    assert gulp(A, 2.5 * A + 1.0, 0.3) == pytest.approx(0.0, abs=1e-7)  # preprocessing removes shift and scale


def test_known_answers_for_cka_cca_and_procrustes():
    A = _rep(21, 4)
    Q = ortho_group.rvs(4, random_state=2)
    assert cka(A, A @ Q) == pytest.approx(0.0, abs=1e-12) and procrustes(A, A @ Q) == pytest.approx(0.0, abs=1e-6)
    independent = np.random.default_rng(0).standard_normal((20000, 2)), np.random.default_rng(1).standard_normal((20000, 2))
    assert cca(*independent) == pytest.approx(1.0, abs=1e-3)  # ρ ≈ 0 for independent features
    assert cka(*independent) == pytest.approx(1.0, abs=1e-3)
    assert procrustes(*independent) == pytest.approx(np.sqrt(2.0), abs=1e-2)  # no rotation aligns them


def test_batched_matrices_equal_the_pairwise_functions():
    reps = [_rep(30, 4), _rep(31, 9), _rep(32, 6), _rep(33, 70)]
    lams = [0.0, 0.01, 1.0]
    out = distance_matrices(reps, lams)
    assert out["gulp"].shape == (4, 4, 3)
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            for li, lam in enumerate(lams):
                assert out["gulp"][i, j, li] == pytest.approx(gulp(reps[i], reps[j], lam), rel=1e-12, abs=1e-12)
            for name, fn in (("cka", cka), ("cca", cca), ("procrustes", procrustes)):
                assert out[name][i, j] == pytest.approx(fn(reps[i], reps[j]), rel=1e-12, abs=1e-12)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="constant"):
        gulp(np.ones((10, 3)), _rep(0, 3, n=10))
    with pytest.raises(ValueError, match="different samples"):
        gulp(_rep(0, 3, n=10), _rep(0, 3, n=11))
    with pytest.raises(ValueError, match="lam"):
        gulp(_rep(0, 3), _rep(1, 3), -1.0)
    with pytest.raises(ValueError, match="samples, features"):
        similarity.spectrum(np.ones(5))
