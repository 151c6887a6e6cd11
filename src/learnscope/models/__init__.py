"""Model registry: params.yaml's ``model.name`` picks a config class, which builds the network.

The registry is lazy: naming a model imports its module only. Import a model's classes
from its own module, e.g. ``from learnscope.models.mlp import MLPConfig``.
"""

from learnscope.registry import Registry

MODELS = Registry("model", "name", {
    "mlp": "learnscope.models.mlp:MLPConfig",
    "embed_mlp": "learnscope.models.embed:EmbedMLPConfig",
    "transformer": "learnscope.models.transformer:TransformerConfig",
    "gdln": "learnscope.models.gdln:GatedDLNConfig",
    "mlp_xxt": "learnscope.models.mlp_xxt:MLPXXTConfig",
    "seq_transformer": "learnscope.models.seq_transformer:SeqTransformerConfig",
})
