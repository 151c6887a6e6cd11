"""The similarity study's independent checks (``studies.similarity.checks``) against known
answers: the CCA identity on planted rank-deficient representations, a planted triangle
violation, ridge predictions against scikit-learn, and the gap bound."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from learnscope.similarity import distance_matrices, preprocess
from learnscope.studies.similarity import checks

RNG = np.random.default_rng(3)


def _reps():
    """Four representations of 60 samples; one with a dead unit and a duplicated one (rank 5 of 7)."""
    base = RNG.standard_normal((60, 5))
    deficient = np.concatenate([base, np.zeros((60, 1)), base[:, :1] * 2.0], axis=1)
    return [deficient, RNG.standard_normal((60, 8)), base @ RNG.standard_normal((5, 5)) + 0.3 * RNG.standard_normal((60, 5)),
            np.tanh(base @ RNG.standard_normal((5, 12)))]


def test_qr_basis_has_the_rank_of_the_representation():
    assert checks.qr_basis(_reps()[0]).shape == (60, 5)
    Q = checks.qr_basis(_reps()[1])
    np.testing.assert_allclose(Q.T @ Q, np.eye(8), atol=1e-12)


def test_the_cca_identity_holds_on_gulp_at_zero_and_fails_on_a_wrong_distance():
    reps = _reps()
    d0 = distance_matrices(reps, [0.0])["gulp"][:, :, 0]
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    assert checks.identity_errors(reps, d0, pairs).max() < 1e-10
    assert checks.identity_errors(reps, d0 * 1.01, pairs).max() > 1e-4  # the check can fail


def test_triangle_violations_counts_a_planted_violation():
    D = distance_matrices(_reps(), [0.1])["gulp"][:, :, 0]
    assert checks.triangle_violations(D) == 0
    bad = D.copy()
    bad[0, 1] = bad[1, 0] = D[0, 2] + D[2, 1] + 1.0  # longer than the way through 2 (and perhaps 3)
    assert checks.triangle_violations(bad) >= 2  # (0, 2, 1) and (1, 2, 0)


def test_ridge_predictions_equal_scikit_learn_ridge():
    X, Y = _reps()[1], RNG.standard_normal((60, 3))
    lams = np.array([0.0, 0.1, 2.0])
    ours = checks.ridge_predictions(X, Y, lams)
    A = preprocess(X)
    for l, lam in enumerate(lams[1:], start=1):  # (1/n)‖y − Aβ‖² + λ‖β‖² is sklearn's alpha = nλ
        theirs = Ridge(alpha=60 * lam, fit_intercept=False).fit(A, Y).predict(A)
        np.testing.assert_allclose(ours[l], theirs, atol=1e-10)
    projection = A @ np.linalg.pinv(A) @ Y
    np.testing.assert_allclose(ours[0], projection, atol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 1.0e-2, 1.0])
def test_no_ridge_gap_exceeds_gulp_and_the_bound_is_not_loose_by_orders(lam):
    reps = _reps()
    probe = RNG.standard_normal((60, 6))
    Y = checks.linear_targets(probe, 32, np.random.default_rng(0))
    np.testing.assert_allclose((Y ** 2).mean(axis=0), 1.0)
    d = distance_matrices(reps, [lam])["gulp"][:, :, 0]
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    gap_max, gap_mean = checks.ridge_gaps([checks.ridge_predictions(X, Y, np.array([lam])) for X in reps], pairs)
    ratio = gap_max[:, 0] / np.array([d[i, j] for i, j in pairs])
    assert (ratio <= 1.0 + 1e-9).all() and ratio.max() > 0.05
    assert (gap_mean <= gap_max + 1e-15).all()


def test_nearest_runs_stay_within_their_group():
    D = np.array([[0, 1, 5, 0.5], [1, 0, 2, 9], [5, 2, 0, 9], [0.5, 9, 9, 0]], dtype=float)
    assert checks.nearest_runs(D, np.array(["a", "a", "a", "b"])).tolist() == [1, 0, 1, -1]
