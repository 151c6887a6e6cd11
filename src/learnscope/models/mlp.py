"""Fully connected networks: x -> act(W_1 x + b_1) -> ... -> W_L h + b_L."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import nn

from learnscope.config import require
from learnscope.models.base import ModelConfig

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": nn.functional.gelu,
    "quadratic": torch.square,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class MLPConfig(ModelConfig):
    """A multilayer perceptron; its width is a sweep axis of the study, not a field.

    Attributes:
        depth: number of hidden layers (1 = the classic two-layer network).
        activation: one of relu, tanh, gelu, quadratic.
        init_scale: multiplies PyTorch's default initialisation (U(±1/sqrt(fan_in))) of
            every weight and bias; < 1 moves training towards the feature-learning regime.
        bias: whether layers have biases.
    """

    depth: int = 1
    activation: Literal["relu", "tanh", "gelu", "quadratic"] = "relu"
    init_scale: float = 1.0
    bias: bool = True

    def check(self, path: str) -> None:
        require(self.depth >= 1, f"{path}.depth", f"= {self.depth} must be >= 1")
        require(self.init_scale > 0, f"{path}.init_scale", f"= {self.init_scale} must be > 0")

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "MLP":
        sizes = [n_inputs] + [width] * self.depth + [n_outputs]
        return MLP(sizes, self.activation, self.init_scale, self.bias, generator)


class MLP(nn.Module):
    """Layers ``layers[i]`` are nn.Linear; weights are (out, in) as in torch."""

    def __init__(self, sizes: list[int], activation: str, init_scale: float, bias: bool,
                 generator: torch.Generator):
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=bias) for a, b in zip(sizes[:-1], sizes[1:]))
        with torch.no_grad():
            for layer in self.layers:
                bound = init_scale / math.sqrt(layer.in_features)
                for p in layer.parameters():
                    p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)

    @property
    def first_layer(self) -> nn.Linear:
        return self.layers[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d_in) -> (n, d_out)
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)
