"""Recursive Feature Machines (Radhakrishnan, Beaglehole, Pandit & Belkin, Science 2024).

An RFM is kernel ridge regression with the Laplace kernel of a learned Mahalanobis metric,

    K_M(x, z) = exp(−‖x − z‖_M / L),   ‖v‖_M = √(vᵀ M v),

alternated with the feature update M ← AGOP of the kernel predictor f(x) = Σ_i α_i K_M(x, x_i)
over the training inputs (the average gradient outer product, the same update the Neural
Feature Ansatz says a network's first layer follows), divided by its largest entry by default
(``normalise``; ``shared/STUDIES.md`` §1), so the bandwidth L keeps its meaning from one
iteration to the next. M starts at the identity.

The gradient is in closed form: ∇f(x) = −(1/L)·M·Σ_i α_i K_M(x, x_i)(x − x_i)/‖x − x_i‖_M, so
the AGOP of n points is a few (n × n) @ (n × d) products per output, in row blocks: no
per-sample autograd. A point at distance 0 from a training input (a training input itself)
takes the zero subgradient of that term, where the kernel is not differentiable.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

BLOCK = 2048  # rows of the (rows, n) kernel blocks of the AGOP and of predictions


def mahalanobis_distances(x: np.ndarray, z: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(n_x, n_z) ‖x_a − z_b‖_M, clipped at 0 against round-off."""
    xm, zm = x @ m, z @ m
    squared = (xm * x).sum(axis=1)[:, None] + (zm * z).sum(axis=1)[None, :] - 2.0 * xm @ z.T
    return np.sqrt(np.maximum(squared, 0.0))


def laplace_kernel(x: np.ndarray, z: np.ndarray, m: np.ndarray, bandwidth: float) -> np.ndarray:
    """(n_x, n_z) exp(−‖x − z‖_M / L)."""
    return np.exp(-mahalanobis_distances(x, z, m) / bandwidth)


class RFM:
    """Recursive Feature Machine, scikit-learn style (``fit`` returns self, ``predict``).

    Args:
        bandwidth: L of the Laplace kernel.
        ridge: the ridge λ of kernel ridge regression, (K + λI) α = y.
        iterations: feature updates; the final predictor is fitted once more after the last.
        normalise: divide each new M by its largest entry (the AGOP is PSD: its largest
            diagonal entry); False keeps the AGOP's own scale.

    Attributes (after ``fit``):
        M_: (d, d) the learned metric (symmetric positive semi-definite).
        alpha_: (n, c) the kernel ridge coefficients with M_.
        history_: per fitted predictor (iterations + 1 of them, the first with M = I): its
            metric ``M`` and, when test data was given, its ``test_predictions`` (n_test, c)
            and ``test_mse``.
    """

    def __init__(self, bandwidth: float = 10.0, ridge: float = 1e-3, iterations: int = 5, normalise: bool = True):
        self.bandwidth, self.ridge, self.iterations, self.normalise = bandwidth, ridge, iterations, normalise

    def _solve(self, x: np.ndarray, y: np.ndarray, m: np.ndarray) -> np.ndarray:
        gram = laplace_kernel(x, x, m, self.bandwidth)
        gram[np.diag_indices_from(gram)] += self.ridge
        return scipy.linalg.solve(gram, y, assume_a="pos")

    def fit(self, x: np.ndarray, y: np.ndarray, x_test: np.ndarray | None = None, y_test: np.ndarray | None = None):
        """Fit to x (n, d) and targets y (n,) or (n, c); test data, if given, is scored at every
        iteration (mean squared error over samples and outputs). Returns self."""
        x = np.asarray(x, dtype=np.float64)
        y2 = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        self.x_train_ = x
        m = np.eye(x.shape[1])
        self.history_ = []
        for iteration in range(self.iterations + 1):
            self.M_, self.alpha_ = m, self._solve(x, y2, m)
            entry = {"M": m.copy()}
            if x_test is not None:
                entry["test_predictions"] = self._predict2(np.asarray(x_test, dtype=np.float64))
                residual = entry["test_predictions"] - np.asarray(y_test, dtype=np.float64).reshape(len(x_test), -1)
                entry["test_mse"] = float((residual ** 2).mean())
            self.history_.append(entry)
            if iteration < self.iterations:
                m = self.agop(x)
                if self.normalise:
                    top = float(np.abs(m).max())
                    if not top > 0:
                        raise ValueError(f"RFM iteration {iteration + 1}: the predictor's AGOP is zero (a constant "
                                         "predictor); nothing to normalise")
                    m = m / top
        self._scalar = np.ndim(y) == 1
        return self

    def gradients(self, x: np.ndarray) -> np.ndarray:
        """(n, c, d) ∇f_c at the points x (n, d), in closed form (module docstring)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.empty((len(x), self.alpha_.shape[1], x.shape[1]))
        for start in range(0, len(x), BLOCK):
            block = x[start:start + BLOCK]
            dist = mahalanobis_distances(block, self.x_train_, self.M_)  # (b, n)
            safe = dist > 1e-12 * max(float(dist.max(initial=0.0)), 1e-300)
            weight = np.where(safe, np.exp(-dist / self.bandwidth) / np.where(safe, dist, 1.0), 0.0)  # (b, n)
            for c in range(self.alpha_.shape[1]):
                w = weight * self.alpha_[:, c]  # (b, n)
                direction = block * w.sum(axis=1, keepdims=True) - w @ self.x_train_  # Σ_i w_i (x − x_i)
                out[start:start + BLOCK, c] = -(direction @ self.M_) / self.bandwidth
        return out

    def agop(self, x: np.ndarray) -> np.ndarray:
        """(d, d) the AGOP (1/n) Σ_j Σ_c ∇f_c(x_j) ∇f_c(x_j)ᵀ of the current predictor over x."""
        grads = self.gradients(x).reshape(-1, np.asarray(x).shape[1])
        agop = grads.T @ grads / len(x)
        return (agop + agop.T) / 2.0

    def _predict2(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([laplace_kernel(x[s:s + BLOCK], self.x_train_, self.M_, self.bandwidth) @ self.alpha_
                               for s in range(0, len(x), BLOCK)]) if len(x) else np.zeros((0, self.alpha_.shape[1]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for x (n, d): (n,) if fitted to a vector of targets, else (n, c)."""
        out = self._predict2(np.asarray(x, dtype=np.float64))
        return out[:, 0] if self._scalar else out
