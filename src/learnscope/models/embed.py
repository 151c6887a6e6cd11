"""The embedding MLP of grokking studies: (a, b) -> W_2 act(W_1 [E_a; E_b] + b_1) + b_2.

Inputs are pairs of tokens in {0, ..., n-1} written as two one-hot halves, x = [onehot(a),
onehot(b)] of 2n columns (e.g. modular addition a + b mod p with n = p). A table ``embed``
(n, k) shared by both tokens maps each to a k-vector; one hidden layer of ``width`` units
reads their concatenation.

Worked example, n = 3, k = 2: x = [0, 1, 0, 0, 0, 1] is the pair (a, b) = (1, 2), whose
hidden pre-activations are W_1 [embed[1]; embed[2]] + b_1.

The one-hot product is never formed: with the tables T_a = embed W_1[:, :k]ᵀ and T_b =
embed W_1[:, k:]ᵀ, both (n, width), the pre-activations are T_a[a] + T_b[b] + b_1, a gather
of B rows instead of a (B, 2n) x (2n, width) product. Tokens are read as the argmax of each
half, so inputs must be exact one-hot halves, and no gradient flows to x.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import torch
from torch import nn

from learnscope.errors import require
from learnscope.models.base import Ensemble, ModelConfig
from learnscope.models.mlp import ACTIVATIONS


@dataclasses.dataclass(frozen=True, kw_only=True)
class EmbedMLPConfig(ModelConfig):
    """An embedding MLP on pairs of tokens; its width is a sweep axis of the study, not a field.

    Attributes:
        embed_dim: k, the size of each token's embedding (the hidden layer reads 2k numbers).
        activation: one of relu, gelu, tanh, quadratic.
        init_scale: multiplies PyTorch's default initialisation of every parameter: N(0, 1)
            for ``embed`` (as nn.Embedding), U(±1/sqrt(fan_in)) for weights and biases.
    """

    embed_dim: int = 64
    activation: Literal["relu", "gelu", "tanh", "quadratic"] = "relu"
    init_scale: float = 1.0

    def check(self, path: str) -> None:
        require(self.embed_dim >= 1, f"{path}.embed_dim", f"= {self.embed_dim} must be >= 1")
        require(self.init_scale > 0, f"{path}.init_scale", f"= {self.init_scale} must be > 0")

    @property
    def neuron_degree(self) -> None:
        """No per-neuron homogeneous norm penalty applies: the embedding is shared by all units."""
        return None

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "EmbedMLP":
        if n_inputs % 2:
            raise ValueError(f"embed_mlp needs two one-hot halves, but n_inputs = {n_inputs} is odd")
        return EmbedMLP(n_inputs // 2, self.embed_dim, width, n_outputs, self.activation, self.init_scale,
                        generator)

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "EnsembleEmbedMLP":
        return EnsembleEmbedMLP([self.build(n_inputs, n_outputs, width, g) for g in generators])

    def group_functions(self, state: dict[str, torch.Tensor]) -> dict[str, tuple[str, np.ndarray]]:
        """The functions on the n tokens (group elements) that algebra studies Fourier-analyse.

        Each row is a function on the group elements (tokens): row i of ``embed`` is embedding
        coordinate i as a function of the token, row j of ``unembed`` is hidden unit j's
        readout weight to each output token.

        Args:
            state: one network's state dict (single-network names, e.g. from ``split_state``).

        Returns:
            name -> (name of the units dimension, float64 array (units, n)): ``embed``
            ("embed_dim", (k, n)) and ``unembed`` ("hidden", (width, n_outputs)).
        """
        return {"embed": ("embed_dim", state["embed"].detach().cpu().double().numpy().T),
                "unembed": ("hidden", state["out.weight"].detach().cpu().double().numpy().T)}


def _uniform_(p: torch.Tensor, bound: float, generator: torch.Generator) -> None:
    p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)


def tokens(x: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The token pair (a, b) of one-hot halves x (..., 2n): two index tensors of shape (...)."""
    return x[..., :n].argmax(-1), x[..., n:].argmax(-1)


