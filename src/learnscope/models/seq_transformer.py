"""A small pre-LayerNorm sequence transformer for template tasks, optionally with the identity
scalars of Boix-Adsera, Saremi, Abbe, Bengio, Littwin, Susskind, "When can transformers reason
with abstract symbols?" (ICLR 2024).

Inputs are ``seq_len`` one-hots over a vocabulary of V symbols, position-major (as
``learnscope.tasks.templates``): x (B, seq_len·V) reshapes to X (B, seq_len, V). With
d = width (d_model), H heads of d_head = d / H, T = seq_len + 1 positions (a learned CLS
token at position 0, then the tokens) and LN(z) = gain ⊙ layernorm(z) + bias:

    h_0      = [W_cls; X W_E] + W_pos                                   (B, T, d)
    per layer l:
      z      = LN_attn(h)
      A_k    = softmax_j((z W_Q[k])(z W_K[k])ᵀ / sqrt(d_head) + a[k] · z zᵀ)  head k, (B, T, T)
      h      = h + Σ_k A_k (z W_V[k]) W_O[k] + Σ_k b[k] · A_k z
      h      = h + W_out act(W_in LN_mlp(h) + b_in) + b_out             MLP of 4·d hidden units
    out      = W_U LN_out(h[CLS])                                        (B, n_outputs)

Identity scalars (``identity: true``; a, b (H,) per layer, both initialised at 0). The
paper's head smax(Z W_Q W_Kᵀ Zᵀ) Z W_V W_Oᵀ becomes, with W_K W_Qᵀ + aI and W_V W_Oᵀ + bI,
a · Z Zᵀ added to the logits and b · smax(·) Z added to the output (the paper's Sec. 3),
where Z is the head's input: here z = LN_attn(h), the layer-normed residual stream at every
position (CLS included), as in the authors' code (experiments/models.py of
eboix/relational-reasoning). The a-term is not divided by sqrt(d_head), as there. At a = b = 0
both terms add exact zeros: the function is that of the network without them.

Worked example of the mechanism: with W_Q = W_K = 0 the logits are a · z_i · z_j. On (s, t, s)
(template ABA) z_1 and z_3 share the token embedding of s and differ only by their positions,
so where the token embeddings dominate, a > 0 makes positions 1 and 3 attend to each other
more than to position 2, whatever the symbols s and t are.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from learnscope.errors import require
from learnscope.models.base import Ensemble, ModelConfig
from learnscope.models.mlp import ACTIVATIONS

MLP_RATIO = 4  # the MLP's hidden width is MLP_RATIO · d_model


@dataclasses.dataclass(frozen=True, kw_only=True)
class SeqTransformerConfig(ModelConfig):
    """A pre-LN transformer reading out at a CLS token; its width (d_model) is a sweep axis.

    Attributes:
        seq_len: positions of the input; n_inputs must be seq_len · V.
        depth: number of transformer layers (≥ 1).
        n_heads: attention heads per layer; must divide the width.
        identity: add the paper's trainable scalars a, b per head (module docstring).
        activation: the MLP's activation, relu or gelu.
        init_scale: multiplies every weight's N(0, 1/fan_in) initialisation; fan_in is the
            width for all weights (W_E, W_pos, W_cls, W_Q, W_K, W_V, W_O, W_in, W_U) but W_out
            (4·width). LayerNorm gains start at 1; biases and a, b at 0.
    """

    init_only_fields = ("init_scale",)  # an init-scale sweep trains as one ensemble

    seq_len: int
    depth: int = 2
    n_heads: int = 2
    identity: bool = False
    activation: Literal["relu", "gelu"] = "gelu"
    init_scale: float = 1.0

    def check(self, path: str) -> None:
        require(self.seq_len >= 1, f"{path}.seq_len", f"= {self.seq_len} must be >= 1")
        require(self.depth >= 1, f"{path}.depth", f"= {self.depth} must be >= 1")
        require(self.n_heads >= 1, f"{path}.n_heads", f"= {self.n_heads} must be >= 1")
        require(self.activation in ("relu", "gelu"), f"{path}.activation",
                f"= {self.activation!r} must be relu or gelu")
        require(self.init_scale > 0, f"{path}.init_scale", f"= {self.init_scale} must be > 0")

    def shapes(self, n_inputs: int, n_outputs: int, width: int) -> list[tuple[str, tuple, int | str]]:
        """(name, single-network shape, fan_in | "ones" | "zeros") in the order of drawing.

        Raises:
            ValueError: n_inputs is not a multiple of seq_len, or n_heads does not divide width.
        """
        if n_inputs % self.seq_len:
            raise ValueError(f"seq_transformer: n_inputs = {n_inputs} is not a multiple of seq_len = {self.seq_len}")
        if width % self.n_heads:
            raise ValueError(f"seq_transformer: n_heads = {self.n_heads} must divide width = {width}")
        d, H, V, hidden = width, self.n_heads, n_inputs // self.seq_len, MLP_RATIO * width
        out = [("W_E", (V, d), d), ("W_pos", (self.seq_len + 1, d), d), ("W_cls", (d,), d)]
        for l in range(self.depth):
            p = f"layers.{l}."
            out += [(p + "ln_attn_gain", (d,), "ones"), (p + "ln_attn_bias", (d,), "zeros"),
                    (p + "W_Q", (H, d, d // H), d), (p + "W_K", (H, d, d // H), d),
                    (p + "W_V", (H, d, d // H), d), (p + "W_O", (H, d // H, d), d)]
            out += [(p + "a", (H,), "zeros"), (p + "b", (H,), "zeros")] if self.identity else []
            out += [(p + "ln_mlp_gain", (d,), "ones"), (p + "ln_mlp_bias", (d,), "zeros"),
                    (p + "W_in", (hidden, d), d), (p + "b_in", (hidden,), "zeros"),
                    (p + "W_out", (d, hidden), hidden), (p + "b_out", (d,), "zeros")]
        return out + [("ln_out_gain", (d,), "ones"), ("ln_out_bias", (d,), "zeros"), ("W_U", (n_outputs, d), d)]

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "SeqTransformer":
        values = {}
        for name, shape, init in self.shapes(n_inputs, n_outputs, width):
            values[name] = (torch.ones(shape) if init == "ones" else torch.zeros(shape) if init == "zeros"
                            else torch.randn(shape, generator=generator) * (self.init_scale / math.sqrt(init)))
        return SeqTransformer(self, values)

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "EnsembleSeqTransformer":
        return EnsembleSeqTransformer([self.build(n_inputs, n_outputs, width, g) for g in generators])

    def build_group(self, configs: list["SeqTransformerConfig"], n_inputs: int, n_outputs: int, width: int,
                    generators: list[torch.Generator]) -> "EnsembleSeqTransformer":
        """Member e is ``configs[e].build(..., generators[e])``: its own init scale."""
        shape = dataclasses.replace(self, init_scale=1.0)
        if any(dataclasses.replace(c, init_scale=1.0) != shape for c in configs):
            raise ValueError("seq_transformer members of one ensemble may differ only in init_scale")
        return EnsembleSeqTransformer([c.build(n_inputs, n_outputs, width, g) for c, g in zip(configs, generators)])


class _Parameters(nn.Module):
    """Parameters under dotted names: top-level ones as attributes, ``layers.{l}.*`` in a
    ModuleList of ParameterDicts, so the state dict keys are exactly the given names."""

    def __init__(self, config: SeqTransformerConfig, values: dict[str, torch.Tensor]):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(nn.ParameterDict() for _ in range(config.depth))
        for name, value in values.items():
            if name.startswith("layers."):
                _, l, rest = name.split(".", 2)
                self.layers[int(l)][rest] = nn.Parameter(value)
            else:
                self.register_parameter(name, nn.Parameter(value))


class SeqTransformer(_Parameters):
    """One network (single-network names and shapes, e.g. ``layers.0.W_Q`` (n_heads, width, d_head))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, seq_len·V) -> (B, n_outputs)
        # Two copies of the member: torch routes a batch of one matrix product to mm, whose
        # summation order differs from the batched kernel's; the duplicate keeps a network's
        # numbers bit-identical alone or in an ensemble (its gradient adds exact zeros).
        return seq_logits(x, {name: torch.stack([p, p]) for name, p in self.named_parameters()}, self.config)[0]


