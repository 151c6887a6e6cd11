"""The gradual-rank-increase toy: one attention head with diagonal weights, teacher–student.

"Transformers learn through gradual rank increase" (Boix-Adsera, Littwin, Abbe, Bengio,
Susskind, NeurIPS 2023): trained from a small init scale α, attention weights learn in stages,
and at each stage the rank of Δ(W_K W_Qᵀ) and Δ(W_V W_Oᵀ) grows by at most one. The toy here
has W_Q = diag(q), W_K = diag(k), W_V = diag(v), W_O = diag(o), all (d × d). On an input
sequence X (T, d) the head computes

    S = X diag(a) Xᵀ,  a = q ⊙ k          (T, T) attention logits (no 1/√d: folded into a)
    A = softmax_rows(S)                     (T, T)
    Y = A X diag(b),  b = v ⊙ o             (T, d) output at every position

and the loss on N sequences with targets Y* (from a teacher with diagonals a*, b*) is
L = 1/(2NT) Σ_n ‖Y_n − Y*_n‖²_F. Only the products a = diag(W_K W_Qᵀ) and b = diag(W_V W_Oᵀ)
enter, so Δ(W_K W_Qᵀ) = diag(a − α²) and its rank is the number of entries that moved.

Init: every entry of q, k, v, o equals α (deterministic, so an ensemble is over α only). The
pairs stay balanced (q = k, v = o for all t, since q̇ = −k ∂L/∂a and k̇ = −q ∂L/∂a), so
a, b ≥ 0 throughout; teacher entries must be positive. Each product grows like α² e^{2rt}
from its own rate r, so it switches on at t ≈ log(1/α)/r: against t·lr / log(1/α) the
switch-on times converge as α → 0, and the loss approaches a staircase.

Stages: ``find_stages`` runs the leap study's drop detector (``features.plateaus``) on the
linear axis of τ = t·lr / log(1/α); ``entries_per_stage`` says which diagonal entries switched
on in each. With a teacher a* = (1.5, 1, 0.5), b* = (4, 2, 1) (d = 3), N = 32, T = 6, lr = 0.03, α = 1e-4 gives
three stages, the k-th switching on a_k and b_k together (near τ ≈ 1, 2 and 3); at α = 0.5
they merge into one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from learnscope.features.plateaus import Drop, find_drops

_TAU_MAX = 300.0  # find_stages: 10**τ must stay a finite float64


def head_forward(X: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attention weights and output of the diagonal head for an ensemble of E members.

    Args:
        X: (N, T, d) input sequences.
        a: (E, d) attention diagonals a = q ⊙ k.
        b: (E, d) value diagonals b = v ⊙ o.

    Returns:
        A (E, N, T, T) with A[e, n] = softmax_rows(X_n diag(a_e) X_nᵀ), and
        Y (E, N, T, d) with Y[e, n] = A[e, n] X_n diag(b_e).
    """
    S = np.einsum("nsi,ei,nti->enst", X, a, X)  # (E, N, T, T)
    S = S - S.max(axis=-1, keepdims=True)
    A = np.exp(S)
    A /= A.sum(axis=-1, keepdims=True)
    Y = np.einsum("enst,ntj,ej->ensj", A, X, b)
    return A, Y