class EmbedMLP(nn.Module):
    """One embedding MLP: ``embed`` (n, k), ``hidden`` Linear(2k, width), ``out`` Linear(width, n_outputs).

    Parameters are drawn from ``generator`` in the order embed, hidden.weight, hidden.bias,
    out.weight, out.bias.
    """

    def __init__(self, n: int, embed_dim: int, width: int, n_outputs: int, activation: str,
                 init_scale: float, generator: torch.Generator):
        super().__init__()
        self.n, self.embed_dim = n, embed_dim
        self.activation = ACTIVATIONS[activation]
        self.embed = nn.Parameter(torch.empty(n, embed_dim))
        self.hidden = nn.Linear(2 * embed_dim, width)
        self.out = nn.Linear(width, n_outputs)
        with torch.no_grad():
            self.embed.copy_(torch.randn(n, embed_dim, generator=generator) * init_scale)
            for layer in (self.hidden, self.out):
                for p in (layer.weight, layer.bias):
                    _uniform_(p, init_scale / math.sqrt(layer.in_features), generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 2n) one-hot halves -> (B, n_outputs)
        a, b = tokens(x, self.n)
        k, w1 = self.embed_dim, self.hidden.weight
        # Rows [0, n) are T_a + b_1, rows [n, 2n) are T_b: (2n, width).
        table = torch.cat([torch.addmm(self.hidden.bias, self.embed, w1[:, :k].T), self.embed @ w1[:, k:].T])
        pre = nn.functional.embedding(a, table) + nn.functional.embedding(b + self.n, table)
        return self.out(self.activation(pre))


class EnsembleEmbedMLP(Ensemble):
    """E embedding MLPs of one shape as stacked parameters, member axis first: ``embed`` (E, n, k),
    ``hidden_weight`` (E, width, 2k), ``hidden_bias`` (E, width), ``out_weight`` (E, n_outputs,
    width), ``out_bias`` (E, n_outputs).

    The E tables of pre-activations are one (E·2n, width) matrix, so one ``embedding`` gathers
    every member's rows (its backward is deterministic, also on CUDA); products are ``bmm``.
    Members never mix: member e's outputs and gradients depend on its own parameters and inputs only.
    """

    def __init__(self, members: list[EmbedMLP]):
        super().__init__()
        self.n_members = len(members)
        self.n, self.embed_dim = members[0].n, members[0].embed_dim
        self.activation = members[0].activation

        def stack(get) -> nn.Parameter:
            return nn.Parameter(torch.stack([get(m).detach() for m in members]))

        self.embed = stack(lambda m: m.embed)
        self.hidden_weight = stack(lambda m: m.hidden.weight)
        self.hidden_bias = stack(lambda m: m.hidden.bias)
        self.out_weight = stack(lambda m: m.out.weight)
        self.out_bias = stack(lambda m: m.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (E, B, n_outputs) of inputs (E, B, 2n) (member e reads x[e]) or (B, 2n) (shared)."""
        params = [self.embed, self.hidden_weight, self.hidden_bias, self.out_weight, self.out_bias]
        if self.n_members == 1:
            # torch routes a batch of one matrix product to mm, whose summation order differs
            # from the batched kernel's; a discarded duplicate member keeps a run's numbers
            # bit-identical whether it trains alone or in a group (its gradient adds exact zeros).
            params = [torch.cat([p, p]) for p in params]
            x = x if x.dim() == 2 else torch.cat([x, x])
        return self._forward(x, *params)[: self.n_members]

    def _forward(self, x, embed, w1, b1, w2, b2) -> torch.Tensor:
        n, k, n_members = self.n, self.embed_dim, embed.shape[0]
        a, b = tokens(x, n)  # (B,) or (E, B)
        # Member e's rows [2en, 2en + n) are its T_a + b_1, rows [2en + n, 2(e+1)n) its T_b.
        table = torch.cat([torch.baddbmm(b1.unsqueeze(1), embed, w1[:, :, :k].mT),
                           torch.bmm(embed, w1[:, :, k:].mT)], dim=1).flatten(0, 1)  # (E·2n, width)
        offset = torch.arange(n_members, device=x.device).unsqueeze(1) * (2 * n)  # (E, 1)
        pre = nn.functional.embedding(a + offset, table) + nn.functional.embedding(b + n + offset, table)
        h = self.activation(pre)  # (E, B, width)
        return torch.baddbmm(b2.unsqueeze(1), h, w2.mT)  # (E, B, n_outputs)

    def member_names(self) -> dict[str, str]:
        return {"embed": "embed", "hidden_weight": "hidden.weight", "hidden_bias": "hidden.bias",
                "out_weight": "out.weight", "out_bias": "out.bias"}
