"""Average gradient outer product (AGOP) of a function of its input, and PSD matrix powers.

The AGOP of a predictor f: R^d -> R^c over inputs x_1..x_n is

    AGOP = (1/n) Σ_i J_iᵀ J_i,    J_i = ∂f(x_i)/∂x_i ∈ R^{c×d},

a (d, d) PSD matrix (summed over the c outputs). The Neural Feature Ansatz (Radhakrishnan
et al., Science 2024) says a trained layer's Gram matrix is proportional to (a power of) the
AGOP with respect to that layer's input. Shapes: torch ``nn.Linear.weight`` is (out, in), so
for the first layer W1 the Neural Feature Matrix W1ᵀW1 is (d_in, d_in) and is what gets
compared with the input AGOP (d_in, d_in).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def _chunk_jacobian(fn: Callable[[Tensor], Tensor], x_chunk: Tensor) -> Tensor:
    """Per-sample Jacobians of fn on one chunk (m, d) -> (c, m, d).

    Rows of fn are independent, so the Jacobian of the batch-summed output Σ_i fn(x)_i (c,)
    with respect to the chunk (m, d) holds J_i in its slice [:, i, :]; one vectorised
    reverse pass per output replaces a per-sample loop.
    """

    def summed_output(xc: Tensor) -> Tensor:
        out = fn(xc)
        return out.reshape(out.shape[0], -1).sum(0)  # (c,)

    # torch.func transforms never write .grad of fn's parameters and ignore an outer no_grad.
    return torch.func.jacrev(summed_output)(x_chunk)  # (c, m, d)


def agop(fn: Callable[[Tensor], Tensor], x: Tensor, chunk_size: int = 2048) -> Tensor:
    """Average gradient outer product of ``fn`` over inputs ``x``.

    Computes (1/n) Σ_i J_iᵀ J_i with J_i = ∂fn(x_i)/∂x_i ∈ (c, d), summed over the c outputs.

    Args:
        fn: Maps a batch (m, d) to outputs (m, c), any c ≥ 1 (an (m,) output counts as c = 1),
            with rows computed independently (no batch norm, no batch statistics). May be an
            ``nn.Module``; its parameters' ``.grad`` is left untouched.
        x: Inputs (n, d).
        chunk_size: Rows per vectorised Jacobian; bounds memory at about c·chunk_size·d values.

    Returns:
        The AGOP, (d, d), same dtype and device as ``x``, detached from any graph.
    """
    if x.ndim != 2:
        raise ValueError(f"agop expects inputs of shape (n, d), got {tuple(x.shape)}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    n, d = x.shape
    total = torch.zeros(d, d, dtype=x.dtype, device=x.device)  # (d, d)
    for start in range(0, n, chunk_size):
        x_chunk = x[start:start + chunk_size].detach()  # (m, d)
        jac = _chunk_jacobian(fn, x_chunk)  # (c, m, d)
        # Detached per chunk: no graph through fn's parameters outlives its chunk.
        total += torch.einsum("cmd,cme->de", jac, jac).detach()
    return total / n


def ensemble_agop(model: torch.nn.Module, x: Tensor, row_chunk: int = 2048) -> Tensor:
    """AGOP of every member of an ensemble at once: (M, d, d) for a model mapping
    (M, m, d) -> (M, m, c) with members and rows independent.

    Each member gets its own copy of the inputs, so one backward pass per output yields
    every member's per-sample gradients (M, m, d): no loop over members, samples or
    snapshots. Rows are summed in chunks of ``row_chunk`` whatever M is, so a member's
    result does not depend on which other members share the ensemble (bit for bit); bound
    memory by passing fewer members (see ``features.extract``), not by changing the chunk.

    Args:
        model: An ensemble (e.g. ``EnsembleMLP``) whose forward takes (M, m, d).
        x: Shared inputs (n, d).
        row_chunk: Rows per backward pass.
    """
    n, d = x.shape
    n_members = int(model.n_members)
    total = torch.zeros(n_members, d, d, dtype=x.dtype, device=x.device)
    for start in range(0, n, row_chunk):
        xr = x[start:start + row_chunk].detach().expand(n_members, -1, -1).clone().requires_grad_(True)
        out = model(xr)  # (M, m, c)
        for k in range(out.shape[-1]):
            (grad,) = torch.autograd.grad(out[..., k].sum(), xr, retain_graph=k + 1 < out.shape[-1])
            total += torch.einsum("kmd,kme->kde", grad, grad)  # (M, d, d)
    return total / n


def ensemble_layer_agops(model: torch.nn.Module, x: Tensor, row_chunk: int = 2048) -> list[Tensor]:
    """Every member's AGOP with respect to the input of each of its linear layers but the
    readout: for an ensemble of MLPs (``EnsembleMLP``) with layers W_1..W_{L+1}, entry l is
    (M, in_l, in_l) = (1/n) Σ_i J_{l,i}ᵀ J_{l,i} with J_{l,i} = ∂f(x_i)/∂h_{l−1}(x_i), h_0 = x
    (entry 0 is the input AGOP of ``ensemble_agop``), summed over the outputs.

    One backward pass per output gives the per-sample gradients with respect to every layer's
    input at once (``EnsembleMLP.forward``'s ``layer_inputs``), for every member: no loop over
    members, samples or layers. Rows are summed in chunks of ``row_chunk`` (as ``ensemble_agop``).
    The readout's own AGOP is its WᵀW exactly (f is linear in its input), so it is left out.
    """
    n = x.shape[0]
    n_members = int(model.n_members)
    totals: list[Tensor] = []
    for start in range(0, n, row_chunk):
        xr = x[start:start + row_chunk].detach().expand(n_members, -1, -1).clone().requires_grad_(True)
        inputs: list[Tensor] = []
        out = model(xr, layer_inputs=inputs)  # (M, m, c); inputs[l]: (M' ≥ M, in_l, m)
        hidden = inputs[:-1]
        if not totals:
            totals = [torch.zeros(n_members, h.shape[1], h.shape[1], dtype=x.dtype, device=x.device) for h in hidden]
        for k in range(out.shape[-1]):
            grads = torch.autograd.grad(out[..., k].sum(), hidden, retain_graph=k + 1 < out.shape[-1])
            for total, grad in zip(totals, grads):
                grad = grad[:n_members]  # (M, in_l, m)
                total += torch.einsum("kdm,kem->kde", grad, grad)
    return [total / n for total in totals]


def matrix_power_psd(m: Tensor, power: float) -> Tensor:
    """Symmetric PSD matrix to a real power, M^p = V diag(max(λ, 0)^p) Vᵀ.

    The matrix is symmetrised and decomposed with ``eigh`` in float64; negative eigenvalues
    (round-off of a PSD matrix) are clamped to 0, so a negative ``power`` of a singular
    matrix gives inf.

    Args:
        m: Symmetric positive semi-definite matrix (d, d).
        power: Real exponent, e.g. 0.5 for the AGOP^{1/2} of the Science 2024 ansatz.

    Returns:
        M^power, (d, d), same dtype and device as ``m``.
    """
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix_power_psd expects a square matrix, got {tuple(m.shape)}")
    m64 = m.detach().to(torch.float64)
    evals, evecs = torch.linalg.eigh((m64 + m64.T) / 2)  # (d,), (d, d)
    scaled = evals.clamp(min=0.0) ** power  # (d,)
    return ((evecs * scaled) @ evecs.T).to(m.dtype)
