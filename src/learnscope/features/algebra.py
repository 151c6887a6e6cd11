"""Measurements of networks trained on group composition tables: per-neuron irrep
(Fourier) energies and margins.

**Irrep energies.** A part of a network that is a function on the n group elements
(``ModelConfig.group_functions``: rows u_j, v_j, w_j of a two-layer network, or the
columns of an embedding) splits into the Peter–Weyl components, one per real irrep
(``learnscope.groups.energy_per_irrep``). For the cyclic group C_p the irreps are the
frequencies: ``rot{k}`` holds the energy |û(k)|² + |û(−k)|² of the discrete Fourier
transform, so "fraction of energy in the best irrep" is the best-frequency fraction
of Nanda et al. 2023 and Morwani et al. 2024.

**Margins.** For a multiclass network f and a labelled set, the margin is
min_i (f(x_i)[y_i] − max_{c≠y_i} f(x_i)[c]). A two-layer network whose neurons are
ν-homogeneous in their own parameters θ_j (``MLPConfig.neuron_degree``) is normalised
by Σ_j ‖θ_j‖^ν, the L_{2,ν} norm of Morwani et al. 2024; the normalised margin is
invariant under rescaling neurons.

The maximum margin for modular addition, which the ``algebra`` study compares with, is
derived in ``learnscope.studies.algebra.margin``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from learnscope.features.measure import Measure
from learnscope.groups import FiniteGroup, energy_per_irrep


def irrep_energies(functions: np.ndarray, g: FiniteGroup) -> np.ndarray:
    """Squared norm of each row of ``functions`` in each irrep's Peter–Weyl component.

    Args:
        functions: (..., n) functions on the n elements of ``g``.
        g: the group.

    Returns:
        (..., len(g.irreps)) float64; the entries of a row sum to its squared norm.
    """
    f = np.asarray(functions, dtype=np.float64)
    return energy_per_irrep(f, g) * np.square(f).sum(-1, keepdims=True)


def margins(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """min_i (f_i[y_i] − max_{c≠y_i} f_i[c]) of M networks on the same examples.

    Args:
        outputs: (M, n, C) logits.
        labels: (n,) int64 classes.

    Returns:
        (M,) float64; negative where some example is misclassified.
    """
    out = outputs.double()
    rows = torch.arange(out.shape[1], device=out.device)
    correct = out[:, rows, labels]
    others = out.clone()
    others[:, rows, labels] = -math.inf
    return (correct - others.max(-1).values).min(-1).values


class GroupMeasure(Measure):
    """Measure ``group`` (runs of group-composition tasks only): the training margin,
    normalised by Σ_j ‖θ_j‖^ν where the model's neurons are homogeneous, and every part of
    the network that is a function on the group split into irrep energies per unit."""

    name = "group"
    schema = {"margin": ("step",)}

    def applies(self, spec) -> bool:
        return hasattr(spec.task, "finite_group")

    def batched(self, model, spec, tensors, outputs, cfg):
        out = {"margin": margins(outputs["train"], tensors["y_train"]).cpu()}
        degree = spec.model.neuron_degree
        if degree is not None:
            with torch.no_grad():
                out["norm"] = model.neuron_sq_norms().double().pow(degree / 2).sum(-1).cpu()
        return out

    def per_run(self, spec, states, rows):
        g = spec.task.finite_group
        m = {"margin": rows["margin"]}
        if "norm" in rows:
            m["normalised_margin"] = rows["margin"] / rows["norm"]
        per_state = [spec.model.group_functions(state) for state in states]
        for part, (dim, _) in per_state[0].items():
            m[f"irrep_energy_{part}"] = np.stack([irrep_energies(f[part][1], g) for f in per_state])
            m[f"_dim_{part}"] = dim
        return m

    def variables(self, spec, m):
        g = spec.task.finite_group
        variables = {"margin": ("step", m["margin"], {"long_name": "training margin min_i (f_i[y_i] - max_c!=y_i f_i[c])"})}
        if "normalised_margin" in m:
            variables["normalised_margin"] = ("step", m["normalised_margin"], {
                "long_name": "training margin / sum_j |theta_j|^nu (L_2,nu-normalised)", "units": "1"})
        coords = {"irrep": ("irrep", np.array([r.name for r in g.irreps], dtype=object),
                            {"long_name": f"real irreducible representation of {g.name}"})}
        for key in [k for k in m if k.startswith("irrep_energy_")]:
            part = key.removeprefix("irrep_energy_")
            variables[key] = (("step", m[f"_dim_{part}"], "irrep"), m[key], {
                "long_name": f"squared norm of each unit's {part} (a function on {g.name}) per irrep component"})
        return variables, coords, {"group": g.name}


GROUP_MEASURE = GroupMeasure()
