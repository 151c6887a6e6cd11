"""The one-layer transformer of grokking studies (Nanda et al. 2023, "Progress measures for grokking").

Inputs are pairs of tokens in {0, ..., n-1} written as two one-hot halves, x = [onehot(a),
onehot(b)] of 2n columns, as for ``embed_mlp``. The network reads the sequence (a, b, "="),
where "=" is the extra token n (a vocabulary of n + 1 tokens), and its logits over the
``n_outputs`` classes are read at the last position. No LayerNorm (as Nanda et al.):

    r_p  = W_E[tok_p] + W_pos[p]                        residual stream at position p
    r'   = r_2 + Σ_h Σ_p A_h[p] (r_p W_V[h]) W_O[h]     A_h = softmax_p((r_2 W_Q[h]) · (r_p W_K[h]) / sqrt(d_head))
    r''  = r' + W_out act(W_in r' + b_in) + b_out       the MLP, at the last position only
    logits = W_U r''

Worked example, n = 3: x = [0, 1, 0, 0, 0, 1] is the pair (a, b) = (1, 2), the sequence of
tokens (1, 2, 3), and the logits are W_U r'' at the position of "=" (token 3).

Two exact rewritings make the forward cheap (both checked against a full three-position
causal implementation in tests/test_transformer.py):

- Only the last position is read out, and in a one-layer model nothing reads the other
  positions' attention or MLP outputs, so only the last position's query is computed. It
  attends to all three positions, so the causal mask excludes nothing and is omitted.
- Attention reads the embeddings directly, so the residual stream at a position is a function
  of the one token there: keys, values and attention scores are tables over the 2n + 1
  (position, token) pairs that occur, gathered per example as ``embed_mlp`` gathers its T_a.
  Tokens are read as the argmax of each half, so inputs must be exact one-hot halves, and no
  gradient flows to x.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch import nn

from learnscope.errors import require
from learnscope.models.base import Ensemble, ModelConfig
from learnscope.models.embed import tokens
from learnscope.models.mlp import ACTIVATIONS

# Parameter names in the order they are drawn from the generator (biases start at zero, no draw).
PARAMETERS = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_in", "b_in", "W_out", "b_out", "W_U")
N_POSITIONS = 3  # a, b, "="


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformerConfig(ModelConfig):
    """A one-layer transformer on pairs of tokens; its width is d_mlp, the size of the MLP's
    hidden layer, a sweep axis of the study, not a field.

    Attributes:
        d_model: size of the residual stream (Nanda et al.: 128).
        n_heads: attention heads, each of size d_head = d_model // n_heads (Nanda et al.: 4).
        activation: the MLP's activation, relu or gelu.
        init_scale: multiplies every weight's N(0, 1/fan_in) initialisation; fan_in is d_model
            for all weights (W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, W_U) but W_out (fan_in d_mlp).
            Biases start at zero.
    """

    d_model: int = 128
    n_heads: int = 4
    activation: Literal["relu", "gelu"] = "relu"
    init_scale: float = 1.0

    def check(self, path: str) -> None:
        require(self.d_model >= 1, f"{path}.d_model", f"= {self.d_model} must be >= 1")
        require(self.n_heads >= 1, f"{path}.n_heads", f"= {self.n_heads} must be >= 1")
        require(self.d_model % self.n_heads == 0, f"{path}.n_heads",
                f"= {self.n_heads} must divide d_model = {self.d_model}")
        require(self.init_scale > 0, f"{path}.init_scale", f"= {self.init_scale} must be > 0")

    @property
    def neuron_degree(self) -> None:
        """No per-neuron homogeneous norm penalty applies: attention and residual paths bypass the MLP."""
        return None

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "Transformer":
        """A transformer whose MLP has ``width`` = d_mlp hidden units."""
        if n_inputs % 2:
            raise ValueError(f"transformer needs two one-hot halves, but n_inputs = {n_inputs} is odd")
        return Transformer(n_inputs // 2, self.d_model, self.n_heads, width, n_outputs, self.activation,
                           self.init_scale, generator)

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "EnsembleTransformer":
        return EnsembleTransformer([self.build(n_inputs, n_outputs, width, g) for g in generators])

    def group_functions(self, state: dict[str, torch.Tensor]) -> dict[str, tuple[str, np.ndarray]]:
        """The functions on the n tokens (group elements) that algebra studies Fourier-analyse.

        Row i of ``embed`` is residual coordinate i of the token embedding as a function of the
        token ("=" left out); row i of ``unembed`` is the readout weight of residual coordinate i
        to each output token. Both have d_model rows, but they are different units (the stream
        before attention and after the MLP), so their dimensions are named apart.

        Args:
            state: one network's state dict (single-network names, e.g. from ``split_state``).

        Returns:
            name -> (name of the units dimension, float64 array (units, n)): ``embed``
            ("d_model", (d_model, n)) and ``unembed`` ("d_model_out", (d_model, n_outputs)).
        """
        w_e, w_u = state["W_E"].detach().cpu().double(), state["W_U"].detach().cpu().double()
        return {"embed": ("d_model", w_e[:-1].T.numpy()), "unembed": ("d_model_out", w_u.T.numpy())}


class Transformer(nn.Module):
    """One transformer: ``W_E`` (n+1, d_model), ``W_pos`` (3, d_model), ``W_Q``, ``W_K``, ``W_V``
    (n_heads, d_model, d_head), ``W_O`` (n_heads, d_head, d_model), ``W_in`` (d_mlp, d_model),
    ``b_in`` (d_mlp,), ``W_out`` (d_model, d_mlp), ``b_out`` (d_model,), ``W_U`` (n_outputs, d_model).

    Parameters are drawn from ``generator`` in the order of ``PARAMETERS``, each weight as
    randn · init_scale / sqrt(fan_in); biases are zero.
    """

    def __init__(self, n: int, d_model: int, n_heads: int, d_mlp: int, n_outputs: int, activation: str,
                 init_scale: float, generator: torch.Generator):
        super().__init__()
        self.n, self.activation = n, ACTIVATIONS[activation]
        d_head = d_model // n_heads
        shapes = {  # name -> (shape, fan_in or None for a zero bias), in the order of PARAMETERS
            "W_E": ((n + 1, d_model), d_model), "W_pos": ((N_POSITIONS, d_model), d_model),
            "W_Q": ((n_heads, d_model, d_head), d_model), "W_K": ((n_heads, d_model, d_head), d_model),
            "W_V": ((n_heads, d_model, d_head), d_model), "W_O": ((n_heads, d_head, d_model), d_model),
            "W_in": ((d_mlp, d_model), d_model), "b_in": ((d_mlp,), None),
            "W_out": ((d_model, d_mlp), d_mlp), "b_out": ((d_model,), None),
            "W_U": ((n_outputs, d_model), d_model)}
        for name in PARAMETERS:
            shape, fan_in = shapes[name]
            value = (torch.zeros(shape) if fan_in is None
                     else torch.randn(shape, generator=generator) * (init_scale / math.sqrt(fan_in)))
            setattr(self, name, nn.Parameter(value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 2n) one-hot halves -> (B, n_outputs)
        return logits(x, self.n, self.activation, [getattr(self, name).unsqueeze(0) for name in PARAMETERS])[0]


class EnsembleTransformer(Ensemble):
    """E transformers of one shape as stacked parameters, member axis first, under the single
    network's names: ``W_E`` (E, n+1, d_model), ..., ``W_U`` (E, n_outputs, d_model).

    The E members' tables of attention scores and values are one matrix, so one ``embedding``
    gathers every member's rows (its backward is deterministic, also on CUDA); products are
    ``bmm``. Members never mix: member e's outputs and gradients depend on its own parameters
    and inputs only.
    """

    def __init__(self, members: list[Transformer]):
        super().__init__()
        self.n_members = len(members)
        self.n, self.activation = members[0].n, members[0].activation
        for name in PARAMETERS:
            setattr(self, name, nn.Parameter(torch.stack([getattr(m, name).detach() for m in members])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (E, B, n_outputs) of inputs (E, B, 2n) (member e reads x[e]) or (B, 2n) (shared)."""
        params = [getattr(self, name) for name in PARAMETERS]
        if self.n_members == 1:
            # torch routes a batch of one matrix product to mm, whose summation order differs
            # from the batched kernel's; a discarded duplicate member keeps a run's numbers
            # bit-identical whether it trains alone or in a group (its gradient adds exact zeros).
            params = [torch.cat([p, p]) for p in params]
            x = x if x.dim() == 2 else torch.cat([x, x])
        return logits(x, self.n, self.activation, params)[: self.n_members]

    def member_names(self) -> dict[str, str]:
        return {name: name for name in PARAMETERS}


