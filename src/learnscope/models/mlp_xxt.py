"""The MLP with pairwise-equality features XXᵀ: the "MLP with XXᵀ" baseline of Boix-Adsera et
al. (ICLR 2024, §4; ../shared/STUDIES.md §4).

Inputs are template-task sequences (``learnscope.tasks.templates``): one one-hot over the
vocabulary V per position, position-major, x of seq_len·V columns. With X the (seq_len, V)
matrix of one-hots, XXᵀ[i, j] = 1[x_i = x_j]. The network is the MLP of ``mlp.py`` reading
[x, XXᵀ[i, j] for i < j] (or the equalities alone): a template task's label is a function of
these equalities, so this MLP generalises to unseen symbols where the plain MLP cannot.

Worked example, seq_len = 3: the sequence (s, t, s) with s ≠ t has equalities (0, 1, 0) for
the pairs (0, 1), (0, 2), (1, 2), whatever the symbols s and t.

The feature map is fixed and parameter-free, so parameters, their names, their draws from the
generator and the ensemble's batched code are those of ``MLP``/``EnsembleMLP``, with the first
layer's fan-in ``n_features(n_inputs)``.
"""

from __future__ import annotations

import dataclasses

import torch

from learnscope.errors import require
from learnscope.models.mlp import MLP, EnsembleMLP, MLPConfig


def pairwise_equalities(x: torch.Tensor, seq_len: int) -> torch.Tensor:
    """The upper triangle of XXᵀ: (..., seq_len·V) -> (..., seq_len(seq_len−1)/2).

    Entry k is the dot product of the one-hots at positions (i, j), the k-th pair with i < j in
    row-major order ((0, 1), (0, 2), …, (1, 2), …): 1[x_i = x_j] for one-hot inputs. Sums of
    0/1 products are exact in floating point, so the features do not depend on the kernel.
    """
    seqs = x.unflatten(-1, (seq_len, -1))  # (..., seq_len, V)
    gram = seqs @ seqs.transpose(-1, -2)  # (..., seq_len, seq_len)
    i, j = torch.triu_indices(seq_len, seq_len, offset=1, device=x.device)
    return gram[..., i, j]


@dataclasses.dataclass(frozen=True, kw_only=True)
class MLPXXTConfig(MLPConfig):
    """The MLP of ``MLPConfig`` on the one-hots with the equalities XXᵀ[i, j], i < j, appended.

    Attributes:
        seq_len: number of positions of the input sequence (the task's; n_inputs = seq_len·V).
        equalities_only: drop the one-hots, so the network reads the equalities alone.
    """

    seq_len: int
    equalities_only: bool = False

    def check(self, path: str) -> None:
        super().check(path)
        require(self.seq_len >= 2, f"{path}.seq_len", f"= {self.seq_len} must be >= 2 (one pair of positions)")

    def n_features(self, n_inputs: int) -> int:
        """The first layer's fan-in: seq_len·V one-hots (unless ``equalities_only``) + seq_len(seq_len−1)/2."""
        n_pairs = self.seq_len * (self.seq_len - 1) // 2
        return n_pairs if self.equalities_only else n_inputs + n_pairs

    def group_functions(self, state: dict[str, torch.Tensor]) -> dict:
        raise NotImplementedError("mlp_xxt reads sequences, not group elements: no functions on a group to analyse")

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> "MLPXXT":
        if n_inputs % self.seq_len:
            raise ValueError(f"mlp_xxt needs n_inputs = seq_len·V one-hot columns, but n_inputs = {n_inputs} "
                             f"is not a multiple of seq_len = {self.seq_len}; set model.seq_len to the task's")
        sizes = [self.n_features(n_inputs)] + [width] * self.depth + [n_outputs]
        return MLPXXT(self.seq_len, self.equalities_only, sizes, self.activation, self.init_scale, self.bias,
                      generator, self.mean_field)

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "EnsembleMLPXXT":
        return EnsembleMLPXXT([self.build(n_inputs, n_outputs, width, g) for g in generators])


class XXTFeatures:
    """The fixed feature map of both networks: (..., seq_len·V) -> (..., n_features)."""

    seq_len: int
    equalities_only: bool

    def features(self, x: torch.Tensor) -> torch.Tensor:
        equalities = pairwise_equalities(x, self.seq_len)
        return equalities if self.equalities_only else torch.cat([x, equalities], dim=-1)


class MLPXXT(XXTFeatures, MLP):
    """An ``MLP`` (same parameters and state-dict names) applied to ``features(x)``."""

    def __init__(self, seq_len: int, equalities_only: bool, *mlp_args, **mlp_kwargs):
        super().__init__(*mlp_args, **mlp_kwargs)
        self.seq_len, self.equalities_only = seq_len, equalities_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, seq_len·V) -> (B, d_out)
        return super().forward(self.features(x))


class EnsembleMLPXXT(XXTFeatures, EnsembleMLP):
    """An ``EnsembleMLP`` applied to ``features(x)``; members never mix, as there."""

    def __init__(self, members: list[MLPXXT]):
        super().__init__(members)
        self.seq_len, self.equalities_only = members[0].seq_len, members[0].equalities_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (E, B, seq_len·V) or (B, seq_len·V) -> (E, B, d_out)
        return super().forward(self.features(x))
