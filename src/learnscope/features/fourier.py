"""Fourier (Walsh) coefficients of a learned function on the hypercube.

For f on {-1, +1}^d and a set S of coordinates, f̂(S) = E_x[f(x) χ_S(x)] with
χ_S(x) = Π_{i∈S} x_i. For a target Σ_S c_S χ_S the network has learned the term S when
f̂(S) approaches c_S. Tracked over training this is the robust view of saddle-to-saddle
learning (Abbe et al. 2023): each term crosses half its value as a separate event, in the
order of the leap (``learnscope.studies.leap.complexity.leap_order``), even when loss drops merge.
The expectation is the average over a fixed sample (the test set), so its error is
O(1/sqrt(n)) per coefficient.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from learnscope.features.measure import Measure


def characters(x: torch.Tensor, sets: Sequence[Sequence[int]]) -> torch.Tensor:
    """χ_S(x) for every S: (n, d) ±1 inputs -> (n, len(sets)), float64."""
    return torch.stack([x[:, list(s)].double().prod(dim=1) for s in sets], dim=1)


def fourier_coefficients(outputs: torch.Tensor, x: torch.Tensor, sets: Sequence[Sequence[int]]) -> torch.Tensor:
    """Empirical f̂(S) = mean_i f(x_i) χ_S(x_i) of M functions at once.

    Args:
        outputs: (M, n) values f_m(x_i) of M networks on the same n inputs.
        x: (n, d) inputs in {-1, +1}.
        sets: the coordinate sets S, 0-based.

    Returns:
        (M, len(sets)) float64.
    """
    return outputs.double() @ characters(x, sets).to(outputs.device) / x.shape[0]


def fourier_sets(spec) -> tuple[tuple[int, ...], ...]:
    """The monomials whose Fourier coefficients are tracked: the target's own."""
    sets = getattr(spec.task, "monomials", None)
    if not sets:
        raise ValueError(f"run {spec.name}: the fourier measurement needs a task with monomials "
                         f"(multi_index), not {type(spec.task).__name__}")
    return tuple(tuple(s) for s in sets)


class FourierMeasure(Measure):
    """Measure ``fourier``: the network's Fourier coefficient E_test[f·χ_S] for each monomial
    S of the target, on the test set."""

    name = "fourier"
    schema = {"fourier": ("step", "monomial")}

    def batched(self, model, spec, tensors, outputs, cfg):
        return {"fourier": fourier_coefficients(outputs["test"][..., 0], tensors["x_test"], fourier_sets(spec)).cpu()}

    def variables(self, spec, m):
        names = np.array(["x" + "x".join(map(str, s)) for s in fourier_sets(spec)], dtype=object)
        return ({"fourier": (("step", "monomial"), m["fourier"],
                             {"long_name": "Fourier coefficient mean_test f(x) chi_S(x) of the network"})},
                {"monomial": ("monomial", names, {"long_name": "the set S of chi_S(x) = prod_(i in S) x_i"})}, {})


FOURIER_MEASURE = FourierMeasure()