def logits(x: torch.Tensor, n: int, activation: Callable[[torch.Tensor], torch.Tensor],
           params: list[torch.Tensor]) -> torch.Tensor:
    """Logits (E, B, n_outputs) at the "=" position of E stacked transformers.

    Args:
        x: one-hot halves, (E, B, 2n) (member e reads x[e]) or (B, 2n) (shared by all members).
        n: the number of tokens of each half ("=" is token n).
        activation: the MLP's activation function.
        params: the stacked parameters in the order of ``PARAMETERS``, member axis first.
    """
    W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out, W_U = params
    n_members, n_heads, d_model, d_head = W_Q.shape
    # Residual stream before attention, one row per (position, token) that occurs: rows [0, n)
    # are token a at position 0, rows [n, 2n) token b at position 1, row 2n "=" at position 2.
    resid = torch.cat([W_E[:, :n] + W_pos[:, :1], W_E[:, :n] + W_pos[:, 1:2], W_E[:, n:] + W_pos[:, 2:]], 1)
    resid_eq = resid[:, 2 * n:]  # (E, 1, d_model)
    # "e h d k -> e d (h k)": all heads' projections in one product.
    q = torch.bmm(resid_eq, W_Q.permute(0, 2, 1, 3).flatten(2)).unflatten(-1, (n_heads, d_head))  # (E, 1, H, d_head)
    k = torch.bmm(resid, W_K.permute(0, 2, 1, 3).flatten(2)).unflatten(-1, (n_heads, d_head))  # (E, 2n+1, H, d_head)
    v = torch.bmm(resid, W_V.permute(0, 2, 1, 3).flatten(2))  # (E, 2n+1, H·d_head)
    scores = (q * k).sum(-1) / math.sqrt(d_head)  # (E, 2n+1, H): the "=" query against each row's key
    table = torch.cat([scores, v], -1).flatten(0, 1)  # (E·(2n+1), H + H·d_head)

    a, b = tokens(x, n)  # (B,) or (E, B)
    rows = torch.stack([a, b + n, torch.full_like(a, 2 * n)], -1)  # (B, 3) or (E, B, 3)
    offset = torch.arange(n_members, device=x.device).view(-1, 1, 1) * (2 * n + 1)  # member e's rows start here
    scores, v = nn.functional.embedding(rows + offset, table).split([n_heads, n_heads * d_head], -1)
    pattern = scores.softmax(dim=2)  # (E, B, 3, H): softmax over the three positions
    z = (pattern.unsqueeze(-1) * v.unflatten(-1, (n_heads, d_head))).sum(2)  # (E, B, H, d_head)
    resid_mid = resid_eq + torch.bmm(z.flatten(2), W_O.flatten(1, 2))  # (E, B, d_model)

    hidden = activation(torch.baddbmm(b_in.unsqueeze(1), resid_mid, W_in.mT))  # (E, B, d_mlp)
    resid_post = resid_mid + torch.baddbmm(b_out.unsqueeze(1), hidden, W_out.mT)  # (E, B, d_model)
    return torch.bmm(resid_post, W_U.mT)  # (E, B, n_outputs)
