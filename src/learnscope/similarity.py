"""Distances between representations: GULP, linear CKA, mean-squared CCA and Procrustes.

GULP (Boix-Adsera, Lawrence, Stepaniants, Rigollet, NeurIPS 2022) compares two
representations A (n samples × k features) and B (n × l) of the same inputs by how
differently ridge-λ linear predictors built on them behave. With Σ_A = AᵀA/n, Σ_AB = AᵀB/n
(after the preprocessing below), its plug-in estimate is (the paper's Sec. 3)

    d²_λ = tr(Σ_A² (Σ_A+λ)⁻²) + tr(Σ_B² (Σ_B+λ)⁻²) − 2 tr((Σ_A+λ)⁻¹ Σ_AB (Σ_B+λ)⁻¹ Σ_BA),

and ``gulp`` returns d_λ = √d²_λ. In sample space this is ‖H_A − H_B‖_F, H_A = A (Σ_A+λ)⁻¹ Aᵀ/n
the ridge "hat" matrix (the predictions on the samples of the fit to any target y are H_A y),
so d is a metric. With A = U_A S_A V_Aᵀ (thin SVD, U_A (n, r_A)), H_A = U_A diag(f_A) U_Aᵀ with
f_A = σ²/(σ² + λ), σ² = S_A²/n, hence

    d²_λ = Σ f_A² + Σ f_B² − 2 Σ_ij f_A,i f_B,j M_ij,   M = (U_Aᵀ U_B)⊙(U_Aᵀ U_B).

One SVD per representation and one product U_Aᵀ U_B per pair serve every λ, and the other
measures too: linear CKA = Σ_ij s_A,i² s_B,j² M_ij / (‖s_A²‖ ‖s_B²‖) (``cka`` returns 1 − CKA),
mean-squared CCA = 1 − Σ M_ij / min(r_A, r_B) (the ρᵢ² are the eigenvalues of the projections'
product, Σ ρᵢ² = ‖U_Aᵀ U_B‖²_F), and Procrustes = √(2 − 2 ‖S_A U_Aᵀ U_B S_B‖_* / n), the
smallest ‖A − B Q‖_F/√n over Q with orthonormal rows or columns.

Preprocessing (the paper's, applied by every function here): each feature centred over the
samples, then the whole matrix scaled to Frobenius norm √n (so tr Σ = 1). float64 inside.

Conventions: features may outnumber samples (k > n): every quantity lives in sample space,
the rank r ≤ n − 1 after centring; at λ = 0, (Σ+λ)⁻¹ is the pseudo-inverse (H_A is the
projection onto A's column space, d²_0 = r_A + r_B − 2 Σ ρᵢ², the CCA identity). Singular
values below max(n, k) · eps · σ_max count as zero (numpy's ``matrix_rank`` tolerance). A
representation that is constant over the samples is refused (ValueError).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

MEASURES = ("gulp", "cka", "cca", "procrustes")


def preprocess(X: np.ndarray) -> np.ndarray:
    """(n, k) float64: each feature centred over the n samples, then scaled to ‖X‖_F = √n."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"a representation is (samples, features) with >= 2 samples; got shape {X.shape}")
    X = X - X.mean(axis=0)
    norm = np.linalg.norm(X)
    if not np.isfinite(norm) or norm == 0:
        raise ValueError("the representation is constant over the samples (or not finite): no distance to it")
    return X * (np.sqrt(X.shape[0]) / norm)


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """A preprocessed representation's thin SVD kept to its rank: U (n, r), σ² = S²/n (r,)."""

    U: np.ndarray
    var: np.ndarray

    @property
    def n(self) -> int:
        return self.U.shape[0]

    def ridge_weights(self, lams: np.ndarray) -> np.ndarray:
        """(L, r) f = σ²/(σ² + λ) per λ (1 at λ = 0: the pseudo-inverse)."""
        return self.var / (self.var + np.asarray(lams, dtype=np.float64)[:, None])


def spectrum(X: np.ndarray) -> Spectrum:
    """The preprocessed representation's ``Spectrum`` (one SVD)."""
    X = preprocess(X)
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    keep = S > max(X.shape) * np.finfo(np.float64).eps * S[0]
    return Spectrum(U[:, keep], S[keep] ** 2 / X.shape[0])


def _gulp_squared(a: Spectrum, b: Spectrum, lams: np.ndarray, M: np.ndarray) -> np.ndarray:
    """(L,) d²_λ from the spectra and M = (U_Aᵀ U_B)⊙(U_Aᵀ U_B) (module docstring)."""
    fa, fb = a.ridge_weights(lams), b.ridge_weights(lams)  # (L, r_A), (L, r_B)
    return (fa ** 2).sum(1) + (fb ** 2).sum(1) - 2 * np.einsum("li,ij,lj->l", fa, M, fb)


