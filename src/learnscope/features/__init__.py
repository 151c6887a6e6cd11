"""Per-snapshot measures and the features stage.

``MEASURES``: a measure's name (a study's ``Study.measures``) -> its ``measure.Measure``
object, imported lazily, so a features job runs (and depends on) only its study's measures.
"""

from learnscope.registry import Registry

MEASURES = Registry("measure", "", {
    "agop": "learnscope.features.nfa:AGOP_MEASURE",
    "layer_nfa": "learnscope.features.nfa:LAYER_NFA_MEASURE",
    "fourier": "learnscope.features.fourier:FOURIER_MEASURE",
    "group": "learnscope.features.algebra:GROUP_MEASURE",
    "gdln": "learnscope.features.gdln:GDLN_MEASURE",
    "attention_rank": "learnscope.features.attention_rank:ATTENTION_RANK_MEASURE",
})
