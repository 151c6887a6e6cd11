"""The common interface of model configurations."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from learnscope.models import MODELS
from learnscope.registry import Registry


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Base of every model config; subclasses add their documented fields.

    ``init_only_fields``: fields that only set the initial weights (e.g. an init scale);
    runs whose models differ only in them may train as one ensemble (``build_group``).
    """

    registry: ClassVar[Registry] = MODELS  # params.yaml's ``name`` picks the subclass
    init_only_fields: ClassVar[tuple[str, ...]] = ()

    def check(self, path: str) -> None:
        """Raise ConfigError naming ``path`` for impossible values."""

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> nn.Module:
        """A freshly initialised network whose parameters are drawn from ``generator`` only."""
        raise NotImplementedError

    def lr_scale(self, width: int) -> float:
        """Factor applied to ``train.lr`` (e.g. the width, for mean-field parametrisations)."""
        return 1.0

    @property
    def neuron_degree(self) -> int | None:
        """Homogeneity degree ν of a hidden neuron in its own parameters, for the penalty
        λ Σ_j ‖θ_j‖^ν (``TrainConfig.neuron_penalty``); None where it does not apply."""
        return None

    def group_functions(self, state: dict[str, torch.Tensor]) -> dict:
        """Named parts of one network that are functions on the input tokens of a
        group-composition task: part -> (units dim name, float64 (units, n) array)."""
        raise NotImplementedError(f"{type(self).__name__} has no functions on group elements to analyse")

    def build_ensemble(self, n_inputs: int, n_outputs: int, width: int,
                       generators: list[torch.Generator]) -> "Ensemble":
        """E networks of one shape trained as one batched model; member e is exactly
        ``build(..., generators[e])``. Maps (E, B, n_inputs) -> (E, B, n_outputs)."""
        raise NotImplementedError(f"{type(self).__name__} has no ensemble implementation")

    def build_group(self, configs: list["ModelConfig"], n_inputs: int, n_outputs: int, width: int,
                    generators: list[torch.Generator]) -> "Ensemble":
        """The ensemble of a training group whose member e is ``configs[e].build(...,
        generators[e])``; the configs may differ from this one only in ``init_only_fields``."""
        if any(c != self for c in configs):
            raise NotImplementedError(f"{type(self).__name__} cannot batch members of different configs")
        return self.build_ensemble(n_inputs, n_outputs, width, generators)


class Ensemble(nn.Module):
    """Interface of batched models: stacked parameters, members' state dicts by torch name."""

    n_members: int

    def member_names(self) -> dict[str, str]:
        """Stacked state-dict name -> the name of that parameter in one member's state dict."""
        raise NotImplementedError

    def split_state(self, stacked: dict[str, torch.Tensor], e: int) -> dict[str, torch.Tensor]:
        """Member ``e``'s slice of a stacked state dict, keyed by single-network names."""
        return {single: stacked[name][e].detach().clone() for name, single in self.member_names().items()}

    def member_state(self, e: int) -> dict[str, torch.Tensor]:
        """Member ``e``'s current parameters, keyed as in its single-network state dict."""
        return self.split_state(self.state_dict(), e)
