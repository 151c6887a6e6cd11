"""Fully connected networks: x -> act(W_1 x + b_1) -> ... -> W_L h + b_L."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import torch
from torch import nn

from learnscope.errors import require
from learnscope.models.base import Ensemble, ModelConfig

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": nn.functional.gelu,
    "quadratic": torch.square,
    "cubic": lambda z: z * z * z,
}
# Degree of each positively homogeneous activation: act(c z) = c^k act(z) for c > 0.
ACTIVATION_DEGREE = {"relu": 1, "quadratic": 2, "cubic": 3}


@dataclasses.dataclass(frozen=True, kw_only=True)
class MLPConfig(ModelConfig):
    """A multilayer perceptron; its width is a sweep axis of the study, not a field.

    Attributes:
        depth: number of hidden layers (1 = the classic two-layer network).
        activation: one of relu, tanh, gelu, quadratic, cubic.
        init_scale: multiplies PyTorch's default initialisation (U(±1/sqrt(fan_in))) of
            every weight and bias; < 1 moves training towards the feature-learning regime.
        bias: whether layers have biases.
        parametrization: ``standard``, or ``mean_field`` (depth 1 only): f(x) = (1/m) Σ_j
            a_j act(w_j·x + b_j) with a_j ~ U(±init_scale), and ``train.lr`` multiplied by
            the width m, so that each neuron moves at an O(1) rate whatever m (the
            mean-field SGD of Mei, Montanari, Nguyen 2018; Abbe et al. 2023, Sec. 2).
    """

    depth: int = 1
    activation: Literal["relu", "tanh", "gelu", "quadratic", "cubic"] = "relu"
    init_scale: float = 1.0
    bias: bool = True
    parametrization: Literal["standard", "mean_field"] = "standard"

    def check(self, path: str) -> None:
        require(self.depth >= 1, f"{path}.depth", f"= {self.depth} must be >= 1")
        require(self.init_scale > 0, f"{path}.init_scale", f"= {self.init_scale} must be > 0")
        require(self.parametrization == "standard" or self.depth == 1, f"{path}.parametrization",
                "= 'mean_field' needs depth 1 (a two-layer network)")

    @property
    def mean_field(self) -> bool:
        return self.parametrization == "mean_field"

    def lr_scale(self, width: int) -> float:
        return float(width) if self.mean_field else 1.0

    @property
    def neuron_degree(self) -> int | None:
        """ν such that a hidden neuron's output term a_j act(w_j·x) is ν-homogeneous in its
        parameters θ_j = (w_j, a_j): the activation's degree + 1 (3 for quadratic). None
        where no norm penalty λ Σ_j ‖θ_j‖^ν applies (depth > 1, biases, or a
        non-homogeneous activation)."""
        if self.depth != 1 or self.bias or self.activation not in ACTIVATION_DEGREE:
            return None
        return ACTIVATION_DEGREE[self.activation] + 1

    def group_functions(self, state: dict[str, torch.Tensor]) -> dict[str, tuple[str, np.ndarray]]:
        """Hidden neuron j of a two-layer network on one-hot pairs (a, b), x = [e_a, e_b]:
        (u_j[a] + v_j[b]) feeds the activation and w_j[c] is its weight on output c.

        Args:
            state: one network's state dict (``layers.0.weight`` (m, 2n), ``layers.1.weight``
                (n_outputs, m)).

        Returns:
            ``{"u": ("neuron", (m, n)), "v": ("neuron", (m, n)), "w": ("neuron", (m, n_outputs))}``,
            float64: each row is a function on the group elements.

        Raises:
            ValueError: the network has more than one hidden layer or an odd input size.
        """
        w1, w2 = state["layers.0.weight"].double().numpy(), state[f"layers.{self.depth}.weight"].double().numpy()
        if self.depth != 1 or w1.shape[1] % 2:
            raise ValueError(f"group_functions needs a two-layer network on one-hot pairs, got depth "
                             f"{self.depth} and {w1.shape[1]} inputs")
        n = w1.shape[1] // 2
        return {"u": ("neuron", w1[:, :n]), "v": ("neuron", w1[:, n:]), "w": ("neuron", w2.T.copy())}

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "MLP":
        sizes = [n_inputs] + [width] * self.depth + [n_outputs]
        return MLP(sizes, self.activation, self.init_scale, self.bias, generator, self.mean_field)

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "EnsembleMLP":
        return EnsembleMLP([self.build(n_inputs, n_outputs, width, g) for g in generators])


class MLP(nn.Module):
    """Layers ``layers[i]`` are nn.Linear; weights are (out, in) as in torch."""

    def __init__(self, sizes: list[int], activation: str, init_scale: float, bias: bool,
                 generator: torch.Generator, mean_field: bool = False):
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=bias) for a, b in zip(sizes[:-1], sizes[1:]))
        # Mean field: the readout averages the m hidden units (output_scale = 1/m) and its
        # weights are O(1), not O(1/sqrt(m)).
        self.output_scale = 1.0 / sizes[-2] if mean_field else 1.0
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                last = i == len(self.layers) - 1
                bound = init_scale if (mean_field and last) else init_scale / math.sqrt(layer.in_features)
                for p in layer.parameters():
                    p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)

    @property
    def first_layer(self) -> nn.Linear:
        return self.layers[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d_in) -> (n, d_out)
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x) * self.output_scale


class EnsembleMLP(Ensemble):
    """E MLPs of one shape as stacked parameters: ``weights[i]`` (E, out, in), ``biases[i]`` (E, out).

    One ``baddbmm`` per layer replaces E small matmuls (and E x the Python and kernel-launch
    overhead). Members never mix: member e's outputs and gradients depend on its own
    parameters and inputs only.
    """

    def __init__(self, members: list[MLP]):
        super().__init__()
        self.n_members = len(members)
        self.activation = members[0].activation
        self.output_scale = members[0].output_scale
        self.has_bias = members[0].layers[0].bias is not None
        n_layers = len(members[0].layers)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[i].weight.detach() for m in members])) for i in range(n_layers))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[i].bias.detach() for m in members]))
            for i in range(n_layers)) if self.has_bias else None

    def forward(self, x: torch.Tensor, layer_inputs: list | None = None) -> torch.Tensor:
        """(E, B, d_in) or (B, d_in) -> (E, B, d_out). A list passed as ``layer_inputs``
        receives the input of every linear layer as the tensor the layer reads, (E', in, B)
        with E' ≥ E members (keep the first E), still in the graph: gradients of the output
        with respect to them are the per-sample gradients with respect to each layer's input."""
        weights = list(self.weights)
        biases = list(self.biases) if self.has_bias else [None] * len(weights)
        if self.n_members == 1:
            # torch routes a batch of one matrix product to mm, whose summation order differs
            # from the batched kernel's; a discarded duplicate member keeps a run's numbers
            # bit-identical whether it trains alone or in a group (its gradient adds exact zeros).
            weights = [torch.cat([w, w]) for w in weights]
            biases = [b if b is None else torch.cat([b, b]) for b in biases]
            x = x if x.dim() == 2 else torch.cat([x, x])
        return self._forward(x, weights, biases, layer_inputs)[: self.n_members] * self.output_scale

    def _forward(self, x: torch.Tensor, weights: list, biases: list, layer_inputs: list | None = None) -> torch.Tensor:
        # Activations are kept as (E, features, B): the weight gradient W.grad = δ @ h is then
        # produced contiguous, not as a transposed view that autograd must copy (3x per step
        # at d = 256, m = 512, B = 8).
        h = x.transpose(-1, -2)
        if h.dim() == 2:
            h = h.expand(weights[0].shape[0], *h.shape)
        for i, (w, b) in enumerate(zip(weights, biases)):
            if layer_inputs is not None:
                layer_inputs.append(h)
            h = torch.baddbmm(b.unsqueeze(2), w, h) if b is not None else torch.bmm(w, h)
            if i < len(weights) - 1:
                h = self.activation(h)
        return h.transpose(1, 2)

    def neuron_sq_norms(self) -> torch.Tensor:
        """(E, m) ‖θ_j‖² = Σ_i W1[j, i]² + Σ_c W2[c, j]² (+ b1[j]² with biases) of a
        two-layer ensemble: the norms of the per-neuron penalty (``TrainConfig.neuron_penalty``)."""
        if len(self.weights) != 2:
            raise ValueError("per-neuron norms need a two-layer network (depth 1)")
        sq = self.weights[0].square().sum(-1) + self.weights[1].square().sum(-2)
        return sq + self.biases[0].square() if self.has_bias else sq

    def member_names(self) -> dict[str, str]:
        names = {}
        for i in range(len(self.weights)):
            names[f"weights.{i}"] = f"layers.{i}.weight"
            if self.has_bias:
                names[f"biases.{i}"] = f"layers.{i}.bias"
        return names
