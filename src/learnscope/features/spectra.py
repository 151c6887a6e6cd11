"""Spectral summaries of weight matrices: singular values, stable rank, mass per input coordinate.

Used to see low-rank learning (stable rank of W_t − W_0, Abbe et al. COLT 2023; of
ΔW_K W_Qᵀ, Boix-Adsera et al. NeurIPS 2023) and which input coordinates a first layer picks
up. All results are float64; torch ``nn.Linear.weight`` is (out, in).
"""

from __future__ import annotations

import torch
from torch import Tensor


def _as_matrix64(m: Tensor) -> Tensor:
    """Detached float64 copy of a 2-D tensor; raises on any other rank."""
    if m.ndim != 2:
        raise ValueError(f"expected a matrix (a, b), got shape {tuple(m.shape)}")
    return m.detach().to(torch.float64)


def singular_values(m: Tensor) -> Tensor:
    """Singular values of a matrix (a, b) -> (min(a, b),), descending, float64."""
    return torch.linalg.svdvals(_as_matrix64(m))


def batched_singular_values(m: Tensor) -> Tensor:
    """Singular values of a stack of matrices (..., a, b) -> (..., min(a, b)), float64."""
    return torch.linalg.svdvals(m.detach().to(torch.float64))


def stable_ranks_from_singular_values(sigma: Tensor) -> Tensor:
    """Σ σ_i² / σ_1² along the last axis (..., k) -> (...); 0 where every σ is 0."""
    top = sigma[..., 0] ** 2
    return torch.where(top > 0, (sigma**2).sum(-1) / torch.where(top > 0, top, 1.0), 0.0)


def stable_rank(m: Tensor) -> float:
    """Stable rank ‖m‖_F² / ‖m‖_2² = Σ σ_i² / σ_1² of a matrix (a, b).

    Lies in [1, rank(m)] for a nonzero matrix; returns 0.0 for the zero matrix (e.g.
    W_t − W_0 at step 0) instead of 0/0.
    """
    sigma = singular_values(m)  # (min(a, b),)
    if sigma.numel() == 0:
        return 0.0
    return float(stable_ranks_from_singular_values(sigma))


def coordinate_mass(w: Tensor) -> Tensor:
    """Weight mass per input coordinate of a first-layer weight, Σ_j w[j, i]².

    Args:
        w: First-layer weight (out, in), as in ``nn.Linear.weight``.

    Returns:
        (in,) float64; equals the diagonal of the Neural Feature Matrix wᵀw.
    """
    return (_as_matrix64(w) ** 2).sum(0)  # (in,)