class EnsembleSeqTransformer(Ensemble, _Parameters):
    """E networks as stacked parameters under the single network's names, member axis first:
    ``W_E`` (E, V, d), ``layers.0.W_Q`` (E, n_heads, d, d_head), ... Members never mix."""

    def __init__(self, members: list[SeqTransformer]):
        states = [dict(m.named_parameters()) for m in members]
        _Parameters.__init__(self, members[0].config,
                             {name: torch.stack([s[name].detach() for s in states]) for name in states[0]})
        self.n_members = len(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (E, B, n_outputs) of inputs (E, B, n_inputs) (member e reads x[e]) or (B, n_inputs)."""
        params = dict(self.named_parameters())
        if self.n_members == 1:  # as SeqTransformer.forward: a discarded duplicate member
            params = {name: torch.cat([p, p]) for name, p in params.items()}
            x = torch.cat([x, x]) if x.dim() == 3 else x
        return seq_logits(x, params, self.config)[: self.n_members]

    def member_names(self) -> dict[str, str]:
        return {name: name for name, _ in self.named_parameters()}


def _layer_norm(h: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """LayerNorm over the last axis of h (E, ..., d) with per-member gain, bias (E, d)."""
    shape = (gain.shape[0],) + (1,) * (h.dim() - 2) + (gain.shape[1],)
    return F.layer_norm(h, h.shape[-1:]) * gain.view(shape) + bias.view(shape)


def _attention(z: torch.Tensor, p: dict[str, torch.Tensor], identity: bool) -> torch.Tensor:
    """Σ_k A_k (z W_V[k]) W_O[k] (+ Σ_k b[k] A_k z with ``identity``): (E, B, T, d) from the
    layer-normed stream z (E, B, T, d); with ``identity`` the logits get a[k] · z zᵀ."""
    E, B, T, d = z.shape
    H, d_head = p["W_Q"].shape[1], p["W_Q"].shape[3]
    zf = z.reshape(E, B * T, d)

    def heads(w: torch.Tensor) -> torch.Tensor:  # (E, H, d, d_head) -> (E, B, H, T, d_head)
        return torch.bmm(zf, w.permute(0, 2, 1, 3).flatten(2)).view(E, B, T, H, d_head).transpose(2, 3)

    q, k, v = heads(p["W_Q"]), heads(p["W_K"]), heads(p["W_V"])
    logits = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d_head)  # (E, B, H, T, T)
    if identity:  # the paper's W_K W_Qᵀ + aI
        logits = logits + p["a"].view(E, 1, H, 1, 1) * torch.matmul(z, z.transpose(-1, -2)).unsqueeze(2)
    pattern = logits.softmax(-1)
    mixed = torch.matmul(pattern, v).transpose(2, 3).reshape(E, B * T, H * d_head)  # "e b h t k -> e (b t) (h k)"
    out = torch.bmm(mixed, p["W_O"].flatten(1, 2)).view(E, B, T, d)
    if identity:  # the paper's W_V W_Oᵀ + bI
        out = out + torch.matmul((p["b"].view(E, 1, H, 1, 1) * pattern).sum(2), z)
    return out


def seq_logits(x: torch.Tensor, params: dict[str, torch.Tensor], config: SeqTransformerConfig) -> torch.Tensor:
    """Outputs (E, B, n_outputs) of E stacked networks (``params``: name -> (E, ...)) on
    one-hot sequences x (E, B, seq_len·V) (member e reads x[e]) or (B, seq_len·V) (shared)."""
    W_E = params["W_E"]
    E, V, d = W_E.shape
    x = x.expand(E, *x.shape) if x.dim() == 2 else x
    B, S = x.shape[1], config.seq_len
    onehot = x.reshape(E, B, S, V)
    emb = torch.bmm(onehot.reshape(E, B * S, V), W_E).view(E, B, S, d)
    h = torch.cat([params["W_cls"].view(E, 1, 1, d).expand(E, B, 1, d), emb], 2) + params["W_pos"].unsqueeze(1)
    act = ACTIVATIONS[config.activation]
    for l in range(config.depth):
        p = {name.split(".", 2)[2]: t for name, t in params.items() if name.startswith(f"layers.{l}.")}
        h = h + _attention(_layer_norm(h, p["ln_attn_gain"], p["ln_attn_bias"]), p, config.identity)
        z = _layer_norm(h, p["ln_mlp_gain"], p["ln_mlp_bias"]).reshape(E, B * (S + 1), d)
        hidden = act(torch.baddbmm(p["b_in"].unsqueeze(1), z, p["W_in"].mT))
        h = h + torch.baddbmm(p["b_out"].unsqueeze(1), hidden, p["W_out"].mT).view(E, B, S + 1, d)
    cls = _layer_norm(h[:, :, 0], params["ln_out_gain"], params["ln_out_bias"])  # (E, B, d)
    return torch.bmm(cls, params["W_U"].mT)
