"""Benchmark of the probing distiller (part of ``make bench``, see ``learnscope.bench``).

``probing_vs_per_probe``: scoring P ANDs by ``distill.probing.ProbeFitter.scores`` (their
±1 targets built at once, one Cholesky factor shared by every probe, two float32 products)
vs the naive way: each probe's target built and its ridge least squares solved on its own
(``single_score``: ``lstsq`` on [Z; √(λn)·I]). The loop is timed on
``n_loop`` probes and scaled linearly to P.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from learnscope.distill import ands, probing


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProbingBenchSizes:
    """n_fit + n_val inputs of d bits, a representation of m units, P probes (ANDs of 2 literals)."""

    n_bits: int = 100
    n_units: int = 512
    n_fit: int = 4096
    n_val: int = 4096
    n_probes: int = 2000
    n_loop: int = 20


def problem(s: ProbingBenchSizes):
    """Seeded inputs, a random ReLU representation of them, and P ANDs of two literals."""
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=(s.n_fit + s.n_val, s.n_bits)).astype(np.float32)
    z = np.maximum(x @ rng.standard_normal((s.n_bits, s.n_units)), 0.0)
    fitter = probing.ProbeFitter(z[: s.n_fit], z[s.n_fit:], 1e-3)
    literals = ands.literal_matrix(x)
    pairs = ands.extensions(ands.extensions(np.zeros((1, 0), np.int64), s.n_bits)[:20], s.n_bits)
    return fitter, literals, pairs[: s.n_probes]


def single_score(fitter: probing.ProbeFitter, t_fit: np.ndarray, t_val: np.ndarray) -> float:
    """One probe fitted on its own by least squares on [Z; √(λn)·I] (the naive way); the same
    number as ``fitter.scores`` up to round-off."""
    m = fitter.n_units
    mean = t_fit.mean()
    w = np.linalg.lstsq(np.vstack([fitter.z_fit, np.sqrt(fitter.ridge_n) * np.eye(m)]),
                        np.concatenate([t_fit - mean, np.zeros(m)]), rcond=None)[0]
    var = t_val.var()
    return float(((t_val - mean - fitter.z_val @ w) ** 2).mean() / var) if var > 0 else 1.0


def batched(fitter, literals, codes, n_fit) -> np.ndarray:
    targets = 2.0 * ands.and_values(literals, codes).astype(np.float32) - 1.0
    return fitter.scores(targets[:n_fit], targets[n_fit:])


def per_probe(fitter, literals, codes, n_fit) -> np.ndarray:
    out = []
    for row in codes:
        target = 2.0 * ands.and_values(literals, row[None, :])[:, 0] - 1.0
        out.append(single_score(fitter, target[:n_fit], target[n_fit:]))
    return np.array(out)


def bench_probing(best_times: Callable, repeats: int, s: ProbingBenchSizes = ProbingBenchSizes()) -> tuple[dict, dict]:
    """``probing_vs_per_probe`` and its times (``best_times`` from ``learnscope.bench``)."""
    fitter, literals, codes = problem(s)
    t = best_times({"per_probe": lambda: per_probe(fitter, literals, codes[: s.n_loop], s.n_fit),
                    "batched": lambda: batched(fitter, literals, codes, s.n_fit)}, repeats)
    per_probe_total = t["per_probe"] * len(codes) / s.n_loop
    note = (f"probing, {len(codes)} probes on {s.n_units} units x {s.n_fit} + {s.n_val} inputs: per probe "
            f"{t['per_probe'] / s.n_loop * 1e3:.1f} ms (x {len(codes)} = {per_probe_total:.1f} s), "
            f"batched {t['batched']:.3f} s")
    return ({"probing_vs_per_probe": per_probe_total / t["batched"]},
            {"times_s": {"probing_per_probe_loop": t["per_probe"], "probing_batched": t["batched"]},
             "notes": {"probing": note}})
