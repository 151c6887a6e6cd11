"""The neural race reduction of a gated deep linear network (Saxe, Sodhani & Lewallen, ICML 2022).

**Network and loss.** M_in input pathways W_in[i] (H × d), L ≥ 0 shared layers W_shared[l]
(H × H), M_out output pathways W_out[j] (N × H); pathway pair (j, i) computes
W_ji = W_out[j] W_shared[L−1] ⋯ W_shared[0] W_in[i]. Every pair sees the same P items x_p → y_p;
pair (j, i) is a fraction π_ji of the examples (Σ π = 1; π = 0: held out). The loss, the mean
over examples of the squared error summed over outputs, L = Σ_ji π_ji (1/P) Σ_p ‖W_ji x_p − y_p‖²,
is minimised by full-batch gradient descent W ← W − η ∂L/∂W, one step per epoch.

**Modes** (``learnscope.features.modes.task_modes``). Σx = (1/P) Σ_p x_p x_pᵀ, Σyx = (1/P) Σ_p y_p x_pᵀ = U S̃ Vᵀ, and the
reduction needs Σx v_α = d_α v_α (white inputs, say). A pair whose map is U diag(a_ji) Vᵀ has
loss Σ_α d_α (a_ji,α − s̃_α/d_α)² + residual, residual = (1/P) Σ_p ‖y_p‖² − Σ_α s̃_α²/d_α ≥ 0
(what no linear map explains).

**Reduction** (``integrate_race``). From weights aligned to the modes (W_in[i] = R b_in[i] Vᵀ,
each shared layer diagonal between fixed orthonormal hidden bases, W_out[j] = U b_out[j] R'ᵀ)
gradient descent stays aligned, and each mode α evolves on its own through scalars b_in[i,α],
c[l,α], b_out[j,α]. With C_α = Π_l c[l,α], a_ji,α = b_out[j,α] C_α b_in[i,α] and
e_ji,α = 2 π_ji (s̃_α − d_α a_ji,α) (−∂L/∂W_ji = U diag(e_ji) Vᵀ), per mode:
    Δb_in[i]  = η Σ_j e_ji b_out[j] C,
    Δc[l]     = η Σ_ji e_ji b_out[j] b_in[i] Π_{l'≠l} c[l'],
    Δb_out[j] = η Σ_i e_ji C b_in[i].
Applied once per epoch this map *is* full-batch GD from an aligned init (exact up to rounding);
its continuous-time limit is the ODE db/dt = (same right-hand sides), t in epochs (η enters
only through the step). Gradient flow conserves the balance: c[0]² − Σ_i b_in[i]²,
c[l+1]² − c[l]² and Σ_j b_out[j]² − c[L−1]² (Σ_j b_out[j]² − Σ_i b_in[i]² when L = 0).

**The race.** The shared layers' rate sums over every trained pair, an input layer's over
the pairs it feeds, an output layer's over the pairs it reads: within one network a pair
learns a mode sooner when its pathways take part in more trained pairs. But with π
normalised, every pathway in K pairs and an equal init, K drops out (each layer's summed
weight is 1/M for every K): the aligned shared mode learns at the same pace for any K.
One pair, balanced layers (L = 0, b_in = b_out): da/dt = 4 η a (s̃ − d a), the sigmoid
a(t) = (s̃/d) / (1 + (s̃/(d a0) − 1) e^{−4 η s̃ t}).

**Random init (approximate).** An orthogonal init of gain σ is not aligned;
``random_init_overlaps`` gives the shared mode's overlaps (b_in = b_out = σ/√M, c = σ) and
ignores the time the weights take to align, so its predictions run ahead of simulations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from learnscope.features.modes import Modes

@dataclass(frozen=True, eq=False)
class RaceSolution:
    """Per-epoch trajectory of the reduced variables and the losses they imply.

    Attributes:
        epochs: (T,) int, 0..steps.
        b_in: (T, M_in, r) input-layer strengths.
        c: (T, L, r) shared-layer strengths.
        b_out: (T, M_out, r) output-layer strengths.
        strength: (T, M_out, M_in, r) a_ji,α = b_out[j,α] Π_l c[l,α] b_in[i,α].
        pair_loss: (T, M_out, M_in) loss of each pair's map on the P items.
        loss: (T,) training loss Σ_ji π_ji pair_loss.
        pairs: (M_out, M_in) normalised weights π.
    """

    epochs: np.ndarray
    b_in: np.ndarray
    c: np.ndarray
    b_out: np.ndarray
    strength: np.ndarray
    pair_loss: np.ndarray
    loss: np.ndarray
    pairs: np.ndarray

    def heldout_loss(self) -> np.ndarray:
        """(T,) mean pair_loss over the pairs with π = 0 (NaN if every pair is trained)."""
        held = self.pairs == 0
        return self.pair_loss[:, held].mean(axis=1) if held.any() else np.full(self.epochs.shape, np.nan)


def _velocity(b_in, c, b_out, modes: Modes, pi: np.ndarray, lr: float) -> tuple:
    """η × (−∂L/∂b) for b_in (M_in, r), c (L, r), b_out (M_out, r), π (M_out, M_in)."""
    ones = np.ones((1, c.shape[1]))
    prefix = np.cumprod(np.vstack([ones, c]), axis=0)  # (L+1, r): prefix[l] = Π_{l'<l} c[l']
    suffix = np.cumprod(np.vstack([ones, c[::-1]]), axis=0)  # (L+1, r): suffix[k] = Π of the last k
    others = prefix[:-1] * suffix[:-1][::-1]  # (L, r): Π_{l'≠l} c[l'], no division
    gain = prefix[-1]  # (r,) C
    a = b_out[:, None, :] * (gain * b_in)[None]  # (M_out, M_in, r)
    e = 2.0 * pi[..., None] * (modes.s - modes.d * a)  # (M_out, M_in, r)
    d_in = gain * np.einsum("jir,jr->ir", e, b_out)
    d_c = others * np.einsum("jir,jr,ir->r", e, b_out, b_in)
    d_out = gain * np.einsum("jir,ir->jr", e, b_in)
    return lr * d_in, lr * d_c, lr * d_out


def _split(state: np.ndarray, shapes: list[tuple]) -> list[np.ndarray]:
    """Cut a flat state (or a (..., size) stack of them) into arrays of ``shapes``."""
    sizes = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]
    parts = np.split(state, sizes, axis=-1)
    return [p.reshape(state.shape[:-1] + shape) for p, shape in zip(parts, shapes)]


def _euler(start, shapes, modes, pi, lr, steps, substeps) -> np.ndarray:
    """(steps+1, size) states at every epoch of Euler steps of dt = 1/substeps epoch."""
    out = np.empty((steps + 1, start.size))
    out[0] = start
    b_in, c, b_out = _split(start, shapes)
    for epoch in range(1, steps + 1):
        for _ in range(substeps):
            d_in, d_c, d_out = _velocity(b_in, c, b_out, modes, pi, lr / substeps)
            b_in, c, b_out = b_in + d_in, c + d_c, b_out + d_out
        out[epoch] = np.concatenate([b_in.ravel(), c.ravel(), b_out.ravel()])
    return out


def _rk45(start, shapes, modes, pi, lr, steps, substeps) -> np.ndarray:
    """(steps+1, size) states at every epoch of the gradient-flow ODE (substeps is 1)."""
    if steps == 0:
        return start[None]

    def flow(_, state):
        return np.concatenate([v.ravel() for v in _velocity(*_split(state, shapes), modes, pi, lr)])

    sol = solve_ivp(flow, (0.0, float(steps)), start, method="RK45", t_eval=np.arange(steps + 1.0),
                    rtol=1e-8, atol=1e-10)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y.T


_METHODS = {"euler": _euler, "rk45": _rk45}


def integrate_race(modes: Modes, pairs: np.ndarray, lr: float, steps: int, b_in0, c0, b_out0,
                   n_shared: int, method: str = "euler", substeps: int = 1) -> RaceSolution:
    """Trajectory of every mode's layer strengths under gradient descent or gradient flow.

    Args:
        modes: the task's modes (r of them).
        pairs: (M_out, M_in) weights π_ji ≥ 0 of the pathway pairs, normalised here to sum 1.
        lr: learning rate η.
        steps: number of epochs.
        b_in0: initial input strengths, broadcastable to (M_in, r).
        c0: initial shared strengths, broadcastable to (L, r), L = n_shared.
        b_out0: initial output strengths, broadcastable to (M_out, r).
        n_shared: L, the number of shared layers (0: W_ji = W_out[j] W_in[i]).
        method: "euler" (explicit Euler, dt = 1/substeps epoch; substeps = 1 is exactly
            full-batch GD) or "rk45" (``solve_ivp`` of the gradient flow, rtol 1e-8, atol 1e-10).
        substeps: Euler steps per epoch (must be 1 for "rk45").

    Returns:
        The ``RaceSolution`` at epochs 0..steps.
    """
    pi = np.asarray(pairs, dtype=np.float64)
    if pi.ndim != 2 or (pi < 0).any() or not (pi > 0).any():
        raise ValueError(f"pairs must be a (M_out, M_in) array of weights ≥ 0 with a positive entry, got {pi}")
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; known: {sorted(_METHODS)}")
    if steps < 0 or substeps < 1 or n_shared < 0 or (method == "rk45" and substeps != 1):
        raise ValueError(f"need steps ≥ 0, n_shared ≥ 0, substeps ≥ 1 (1 for rk45, which picks its own "
                         f"steps); got {steps}, {n_shared}, {substeps}")
    pi = pi / pi.sum()
    r = modes.s.size
    shapes = [(pi.shape[1], r), (n_shared, r), (pi.shape[0], r)]
    start = np.concatenate([np.broadcast_to(np.asarray(v, dtype=np.float64), shape).ravel()
                            for v, shape in zip((b_in0, c0, b_out0), shapes)])
    states = _METHODS[method](start, shapes, modes, pi, lr, steps, substeps)  # (T, size)
    b_in, c, b_out = _split(states, shapes)
    strength = b_out[:, :, None, :] * (c.prod(axis=1)[:, None] * b_in)[:, None]  # (T, M_out, M_in, r)
    pair_loss = np.einsum("r,tjir->tji", modes.d, (strength - modes.asymptote) ** 2) + modes.residual
    return RaceSolution(epochs=np.arange(steps + 1), b_in=b_in, c=c, b_out=b_out, strength=strength,
                        pair_loss=pair_loss, loss=np.einsum("ji,tji->t", pi, pair_loss), pairs=pi)


def random_init_overlaps(init_scale: float, pathways: int) -> tuple[float, float, float]:
    """Initial (b_in, c, b_out) of the shared mode for an orthogonal init of gain σ per matrix.

    Each W_in[i] v_α has norm σ but points in an independent random hidden direction; the
    shared mode that wins the race is the pathway average, of norm σ/√M in high dimension
    (E‖mean of M independent random vectors of norm σ‖² = σ²/M), likewise for the outputs,
    and a shared orthogonal matrix keeps norm σ along any direction. So b_in = b_out = σ/√M,
    c = σ: the balance c² = M b_in² that the random init satisfies along the shared mode.
    Alignment itself takes time, which this ignores: its predictions run ahead of random-init
    simulations.

    Args:
        init_scale: the orthogonal init's gain σ.
        pathways: M, the number of input (and output) pathways.

    Returns:
        (b_in, c, b_out) as floats.
    """
    if pathways < 1:
        raise ValueError(f"pathways must be ≥ 1, got {pathways}")
    return float(init_scale / np.sqrt(pathways)), float(init_scale), float(init_scale / np.sqrt(pathways))
