"""Neural Feature Ansatz correlations, with every convention named.

The ansatz (Radhakrishnan, Beaglehole, Pandit, Belkin, Science 2024) says that after training
a layer's Neural Feature Matrix WᵀW (in, in) is proportional to a power of the AGOP of the
network output with respect to that layer's input (in, in). The authors' own code varies in
three choices, all computed here and indexed in this order:

- ``WEIGHT_FORMS``: ``W`` = trained weight, ``dW`` = W − W0 (the change since initialisation).
- ``AGOP_POWERS``: ``agop`` = AGOP itself, ``sqrt_agop`` = AGOP^{1/2} (the Science version).
- ``METRICS``: ``pearson`` = Pearson correlation of the flattened matrices, ``cosine`` =
  uncentered cosine similarity of the flattened matrices.

``MAIN_CONVENTION`` is the published one. Weights follow torch ``nn.Linear.weight``: (out, in).
All computations are float64; degenerate inputs give NaN, never an error or a warning.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor

from learnscope.features.agop import ensemble_agop, ensemble_layer_agops, matrix_power_psd
from learnscope.features.measure import Measure

WEIGHT_FORMS = ("W", "dW")
AGOP_POWERS = ("agop", "sqrt_agop")
METRICS = ("pearson", "cosine")
MAIN_CONVENTION = ("W", "sqrt_agop", "pearson")

# Exponent applied to the AGOP for each entry of AGOP_POWERS.
_AGOP_EXPONENTS = {"agop": 1.0, "sqrt_agop": 0.5}


def _flat64(a: Tensor) -> Tensor:
    """Detached, flattened float64 copy."""
    return a.detach().to(torch.float64).reshape(-1)


def _check_same_shape(a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"matrices to compare differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")


def pearson(a: Tensor, b: Tensor) -> float:
    """Pearson correlation of two same-shape matrices, flattened.

    Returns NaN when either matrix is constant (e.g. dW = 0 at step 0) or empty.
    """
    _check_same_shape(a, b)
    a, b = _flat64(a), _flat64(b)
    # An exact check: a constant matrix minus its mean need not be exactly zero in float.
    if a.numel() == 0 or bool((a == a[0]).all()) or bool((b == b[0]).all()):
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    denom = torch.linalg.vector_norm(a) * torch.linalg.vector_norm(b)
    if denom == 0:
        return float("nan")
    return float(a @ b / denom)


def cosine(a: Tensor, b: Tensor) -> float:
    """Uncentered cosine similarity ⟨a, b⟩ / (‖a‖‖b‖) of two same-shape matrices, flattened.

    Returns NaN when either matrix is zero (e.g. dW = 0 at step 0) or empty.
    """
    _check_same_shape(a, b)
    a, b = _flat64(a), _flat64(b)
    denom = torch.linalg.vector_norm(a) * torch.linalg.vector_norm(b)
    if a.numel() == 0 or denom == 0:
        return float("nan")
    return float(a @ b / denom)


METRIC_FNS: dict[str, Callable[[Tensor, Tensor], float]] = {"pearson": pearson, "cosine": cosine}


def neural_feature_matrix(w: Tensor) -> Tensor:
    """Neural Feature Matrix wᵀw of a weight w (out, in) -> (in, in), float64."""
    if w.ndim != 2:
        raise ValueError(f"expected a weight (out, in), got shape {tuple(w.shape)}")
    w64 = w.detach().to(torch.float64)
    return w64.T @ w64  # (in, in)


def _agop_forms(agop: Tensor, n_in: int) -> list[Tensor]:
    """The AGOP (in, in) raised to each power of AGOP_POWERS, float64, in that order."""
    if agop.shape != (n_in, n_in):
        raise ValueError(f"AGOP must be (in, in) = ({n_in}, {n_in}) to match the weight, "
                         f"got {tuple(agop.shape)}")
    agop64 = agop.detach().to(torch.float64)
    return [matrix_power_psd(agop64, _AGOP_EXPONENTS[name]) for name in AGOP_POWERS]


def _correlation_table(nfm: Tensor, agop_forms: list[Tensor]) -> Tensor:
    """corr(nfm, G) for each G in agop_forms and each metric: (len(agop_forms), len(METRICS))."""
    table = torch.empty(len(agop_forms), len(METRICS), dtype=torch.float64)
    for i, g in enumerate(agop_forms):
        for k, metric in enumerate(METRICS):
            table[i, k] = METRIC_FNS[metric](nfm, g)
    return table


def matrix_correlations(nfm: Tensor, agop: Tensor) -> Tensor:
    """corr(nfm, G(agop)) for each power of AGOP_POWERS and each metric of METRICS:
    (len(AGOP_POWERS), len(METRICS)) float64, for a Neural Feature Matrix (in, in) and an
    AGOP-like PSD matrix (in, in), e.g. a Recursive Feature Machine's M."""
    return _correlation_table(nfm.detach().to(torch.float64), _agop_forms(agop, nfm.shape[0]))