def loss_and_grad(X: np.ndarray, Y_star: np.ndarray, q: np.ndarray, k: np.ndarray,
                  v: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The MSE loss and its closed-form gradient in (q, k, v, o), per ensemble member.

    With G = (Y − Y*)/(NT) = ∂L/∂Y (L = 1/(2NT) Σ ‖Y − Y*‖²):
        ∂L/∂b_j = Σ_{n,s} G_nsj (A X)_nsj
        ∂L/∂A_nst = Σ_j G_nsj b_j X_ntj                 (G diag(b) Xᵀ)
        ∂L/∂S_nst = A_nst (∂L/∂A_nst − Σ_t' A_nst' ∂L/∂A_nst')   (softmax backward)
        ∂L/∂a_i = Σ_{n,s,t} ∂L/∂S_nst X_nsi X_nti
    and by the chain rule ∂L/∂q = k ⊙ ∂L/∂a, ∂L/∂k = q ⊙ ∂L/∂a, ∂L/∂v = o ⊙ ∂L/∂b,
    ∂L/∂o = v ⊙ ∂L/∂b.

    Args:
        X: (N, T, d) inputs; Y_star: (N, T, d) targets.
        q, k, v, o: (E, d) diagonals of W_Q, W_K, W_V, W_O.

    Returns:
        loss (E,) and the gradients (g_q, g_k, g_v, g_o), each (E, d).
    """
    N, T, _ = X.shape
    a, b = q * k, v * o
    A, Y = head_forward(X, a, b)
    R = Y - Y_star  # (E, N, T, d)
    loss = 0.5 * np.einsum("ensj,ensj->e", R, R) / (N * T)
    G = R / (N * T)
    AX = np.einsum("enst,ntj->ensj", A, X)
    g_b = np.einsum("ensj,ensj->ej", G, AX)
    dA = np.einsum("ensj,ej,ntj->enst", G, b, X)
    dS = A * (dA - np.sum(A * dA, axis=-1, keepdims=True))
    g_a = np.einsum("enst,nsi,nti->ei", dS, X, X)
    return loss, (k * g_a, q * g_a, o * g_b, v * g_b)


@dataclass(frozen=True)
class ToyRun:
    """Logged trajectory of ``train_toy`` for E init scales (all float64).

    Attributes:
        alphas: (E,) init scales α.
        steps: (n_log,) logged gradient steps (0 included).
        time: (E, n_log) rescaled time t·lr / log(1/α).
        loss: (E, n_log) training loss at each logged step.
        qk: (E, n_log, d) attention diagonals a = q ⊙ k = diag(W_K W_Qᵀ).
        vo: (E, n_log, d) value diagonals b = v ⊙ o = diag(W_V W_Oᵀ).
    """

    alphas: np.ndarray
    steps: np.ndarray
    time: np.ndarray
    loss: np.ndarray
    qk: np.ndarray
    vo: np.ndarray


def make_teacher_data(a_star: np.ndarray, b_star: np.ndarray, n_seq: int, seq_len: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs X (n_seq, seq_len, d) with N(0, 1) entries, and the teacher's targets.

    Returns:
        X (n_seq, seq_len, d) and Y* = softmax_rows(X diag(a*) Xᵀ) X diag(b*), same shape.
    """
    X = rng.standard_normal((n_seq, seq_len, len(a_star)))
    _, Y_star = head_forward(X, np.asarray(a_star, np.float64)[None], np.asarray(b_star, np.float64)[None])
    return X, Y_star[0]


def train_toy(X: np.ndarray, Y_star: np.ndarray, alphas: Sequence[float], *, lr: float,
              n_steps: int, log_every: int = 10) -> ToyRun:
    """Full-batch gradient descent from q = k = v = o = α·1, one ensemble member per α.

    Args:
        X: (N, T, d) inputs; Y_star: (N, T, d) teacher targets.
        alphas: init scales, each in (0, 1).
        lr: learning rate.
        n_steps: number of gradient steps.
        log_every: log loss and diagonals every this many steps (and at the end).

    Returns:
        A ``ToyRun``; the loss logged at a step is that of the parameters before the step.
    """
    alphas = np.asarray(alphas, np.float64)
    if np.any((alphas <= 0) | (alphas >= 1)):
        raise ValueError(f"alphas must lie in (0, 1) so that log(1/α) > 0; got {alphas}")
    d = X.shape[-1]
    q, k, v, o = (np.repeat(alphas[:, None], d, axis=1) for _ in range(4))  # (E, d) each
    steps, losses, qks, vos = [], [], [], []
    for step in range(n_steps + 1):
        loss, grads = loss_and_grad(X, Y_star, q, k, v, o)
        if step % log_every == 0 or step == n_steps:
            steps.append(step)
            losses.append(loss)
            qks.append(q * k)
            vos.append(v * o)
        if step < n_steps:
            q, k, v, o = (p - lr * g for p, g in zip((q, k, v, o), grads))
    steps_arr = np.asarray(steps, np.float64)
    time = steps_arr[None, :] * lr / np.log(1.0 / alphas)[:, None]
    return ToyRun(alphas, steps_arr, time, np.stack(losses, 1),
                  np.stack(qks, 1), np.stack(vos, 1))


def find_stages(run: ToyRun, member: int, *, min_drop: float = 0.2, smooth: int = 5,
                window: float = 0.1, floor: float = 1e-12) -> list[Drop]:
    """The drops of one member's loss curve, found on the linear axis of τ = t·lr / log(1/α).

    ``find_drops`` measures time as u = log10(1 + step); passing it the pseudo-steps
    10^τ − 1 makes u = τ, so its ``window`` is in units of τ, where the toy's stages are evenly
    resolved at every α. The curve is cut at τ = 300 (10^τ nears the float64 limit), far past
    the last stage at the α where stages exist. The returned drops are mapped back to
    training steps.

    Args:
        run: a ``ToyRun``; member: index of the α in ``run.alphas``.
        min_drop, smooth, window: as in ``learnscope.features.plateaus.find_drops``
            (``window`` in units of τ).
        floor: losses below ``floor`` × the initial loss are raised to it before detection.

    Returns:
        The drops (stages), in step order, with steps in gradient steps.
    """
    keep = run.time[member] <= _TAU_MAX
    tau, loss, steps = run.time[member][keep], run.loss[member][keep], run.steps[keep]
    to_step = steps[-1] / tau[-1] if tau[-1] > 0 else 0.0  # steps per unit of τ (a constant)
    loss = np.maximum(loss, floor * loss[0])  # round-off at convergence is no stage
    drops = find_drops(np.expm1(tau * np.log(10.0)), loss, min_drop=min_drop, smooth=smooth,
                       window=window)

    def to_steps(pseudo: float) -> float:
        return float(np.log10(1.0 + pseudo) * to_step)

    return [replace(d, step=to_steps(d.step), start_step=to_steps(d.start_step),
                    end_step=to_steps(d.end_step)) for d in drops]


def switch_on_steps(steps: np.ndarray, products: np.ndarray, *, min_change: float = 0.1) -> np.ndarray:
    """The first logged step where each diagonal entry has made half of its final change.

    Entry i switches on at the first step where |p_i(t) − p_i(0)| ≥ ½ |p_i(final) − p_i(0)|;
    entries whose final change is below ``min_change`` × the largest never switch on (NaN).

    Args:
        steps: (n_log,) logged steps; products: (n_log, d) diagonal entries, e.g. ``ToyRun.qk[e]``.
        min_change: the least final change, relative to the largest, that counts.

    Returns:
        (d,) float64 switch-on steps, NaN for entries that never switch on.
    """
    change = np.abs(products - products[0])  # (n_log, d)
    final = change[-1]
    crossed = change >= 0.5 * final
    on = np.where(final >= min_change * final.max(), steps[np.argmax(crossed, axis=0)], np.nan)
    return on.astype(np.float64)


def entries_per_stage(steps: np.ndarray, products: np.ndarray, drops: Sequence[Drop], *,
                      min_change: float = 0.1) -> list[np.ndarray]:
    """Which diagonal entries switched on during each stage of the loss curve.

    Stage k is drop k with half of each neighbouring plateau: it runs from the middle of the
    plateau before (step 0 for k = 0) to the middle of the plateau after (the end of training
    for the last drop), so an entry counts in the drop nearest to its switch-on. The theory says each stage
    switches on one entry of diag(W_K W_Qᵀ) or diag(W_V W_Oᵀ) at most, so the rank of
    Δ(W_K W_Qᵀ) (the number of switched-on entries of q ⊙ k) grows by at most one per stage.

    Args:
        steps: (n_log,) logged steps; products: (n_log, d) diagonal entries (pass the
            concatenation [q ⊙ k, v ⊙ o] of shape (n_log, 2d) to see both).
        drops: the drops of the loss curve, e.g. ``find_drops(steps, loss)``.
        min_change: as in ``switch_on_steps``.

    Returns:
        One int64 array of entry indices per drop, ordered by switch-on step.
    """
    on = switch_on_steps(steps, products, min_change=min_change)
    bounds = np.array([(d.end_step + e.start_step) / 2 for d, e in zip(drops, drops[1:])])
    stage = np.searchsorted(bounds, on, side="left")  # NaN sorts last; masked below
    order = np.argsort(on, kind="stable")
    return [order[(stage[order] == s) & ~np.isnan(on[order])].astype(np.int64) for s in range(len(drops))]


__all__ = ["ToyRun", "entries_per_stage", "find_stages", "head_forward", "loss_and_grad", "make_teacher_data",
           "switch_on_steps", "train_toy"]
