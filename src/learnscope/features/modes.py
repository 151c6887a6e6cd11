"""The modes of a task's input–output correlation, and read-outs of curves of mode strength
(for the neural race reduction, ``learnscope.features.race``; Saxe, Sodhani & Lewallen, ICML 2022).

Σx = (1/P) Σ_p x_p x_pᵀ, Σyx = (1/P) Σ_p y_p x_pᵀ = U S̃ Vᵀ; the reduction needs Σx v_α = d_α v_α
(white inputs, say). A linear map U diag(a) Vᵀ has loss Σ_α d_α (a_α − s̃_α/d_α)² + residual,
residual = (1/P) Σ_p ‖y_p‖² − Σ_α s̃_α²/d_α ≥ 0 (what no linear map explains), so as the modes
are learned in order of their singular values the loss falls through ``plateau_levels``; a
mode's transition is the epoch its strength reaches half of s̃/d (``half_time``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_GROUP_RTOL = 1e-6  # singular values this close (relative) are learned as one group


@dataclass(frozen=True, eq=False)
class Modes:
    """Modes of a task's input–output correlation Σyx = U diag(s) Vᵀ.

    Attributes:
        s: (r,) singular values s̃ of Σyx, descending, zeros dropped.
        d: (r,) input variances d_α = v_αᵀ Σx v_α.
        U: (N, r) output singular vectors.
        V: (d, r) input singular vectors.
        residual: loss of the best linear map, (1/P) Σ_p ‖y_p‖² − Σ_α s̃_α²/d_α.
    """

    s: np.ndarray
    d: np.ndarray
    U: np.ndarray
    V: np.ndarray
    residual: float

    @property
    def asymptote(self) -> np.ndarray:
        """(r,) the learned strengths s̃_α / d_α of the best linear map."""
        return self.s / self.d


def task_modes(inputs: np.ndarray, targets: np.ndarray, tol: float = 1e-9) -> Modes:
    """Modes of the items x_p → y_p, for the reduction.

    Args:
        inputs: (P, d) items x_p.
        targets: (P, N) targets y_p.
        tol: singular values below tol × the largest are dropped.

    Returns:
        The ``Modes`` (r of them).

    Raises:
        ValueError: if Σx is not diagonal in V (the reduction needs white or V-diagonal inputs).
    """
    x = np.asarray(inputs, dtype=np.float64)  # (P, d)
    y = np.asarray(targets, dtype=np.float64)  # (P, N)
    sigma_x, sigma_yx = x.T @ x / len(x), y.T @ x / len(x)  # (d, d), (N, d)
    u, s, vt = np.linalg.svd(sigma_yx, full_matrices=False)
    keep = s > tol * s.max(initial=0.0)
    u, s, v = u[:, keep], s[keep], vt[keep].T  # (N, r), (r,), (d, r)
    d = np.einsum("ar,ab,br->r", v, sigma_x, v)  # (r,)
    off = np.linalg.norm(sigma_x @ v - v * d)
    if off > 1e-8 * np.linalg.norm(sigma_x):
        raise ValueError(f"Σx is not diagonal in the right singular vectors V of Σyx (‖Σx V − V diag(d)‖ = "
                         f"{off:.3g}): the race reduction needs white inputs, or Σx diagonal in V")
    residual = max(float(np.square(y).sum(1).mean() - np.sum(s**2 / d)), 0.0)
    return Modes(s=s, d=d, U=u, V=v, residual=residual)


def _group_starts(s: np.ndarray) -> np.ndarray:
    """Indices where a new group of equal (relative tol 1e-6) descending singular values starts."""
    new = np.abs(np.diff(s)) > _GROUP_RTOL * np.abs(s[:-1])  # (r−1,)
    return np.concatenate([[0], np.flatnonzero(new) + 1]).astype(int) if s.size else np.zeros(0, int)


def mode_groups(modes: Modes) -> list[np.ndarray]:
    """Indices of the modes in each group of equal singular values, in descending order."""
    starts = _group_starts(modes.s)
    return np.split(np.arange(modes.s.size), starts[1:])


def plateau_levels(modes: Modes) -> np.ndarray:
    """(G+1,) loss plateaus of a trained pair as the G distinct singular values are learned.

    Level k = residual + Σ over the modes outside the first k groups of s̃²/d (level 0: zero
    strength; level G: the residual). s̃ = (13.6, 6.4, 3, 3) gives 4 levels, the 3s together.
    """
    starts = _group_starts(modes.s)
    if starts.size == 0:
        return np.array([modes.residual])
    per_group = np.add.reduceat(modes.s**2 / modes.d, starts)  # (G,)
    tail = np.cumsum(per_group[::-1])[::-1]  # (G,): explained by groups k..G−1
    return modes.residual + np.concatenate([tail, [0.0]])


def half_time(epochs: np.ndarray, strength: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Epoch at which each curve first reaches half its target, linearly interpolated.

    Args:
        epochs: (T,) increasing sample times (any spacing).
        strength: (T, ..., r) curves, one per trailing index.
        target: (r,) each mode's target (e.g. ``modes.asymptote``); the curves rise towards it.

    Returns:
        (..., r) float; NaN where a curve never reaches target/2 (or the target is 0).
    """
    t = np.asarray(epochs, dtype=np.float64)  # (T,)
    half = np.asarray(target, dtype=np.float64) / 2  # (r,)
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.asarray(strength, dtype=np.float64) / half  # (T, ..., r): 1 at half-way
        reached = progress >= 1
        first = reached.argmax(axis=0)  # (..., r)
        before = np.maximum(first - 1, 0)
        p1 = np.take_along_axis(progress, first[None], axis=0)[0]
        p0 = np.take_along_axis(progress, before[None], axis=0)[0]
        frac = np.where(first > 0, (1 - p0) / (p1 - p0), 0.0)
        crossing = t[before] + frac * (t[first] - t[before])
    found = reached.any(axis=0) & (half != 0)
    return np.where(found, crossing, np.nan)