def _check_samples(a: Spectrum, b: Spectrum) -> None:
    if a.n != b.n:
        raise ValueError(f"representations of different samples: {a.n} and {b.n} rows")


def _pair(a: Spectrum, b: Spectrum, lams: np.ndarray) -> dict[str, np.ndarray]:
    """Every measure between two spectra: gulp (L,), cka, cca, procrustes (scalars)."""
    _check_samples(a, b)
    overlap = a.U.T @ b.U  # (r_A, r_B)
    M = overlap * overlap
    d2 = _gulp_squared(a, b, lams, M)
    cka = (a.var @ M @ b.var) / (np.linalg.norm(a.var) * np.linalg.norm(b.var))
    nuclear = np.linalg.svd(np.sqrt(a.var)[:, None] * overlap * np.sqrt(b.var)[None, :], compute_uv=False).sum()
    return {"gulp": np.sqrt(np.maximum(d2, 0.0)), "cka": 1.0 - cka, "cca": 1.0 - M.sum() / min(M.shape),
            "procrustes": np.sqrt(max(2.0 - 2.0 * nuclear, 0.0))}


def gulp(A: np.ndarray, B: np.ndarray, lam: float = 0.0) -> float:
    """The GULP distance d_λ between representations A (n, k) and B (n, l) (module docstring)."""
    if lam < 0:
        raise ValueError(f"lam = {lam} must be >= 0")
    return float(_pair(spectrum(A), spectrum(B), np.array([lam]))["gulp"][0])


def cka(A: np.ndarray, B: np.ndarray) -> float:
    """1 − linear CKA between A (n, k) and B (n, l): 0 for the same representation up to rotation and scale."""
    return float(_pair(spectrum(A), spectrum(B), np.zeros(1))["cka"])


def cca(A: np.ndarray, B: np.ndarray) -> float:
    """Mean-squared CCA distance 1 − Σ ρᵢ² / min(r_A, r_B) between A (n, k) and B (n, l)."""
    return float(_pair(spectrum(A), spectrum(B), np.zeros(1))["cca"])


def procrustes(A: np.ndarray, B: np.ndarray) -> float:
    """Procrustes distance √(2 − 2‖AᵀB‖_*/n) between preprocessed A (n, k) and B (n, l)."""
    return float(_pair(spectrum(A), spectrum(B), np.zeros(1))["procrustes"])


def distance_matrices(representations: Sequence[np.ndarray], lams: Sequence[float]) -> dict[str, np.ndarray]:
    """Every measure between every pair of ``representations`` (each (n, k_i), the same n),
    with one SVD per representation and one U_Aᵀ U_B per pair for all λ.

    Returns:
        ``gulp`` (R, R, L) float64 (L = len(lams)), ``cka``, ``cca``, ``procrustes`` (R, R);
        symmetric with zeros on the diagonal.
    """
    return matrices_of_spectra([spectrum(X) for X in representations], _check_lams(lams))


def _check_lams(lams: Sequence[float]) -> np.ndarray:
    lams = np.asarray(lams, dtype=np.float64)
    if lams.ndim != 1 or (lams < 0).any():
        raise ValueError(f"lams must be a list of values >= 0; got {lams}")
    return lams


def matrices_of_spectra(spectra: Sequence[Spectrum], lams: Sequence[float]) -> dict[str, np.ndarray]:
    """``distance_matrices`` of representations already decomposed (``spectrum``)."""
    lams = _check_lams(lams)
    R = len(spectra)
    out = {"gulp": np.zeros((R, R, len(lams)))} | {m: np.zeros((R, R)) for m in MEASURES[1:]}
    for i in range(R):
        for j in range(i + 1, R):
            for name, value in _pair(spectra[i], spectra[j], lams).items():
                out[name][i, j] = out[name][j, i] = value
    return out


def gulp_to(reference: Spectrum, spectra: Sequence[Spectrum], lams: Sequence[float]) -> np.ndarray:
    """(R, L) GULP d_λ from each of ``spectra`` to ``reference`` (e.g. every checkpoint of a
    run to its final network), without the other measures' per-pair work."""
    lams = _check_lams(lams)
    out = np.zeros((len(spectra), len(lams)))
    for i, other in enumerate(spectra):
        _check_samples(reference, other)
        overlap = reference.U.T @ other.U
        out[i] = np.sqrt(np.maximum(_gulp_squared(reference, other, lams, overlap * overlap), 0.0))
    return out
