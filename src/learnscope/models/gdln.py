"""The gated deep linear network (GDLN) of Saxe, Sodhani & Lewallen, "The neural race
reduction" (ICML 2022): M input pathways and M output pathways joined by shared linear layers,
each pathway switched on or off by a gate that is part of the data.

An input row is x = [item (d_item), g_in (M), g_out (M)]; the output has M blocks of N_out
numbers, block j being

    y_j = g_out[j] · W_out[j] W_shared[L-1] ⋯ W_shared[0] Σ_i g_in[i] W_in[i] item.

Worked example, M = 2, d_item = 1, N_out = 1, L = 1, all weights 1 × 1 (width 1) with
W_in = (2, 3), W_shared = (5,), W_out = (7, 11): x = [1, 0, 1, 1, 0] (item 1, input pathway 1,
output pathway 0) gives y = [7·5·3·1, 0] = [105, 0].

No biases and no nonlinearity: the network computes a gated linear map, whose learning
dynamics the paper reduces to a "race" between pathways (Sec. 3-4).

The gate products are never indexed: with z = g_in ⊗ item (B, M·d_item), the hidden layer is
one product of z with W_in laid out as (width, M·d_item), and the readout gates multiply the
(B, M, N_out) blocks elementwise, so real-valued (soft) gates mix pathways linearly.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from learnscope.errors import require
from learnscope.models.base import Ensemble, ModelConfig

PARAMETERS = ("W_in", "W_shared", "W_out")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GatedDLNConfig(ModelConfig):
    """A gated deep linear network; its width (the size of every hidden layer) is a sweep axis
    of the study, not a field. Selected by ``name: gdln`` in params.yaml (the registry key).

    Attributes:
        pathways: M, the number of input pathways and of output pathways.
        shared_layers: L >= 1 shared width × width matrices between the per-pathway input and
            output layers.
        init_scale: every weight matrix starts as ``init_scale`` times a random (semi-)orthogonal
            matrix, so all its singular values equal ``init_scale`` (small: the rich regime).
            Drawn from the generator in the order W_in[0..M-1], W_shared[0..L-1], W_out[0..M-1].
    """

    pathways: int = 7
    shared_layers: int = 1
    init_scale: float = 0.2

    init_only_fields = ("init_scale",)  # an init-scale sweep trains as one ensemble

    def check(self, path: str) -> None:
        require(self.pathways >= 1, f"{path}.pathways", f"= {self.pathways} must be >= 1")
        require(self.shared_layers >= 1, f"{path}.shared_layers", f"= {self.shared_layers} must be >= 1")
        require(self.init_scale > 0, f"{path}.init_scale", f"= {self.init_scale} must be > 0")

    def dims(self, n_inputs: int, n_outputs: int) -> tuple[int, int]:
        """(d_item, N_out) of a task with ``n_inputs`` = d_item + 2M and ``n_outputs`` = M·N_out.

        Raises:
            ValueError: n_inputs <= 2M (no item features) or n_outputs not a multiple of M.
        """
        m = self.pathways
        if n_inputs <= 2 * m:
            raise ValueError(f"gdln needs n_inputs = d_item + 2·pathways with d_item >= 1, but n_inputs = "
                             f"{n_inputs} <= 2·{m}")
        if n_outputs % m:
            raise ValueError(f"gdln needs n_outputs divisible by pathways, but {n_outputs} % {m} = {n_outputs % m}")
        return n_inputs - 2 * m, n_outputs // m

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "GatedDLN":
        d_item, n_out = self.dims(n_inputs, n_outputs)
        return GatedDLN(self.pathways, d_item, width, n_out, self.shared_layers, self.init_scale, generator)

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "EnsembleGatedDLN":
        return EnsembleGatedDLN([self.build(n_inputs, n_outputs, width, g) for g in generators])

    def build_group(self, configs: list["GatedDLNConfig"], n_inputs: int, n_outputs: int, width: int,
                    generators: list[torch.Generator]) -> "EnsembleGatedDLN":
        """Member e is ``configs[e].build(..., generators[e])``: its own init scale."""
        shape = dataclasses.replace(self, init_scale=1.0)
        if any(dataclasses.replace(c, init_scale=1.0) != shape for c in configs):
            raise ValueError("gdln members of one ensemble may differ only in init_scale")
        return EnsembleGatedDLN([c.build(n_inputs, n_outputs, width, g) for c, g in zip(configs, generators)])

    def layer_singular_values(self, state: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        """Singular values of every weight matrix of one network, float64, descending.

        Args:
            state: one network's state dict (single-network names, e.g. from ``split_state``).

        Returns:
            ``{"W_in": (M, min(width, d_item)), "W_shared": (L, width), "W_out": (M, min(N_out, width))}``.
        """
        return {name: torch.linalg.svdvals(state[name].detach().cpu().double()).numpy() for name in PARAMETERS}

    def pathway_maps(self, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """End-to-end linear maps W_out[j] W_shared[L-1] ⋯ W_shared[0] W_in[i] of every pathway pair.

        Args:
            state: one network's state dict (single-network names).

        Returns:
            float64 (M_out, M_in, N_out, d_item): entry [j, i] is the map from the item to output
            block j when only input gate i and output gate j are on (set to 1).
        """
        w_in, w_shared, w_out = (state[name].detach().cpu().double() for name in PARAMETERS)
        chain = w_shared[0]  # (width, width)
        for w in w_shared[1:]:
            chain = w @ chain
        return torch.einsum("jow,wv,ivd->jiod", w_out, chain, w_in)


def _orthogonal(shape: tuple[int, ...], gain: float, generator: torch.Generator) -> torch.Tensor:
    """A stack of independent (semi-)orthogonal matrices times ``gain``: (K, rows, cols)."""
    w = torch.empty(shape)
    for matrix in w:
        nn.init.orthogonal_(matrix, gain=gain, generator=generator)
    return w


def gated_forward(x: torch.Tensor, w_in: torch.Tensor, w_shared: torch.Tensor,
                  w_out: torch.Tensor) -> torch.Tensor:
    """Outputs (E, B, M·N_out) of E networks on inputs (E, B, n_inputs) or shared (B, n_inputs).

    Args:
        x: rows [item (d_item), g_in (M), g_out (M)].
        w_in: (E, M, width, d_item); w_shared: (E, L, width, width); w_out: (E, M, N_out, width).
    """
    n_members, m, width, d_item = w_in.shape
    if x.shape[-1] != d_item + 2 * m:
        raise ValueError(f"gdln expects inputs of d_item + 2·M = {d_item + 2 * m} columns, got {x.shape[-1]}")
    item, g_in, g_out = x[..., :d_item], x[..., d_item:d_item + m], x[..., d_item + m:]
    z = (g_in.unsqueeze(-1) * item.unsqueeze(-2)).flatten(-2)  # (..., B, M·d_item), pathway-major
    if z.dim() == 2:
        z = z.expand(n_members, *z.shape)
    w_gated = w_in.transpose(1, 2).reshape(n_members, width, m * d_item)  # [e, w, i·d + k] = W_in[e, i, w, k]
    h = torch.bmm(z, w_gated.mT)  # (E, B, width)
    for w in w_shared.unbind(1):  # (E, width, width), layer 0 first
        h = torch.bmm(h, w.mT)
    y = torch.bmm(h, w_out.flatten(1, 2).mT)  # (E, B, M·N_out)
    y = y.unflatten(-1, (m, -1)) * g_out.unsqueeze(-1)  # (E, B, M, N_out): block j times g_out[j]
    return y.flatten(-2)


class GatedDLN(nn.Module):
    """One GDLN: ``W_in`` (M, width, d_item), ``W_shared`` (L, width, width) (layer k maps
    h <- W_shared[k] h), ``W_out`` (M, N_out, width); no biases."""

    def __init__(self, pathways: int, d_item: int, width: int, n_out: int, shared_layers: int,
                 init_scale: float, generator: torch.Generator):
        super().__init__()
        self.W_in = nn.Parameter(_orthogonal((pathways, width, d_item), init_scale, generator))
        self.W_shared = nn.Parameter(_orthogonal((shared_layers, width, width), init_scale, generator))
        self.W_out = nn.Parameter(_orthogonal((pathways, n_out, width), init_scale, generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_item + 2M) -> (B, M·N_out)
        return gated_forward(x.unsqueeze(0), self.W_in.unsqueeze(0), self.W_shared.unsqueeze(0),
                             self.W_out.unsqueeze(0))[0]


class EnsembleGatedDLN(Ensemble):
    """E GDLNs of one shape as stacked parameters, member axis first: ``W_in`` (E, M, width,
    d_item), ``W_shared`` (E, L, width, width), ``W_out`` (E, M, N_out, width).

    Every product is one ``bmm`` over members; members never mix: member e's outputs and
    gradients depend on its own parameters and inputs only.
    """

    def __init__(self, members: list[GatedDLN]):
        super().__init__()
        self.n_members = len(members)
        for name in PARAMETERS:
            setattr(self, name, nn.Parameter(torch.stack([getattr(m, name).detach() for m in members])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (E, B, M·N_out) of inputs (E, B, n_inputs) (member e reads x[e]) or (B, n_inputs) (shared)."""
        params = [self.W_in, self.W_shared, self.W_out]
        if self.n_members == 1:
            # torch routes a batch of one matrix product to mm, whose summation order differs
            # from the batched kernel's; a discarded duplicate member keeps a run's numbers
            # bit-identical whether it trains alone or in a group (its gradient adds exact zeros).
            params = [torch.cat([p, p]) for p in params]
            x = x if x.dim() == 2 else torch.cat([x, x])
        return gated_forward(x, *params)[: self.n_members]

    def member_names(self) -> dict[str, str]:
        return {name: name for name in PARAMETERS}