def nfa_correlations(w: Tensor, w0: Tensor, agop: Tensor) -> Tensor:
    """Correlations between a layer's Neural Feature Matrix and its input AGOP, every convention.

    Entry [i, j, k] is METRICS[k](F_i, G_j) with F = wᵀw for ``W`` or (w − w0)ᵀ(w − w0) for
    ``dW``, and G = agop for ``agop`` or agop^{1/2} for ``sqrt_agop``.

    Args:
        w: Trained weight (out, in).
        w0: The same layer's weight at initialisation (out, in).
        agop: AGOP of the network output with respect to this layer's input (in, in).

    Returns:
        (len(WEIGHT_FORMS), len(AGOP_POWERS), len(METRICS)) float64 tensor; the ``dW`` row is
        NaN when w == w0.
    """
    if w.shape != w0.shape:
        raise ValueError(f"w {tuple(w.shape)} and w0 {tuple(w0.shape)} differ in shape")
    w64, w064 = w.detach().to(torch.float64), w0.detach().to(torch.float64)
    nfms = {"W": neural_feature_matrix(w64), "dW": neural_feature_matrix(w64 - w064)}
    agop_forms = _agop_forms(agop, w.shape[1])
    return torch.stack([_correlation_table(nfms[form], agop_forms) for form in WEIGHT_FORMS])


def nfa_init_baseline(w0: Tensor, agop: Tensor) -> Tensor:
    """Correlations of the initial Neural Feature Matrix w0ᵀw0 with the AGOP: the no-training baseline.

    Measures how much of the ansatz's match needs no training (both matrices are often near
    diagonal). Use it with the TRAINED network's AGOP as the baseline; at step 0 the ansatz
    holds almost trivially because a random network's AGOP is shaped by w0, so the step-0
    correlation is not a baseline.

    Args:
        w0: Weight at initialisation (out, in).
        agop: AGOP of the trained network with respect to this layer's input (in, in).

    Returns:
        (len(AGOP_POWERS), len(METRICS)) float64 tensor, same layout as ``nfa_correlations``.
    """
    return _correlation_table(neural_feature_matrix(w0), _agop_forms(agop, w0.shape[1]))


def first_layer_measures(w1s: list[Tensor], agops: Tensor) -> dict:
    """NFA quantities of one run's first layer at each snapshot; ``w1s[0]`` is W_0."""
    w0 = w1s[0].double()
    rows: dict[str, list] = {"nfm": [], "dnfm": [], "nfa_corr": [], "nfa_corr_init": []}
    for w, g in zip(w1s, agops):
        w = w.double()
        rows["nfm"].append(neural_feature_matrix(w))
        rows["dnfm"].append(neural_feature_matrix(w - w0))
        rows["nfa_corr"].append(nfa_correlations(w, w0, g))
        rows["nfa_corr_init"].append(nfa_init_baseline(w0, g))
    return {k: torch.stack(v).numpy() for k, v in rows.items()}


class AgopMeasure(Measure):
    """Measure ``agop``: the input AGOP (over the first ``features.agop_samples`` training
    inputs), the first layer's W1ᵀW1 and (W1−W0)ᵀ(W1−W0), and the NFA correlations in every
    convention with the init baseline corr(W0ᵀW0, AGOP_t): d x d per snapshot."""

    name = "agop"
    schema = {"agop": ("step", "in_a", "in_b"), "nfm": ("step", "in_a", "in_b"),
              "nfa_corr": ("step", "weight_form", "agop_power", "metric"),
              "nfa_corr_init": ("step", "agop_power", "metric")}

    def batched(self, model, spec, tensors, outputs, cfg):
        return {"agop": ensemble_agop(model, tensors["x_train"][:cfg.agop_samples]).double().cpu()}

    def per_run(self, spec, states, rows):
        first = next(k for k, v in states[0].items() if v.ndim == 2)
        agops = torch.from_numpy(rows["agop"])
        return {"agop": agops.numpy()} | first_layer_measures([s[first] for s in states], agops)

    def variables(self, spec, m):
        units = {"units": "1"}
        variables = {
            "agop": (("step", "in_a", "in_b"), m["agop"],
                     {"long_name": "input AGOP (1/n) sum_i J_i^T J_i of the network"}),
            "nfm": (("step", "in_a", "in_b"), m["nfm"], {"long_name": "first-layer W1^T W1"}),
            "dnfm": (("step", "in_a", "in_b"), m["dnfm"], {"long_name": "first-layer (W1 - W1_0)^T (W1 - W1_0)"}),
            "nfa_corr": (("step", "weight_form", "agop_power", "metric"), m["nfa_corr"],
                         {"long_name": "Neural Feature Ansatz correlation corr(F(W_t), G(AGOP_t))", **units}),
            "nfa_corr_init": (("step", "agop_power", "metric"), m["nfa_corr_init"],
                              {"long_name": "init baseline corr(W0^T W0, G(AGOP_t))", **units}),
        }
        coords = {"weight_form": ("weight_form", np.array(WEIGHT_FORMS, dtype=object)),
                  "agop_power": ("agop_power", np.array(AGOP_POWERS, dtype=object)),
                  "metric": ("metric", np.array(METRICS, dtype=object))}
        return variables, coords, {"main_convention": ",".join(MAIN_CONVENTION)}


