"""Model registry: params.yaml's ``model.name`` picks a config class, which builds the network."""

from learnscope.models.base import Ensemble, ModelConfig
from learnscope.models.mlp import MLP, EnsembleMLP, MLPConfig

MODELS: dict[str, type[ModelConfig]] = {"mlp": MLPConfig}

__all__ = ["MLP", "Ensemble", "EnsembleMLP", "MLPConfig", "MODELS", "ModelConfig"]
