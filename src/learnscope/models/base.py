"""The common interface of model configurations."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Base of every model config; subclasses add their documented fields."""

    def check(self, path: str) -> None:
        """Raise ConfigError naming ``path`` for impossible values."""

    def build(self, n_inputs: int, n_outputs: int, width: int, generator: torch.Generator) -> nn.Module:
        """A freshly initialised network whose parameters are drawn from ``generator`` only."""
        raise NotImplementedError
