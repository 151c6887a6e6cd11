"""The similarity study's checks of GULP's known properties on its own representations, each
computed by a route independent of ``learnscope.similarity``'s SVD formulas.

- ``identity_errors``: at λ = 0, d² = k_A + k_B − 2 Σᵢ ρᵢ² with the canonical correlations ρ
  taken from column-pivoted QR bases (not the SVD), each rank k read off the QR.
- ``triangle_violations``: d_ij > d_ik + d_kj over all ordered triples of one input space.
- ``ridge_predictions`` / ``ridge_gaps``: ridge-λ predictors fitted in feature space on two
  representations (a solve per λ, ``lstsq`` at λ = 0) for random linear targets of the probe
  inputs; the paper's control of predictions: for a target with mean square 1 over the
  samples, the root-mean-square gap between the two predictors is ‖(H_A − H_B) y‖/√n ≤
  ‖H_A − H_B‖_op ≤ ‖H_A − H_B‖_F = d_λ.
- ``nearest_runs``: each run's nearest other run on its space, by a distance matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from learnscope.similarity import preprocess


def qr_basis(X: np.ndarray) -> np.ndarray:
    """(n, k) orthonormal basis of the preprocessed X's column space from a column-pivoted
    QR; k counts |R_ii| above max(n, d)·eps·|R_00| (the SVD's rank tolerance)."""
    X = preprocess(X)
    Q, R, _ = scipy.linalg.qr(X, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    return Q[:, diag > max(X.shape) * np.finfo(np.float64).eps * diag[0]]


def identity_errors(reps: list[np.ndarray], gulp0: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """|d²_0 − (k_A + k_B − 2 Σ ρ²)| / (k_A + k_B) for each (i, j) of ``pairs``; ``gulp0`` (R, R)
    holds the GULP distances at λ = 0 of ``reps``."""
    bases = [qr_basis(X) for X in reps]
    out = np.zeros(len(pairs))
    for p, (i, j) in enumerate(pairs):
        k_a, k_b = bases[i].shape[1], bases[j].shape[1]
        rho_sq = np.linalg.svd(bases[i].T @ bases[j], compute_uv=False) ** 2
        identity = k_a + k_b - 2 * rho_sq.sum()
        out[p] = abs(gulp0[i, j] ** 2 - identity) / (k_a + k_b)
    return out


def triangle_violations(D: np.ndarray, rtol: float = 1e-9) -> int:
    """Ordered triples (i, j, k) of distinct indices with D[i, j] > D[i, k] + D[k, j] (beyond
    ``rtol`` of the largest distance); D (R, R) symmetric."""
    R = D.shape[0]
    through = D[:, :, None] + D[None, :, :]  # (i, k, j): D[i, k] + D[k, j]
    excess = D[:, None, :] - through  # (i, k, j)
    distinct = (np.arange(R)[:, None, None] != np.arange(R)[None, :, None]) & \
               (np.arange(R)[None, :, None] != np.arange(R)[None, None, :]) & \
               (np.arange(R)[:, None, None] != np.arange(R)[None, None, :])
    return int((distinct & (excess > rtol * max(D.max(), 1e-300))).sum())


def linear_targets(probe: np.ndarray, n_targets: int, generator: np.random.Generator) -> np.ndarray:
    """(n, T) random linear functions x ↦ wᵀx of the probe inputs (w ~ N(0, I)), each centred
    and scaled to mean square 1 over the n samples."""
    Y = probe.astype(np.float64) @ generator.standard_normal((probe.shape[1], n_targets))
    Y -= Y.mean(axis=0)
    return Y / np.sqrt((Y ** 2).mean(axis=0))


def ridge_predictions(X: np.ndarray, Y: np.ndarray, lams: np.ndarray) -> np.ndarray:
    """(L, n, T) in-sample predictions of ridge-λ regressions of Y (n, T) on the preprocessed X:
    argmin_β (1/n)‖y − Aβ‖² + λ‖β‖², fitted in feature space (minimum-norm least squares at λ = 0)."""
    A = preprocess(X)
    n, k = A.shape
    gram, cross = A.T @ A / n, A.T @ Y / n
    out = np.empty((len(lams), n, Y.shape[1]))
    for l, lam in enumerate(lams):
        beta = np.linalg.lstsq(A, Y, rcond=None)[0] if lam == 0 else np.linalg.solve(gram + lam * np.eye(k), cross)
        out[l] = A @ beta
    return out


def ridge_gaps(predictions: list[np.ndarray], pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Root-mean-square gap over the samples between the predictors of each pair: its largest
    and its mean over the targets, each (P, L)."""
    gaps = np.stack([np.sqrt(((predictions[i] - predictions[j]) ** 2).mean(axis=1)) for i, j in pairs])  # (P, L, T)
    return gaps.max(axis=2), gaps.mean(axis=2)


def nearest_runs(D: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each run's nearest other run among those of its own group (input space) by D (R, R);
    -1 for a run alone in its group."""
    masked = np.where(groups[:, None] == groups[None, :], D, np.inf)
    np.fill_diagonal(masked, np.inf)
    nearest = masked.argmin(axis=1)
    return np.where(np.isfinite(masked.min(axis=1)), nearest, -1)
