"""Model registry: params.yaml's ``model.name`` picks a config class, which builds the network."""

from learnscope.models.base import Ensemble, ModelConfig
from learnscope.models.embed import EmbedMLP, EmbedMLPConfig, EnsembleEmbedMLP
from learnscope.models.gdln import EnsembleGatedDLN, GatedDLN, GatedDLNConfig
from learnscope.models.mlp import MLP, EnsembleMLP, MLPConfig
from learnscope.models.transformer import EnsembleTransformer, Transformer, TransformerConfig

MODELS: dict[str, type[ModelConfig]] = {"mlp": MLPConfig, "embed_mlp": EmbedMLPConfig,
                                        "transformer": TransformerConfig, "gdln": GatedDLNConfig}

__all__ = ["MLP", "EmbedMLP", "EmbedMLPConfig", "Ensemble", "EnsembleEmbedMLP", "EnsembleGatedDLN",
           "EnsembleMLP", "EnsembleTransformer", "GatedDLN", "GatedDLNConfig", "MLPConfig",
           "MODELS", "ModelConfig", "Transformer", "TransformerConfig"]
