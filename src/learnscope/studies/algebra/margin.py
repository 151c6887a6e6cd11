"""The maximum normalised margin for modular addition: the theory the ``algebra`` study
compares trained networks with.

**Maximum margin for modular addition** (``max_margin_modular_addition``), derived here
in the way of Morwani et al. 2024 (ICLR; §4, modular addition, with their bound through
class-weighted margins). Neuron (u_a + v_b)² w_c on all p² pairs, p odd:

1. Upper bound. The margin of any network is at most its average over the pairs of
   f[a+b] − (1/(p−1)) Σ_{c≠a+b} f[c], which is a sum over neurons of
   Ψ(θ) = E_{a,b}[(u_a + v_b)² (p/(p−1)) (w_{a+b} − mean w)]. The squares u_a², v_b²
   meet the zero-mean part of w only through E_b w_{a+b} = mean w, so
   Ψ = (2/(p(p−1))) Σ_{a,b} u_a v_b w'_{a+b} with w' = w − mean w. In the Fourier basis
   the trilinear form is diagonal; its largest value over ‖u‖ = ‖v‖ = ‖w'‖ = 1 is
   sqrt(p/2), at u = cos(2πka/p + α), v = cos(2πkb/p + β), w = cos(2πkc/p + α + β)
   (normalised), and ‖u‖² + ‖v‖² + ‖w‖² = 1 gives each norm 1/√3 (AM–GM). So
   Ψ(θ) ≤ ‖θ‖³ · (2/(p(p−1))) · sqrt(p/2) / (3√3), and the normalised margin is at most
   γ* = √2 / (3√3 · √p · (p − 1)).
2. Attained. Taking, for each frequency k = 1..(p−1)/2, the 16 neurons above with
   α, β ∈ {0, π/2, π, 3π/2}, every cross term cancels and f(a, b)[c] is proportional to
   Σ_k cos(2πk(a + b − c)/p): the same margin on every pair, every wrong logit equal, and
   every neuron at the bound. ``max_margin_network`` builds it; the tests check that
   its normalised margin equals γ* and that training with the L_{2,3} penalty
   approaches it from below.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from learnscope.features.algebra import margins


def max_margin_modular_addition(p: int) -> float:
    """γ* = √2 / (3√3 · √p · (p − 1)): the largest L_{2,3}-normalised margin of neurons
    (u_a + v_b)² w on all pairs of Z_p, p odd (derivation in the module docstring).

    Raises:
        ValueError: p is even or below 3 (the derivation needs p odd: with p even the
            frequency p/2 is real and the bound is not attained).
    """
    if p < 3 or p % 2 == 0:
        raise ValueError(f"the maximum margin is derived for odd p >= 3, got p = {p}")
    return math.sqrt(2) / (3 * math.sqrt(3) * math.sqrt(p) * (p - 1))


def max_margin_network(p: int) -> tuple[np.ndarray, np.ndarray]:
    """The network of step 2 of the module docstring, attaining ``max_margin_modular_addition``.

    Returns:
        W1 (m, 2p) = [u | v] and W2 (p, m) = w as columns, m = 16 (p − 1)/2, float64,
        each neuron with ‖u_j‖ = ‖v_j‖ = ‖w_j‖.
    """
    max_margin_modular_addition(p)  # validates p
    a = np.arange(p)
    phases = np.arange(4) * np.pi / 2
    rows_u, rows_v, rows_w = [], [], []
    for k in range(1, (p - 1) // 2 + 1):
        theta = 2 * np.pi * k * a / p
        for alpha in phases:
            for beta in phases:
                rows_u.append(np.cos(theta + alpha))
                rows_v.append(np.cos(theta + beta))
                rows_w.append(np.cos(theta + alpha + beta))
    w1 = np.concatenate([np.array(rows_u), np.array(rows_v)], axis=1)
    return w1, np.array(rows_w).T


def normalised_margin(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray, degree: int) -> float:
    """Margin ÷ Σ_j ‖θ_j‖^degree of a bias-free two-layer network with activation z^(degree−1).

    A reference implementation on plain arrays (the features stage uses ``margins`` on
    batched outputs); used by tests and for hand checks.
    """
    out = ((x @ w1.T) ** (degree - 1)) @ w2.T
    norms = np.sqrt(np.square(w1).sum(1) + np.square(w2).sum(0))
    m = float(margins(torch.from_numpy(out)[None], torch.from_numpy(y))[0])
    return m / float((norms**degree).sum())
