"""Benchmark of the Recursive Feature Machine's feature update (part of ``make bench``, see
``learnscope.bench``).

``rfm_agop_vs_autograd``: the AGOP of the kernel predictor over its n training inputs by
``RFM.agop`` (closed-form gradients, (block × n) @ (n × d) products) vs one autograd
gradient per input (torch, float64: the kernel row, the prediction, its backward). The loop
is timed on ``n_loop`` inputs and scaled linearly to n.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import torch

from learnscope.rfm import RFM


@dataclasses.dataclass(frozen=True, kw_only=True)
class RfmBenchSizes:
    """The paper's demo: n inputs of d coordinates, x ~ N(0, 0.5²), f = x0·x1·1[x5 > 0]."""

    n: int = 4000
    d: int = 20
    n_loop: int = 100


def fitted(s: RfmBenchSizes) -> RFM:
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 0.5, (s.n, s.d))
    return RFM(bandwidth=10.0, ridge=1e-3, iterations=1).fit(x, x[:, 0] * x[:, 1] * (x[:, 5] > 0))


def autograd_agop(rfm: RFM, points: np.ndarray) -> np.ndarray:
    """The baseline: Σ_j ∇f(x_j)∇f(x_j)ᵀ / n with one autograd call per point."""
    m, train, alpha = (torch.from_numpy(a) for a in (rfm.M_, rfm.x_train_, rfm.alpha_))
    total = torch.zeros(m.shape, dtype=torch.float64)
    for point in torch.from_numpy(points):
        x = point.clone().requires_grad_(True)
        diff = x[None, :] - train
        dist = torch.sqrt(torch.clamp(((diff @ m) * diff).sum(dim=1), min=1e-300))
        grad, = torch.autograd.grad((torch.exp(-dist / rfm.bandwidth) @ alpha).sum(), x)
        total += torch.outer(grad, grad)
    return (total / len(points)).numpy()


def bench_rfm(best_times: Callable, repeats: int, s: RfmBenchSizes = RfmBenchSizes()) -> tuple[dict, dict]:
    """``rfm_agop_vs_autograd`` and its times (``best_times`` from ``learnscope.bench``)."""
    rfm = fitted(s)
    t = best_times({"autograd": lambda: autograd_agop(rfm, rfm.x_train_[: s.n_loop]),
                    "closed_form": lambda: rfm.agop(rfm.x_train_)}, repeats)
    loop_total = t["autograd"] * s.n / s.n_loop
    note = (f"rfm, AGOP over {s.n} inputs of d = {s.d}: autograd {t['autograd'] / s.n_loop * 1e3:.2f} ms per input "
            f"(x {s.n} = {loop_total:.2f} s), closed form {t['closed_form']:.3f} s")
    return ({"rfm_agop_vs_autograd": loop_total / t["closed_form"]},
            {"times_s": {"rfm_autograd_loop": t["autograd"], "rfm_closed_form": t["closed_form"]},
             "notes": {"rfm": note}})
