"""Benchmark of the representation distances (part of ``make bench``, see ``learnscope.bench``).

``similarity_vs_pairwise``: ``similarity.distance_matrices`` (one SVD per representation and
one U_Aᵀ U_B per pair, shared by every λ and every measure) vs a loop over pairs calling the
per-pair functions ``gulp(A, B, lam)`` for each λ, then ``cka``, ``cca`` and ``procrustes``
(each call preprocesses and decomposes both representations again).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from learnscope import similarity


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimilarityBenchSizes:
    """R representations of n samples x k features, compared at L values of λ."""

    n_reps: int = 8
    n_samples: int = 500
    n_features: int = 64
    n_lams: int = 6


def representations(s: SimilarityBenchSizes) -> list[np.ndarray]:
    """Seeded random representations (n, k) with a shared low-rank part."""
    rng = np.random.default_rng(0)
    shared = rng.standard_normal((s.n_samples, 8))
    return [shared @ rng.standard_normal((8, s.n_features)) + rng.standard_normal((s.n_samples, s.n_features))
            for _ in range(s.n_reps)]


def pairwise_loop(reps: list[np.ndarray], lams: np.ndarray) -> dict[str, np.ndarray]:
    """The baseline: every measure of every pair from the per-pair functions."""
    R = len(reps)
    out = {"gulp": np.zeros((R, R, len(lams)))} | {m: np.zeros((R, R)) for m in similarity.MEASURES[1:]}
    for i in range(R):
        for j in range(i + 1, R):
            for li, lam in enumerate(lams):
                out["gulp"][i, j, li] = out["gulp"][j, i, li] = similarity.gulp(reps[i], reps[j], lam)
            for name in similarity.MEASURES[1:]:
                out[name][i, j] = out[name][j, i] = getattr(similarity, name)(reps[i], reps[j])
    return out


def bench_similarity(best_times: Callable, repeats: int,
                     s: SimilarityBenchSizes = SimilarityBenchSizes()) -> tuple[dict, dict]:
    """``similarity_vs_pairwise`` and its times (``best_times`` from ``learnscope.bench``)."""
    reps, lams = representations(s), np.geomspace(1e-3, 10.0, s.n_lams)
    t = best_times({"pairwise": lambda: pairwise_loop(reps, lams),
                    "batched": lambda: similarity.distance_matrices(reps, lams)}, repeats)
    note = (f"similarity, {s.n_reps} representations of {s.n_samples} x {s.n_features}, {s.n_lams} lambdas, "
            f"4 measures: pairwise loop {t['pairwise']:.3f} s, batched {t['batched']:.3f} s")
    return ({"similarity_vs_pairwise": t["pairwise"] / t["batched"]},
            {"times_s": {f"similarity_{k}": v for k, v in t.items()}, "notes": {"similarity": note}})