AGOP_MEASURE = AgopMeasure()


def layer_measures(states: list[dict[str, Tensor]], agops: list[Tensor]) -> dict:
    """NFA correlations of every hidden weight matrix of one MLP run at each snapshot.

    Args:
        states: the run's state dicts per snapshot (``layers.{l}.weight``), ``states[0]`` at init.
        agops: per layer l, (steps, in_l, in_l) the AGOP w.r.t. that layer's input per snapshot.

    Returns:
        ``layer_nfa_corr`` (step, hidden_layer, weight_form, agop_power, metric) and
        ``layer_nfa_corr_init`` (step, hidden_layer, agop_power, metric): corr(F(W_l,t), G(AGOP_l,t))
        and the init baseline corr(W_l,0ᵀW_l,0, G(AGOP_l,t)).
    """
    corr = np.empty((len(states), len(agops), len(WEIGHT_FORMS), len(AGOP_POWERS), len(METRICS)))
    init = np.empty((len(states), len(agops), len(AGOP_POWERS), len(METRICS)))
    for layer, layer_agops in enumerate(agops):
        w0 = states[0][f"layers.{layer}.weight"].double()
        for t, (state, g) in enumerate(zip(states, layer_agops)):
            corr[t, layer] = nfa_correlations(state[f"layers.{layer}.weight"], w0, g).numpy()
            init[t, layer] = nfa_init_baseline(w0, g).numpy()
    return {"layer_nfa_corr": corr, "layer_nfa_corr_init": init}


class LayerNfaMeasure(Measure):
    """Measure ``layer_nfa``: the Neural Feature Ansatz at every hidden weight matrix W_l of an
    MLP (not the readout, whose AGOP is its WᵀW exactly): W_lᵀW_l against the AGOP of the
    output with respect to that layer's input h_{l−1} (h_0 = x; over the first
    ``features.agop_samples`` training inputs), every convention, with the init baseline
    corr(W_l,0ᵀW_l,0, AGOP_l,t) per layer; correlations only (a hidden layer's AGOP is
    width x width per snapshot, too big to keep)."""

    name = "layer_nfa"
    schema = {"layer_nfa_corr": ("step", "hidden_layer", "weight_form", "agop_power", "metric"),
              "layer_nfa_corr_init": ("step", "hidden_layer", "agop_power", "metric")}

    def applies(self, spec) -> bool:
        from learnscope.models.mlp import MLPConfig

        return type(spec.model) is MLPConfig

    def batched(self, model, spec, tensors, outputs, cfg):
        agops = ensemble_layer_agops(model, tensors["x_train"][:cfg.agop_samples])
        return {f"layer_agop_{layer}": a.double().cpu() for layer, a in enumerate(agops)}

    def per_run(self, spec, states, rows):
        agops = [torch.from_numpy(rows[f"layer_agop_{layer}"]) for layer in range(spec.model.depth)]
        return layer_measures(states, agops)

    def variables(self, spec, m):
        variables = {
            "layer_nfa_corr": (("step", "hidden_layer", "weight_form", "agop_power", "metric"), m["layer_nfa_corr"],
                               {"long_name": "NFA correlation of hidden layer l: corr(F(W_l,t), G(AGOP_l,t)), "
                                "AGOP w.r.t. the layer's input", "units": "1"}),
            "layer_nfa_corr_init": (("step", "hidden_layer", "agop_power", "metric"), m["layer_nfa_corr_init"],
                                    {"long_name": "init baseline of hidden layer l: corr(W_l,0^T W_l,0, G(AGOP_l,t))",
                                     "units": "1"}),
        }
        coords = {"hidden_layer": ("hidden_layer", np.arange(m["layer_nfa_corr"].shape[1]),
                            {"long_name": "hidden weight matrix, 0-based (0: the first layer, on the input)"}),
                  "weight_form": ("weight_form", np.array(WEIGHT_FORMS, dtype=object)),
                  "agop_power": ("agop_power", np.array(AGOP_POWERS, dtype=object)),
                  "metric": ("metric", np.array(METRICS, dtype=object))}
        return variables, coords, {"main_convention": ",".join(MAIN_CONVENTION)}


LAYER_NFA_MEASURE = LayerNfaMeasure()
