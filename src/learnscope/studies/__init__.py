"""The study registry: a study's name (its params.yaml section) -> its ``Study``, imported lazily.

Adding a study = one params section, one package ``learnscope.studies.<name>`` whose
``__init__`` defines ``STUDY``, and one line here (README, "Adding a study").
"""

from learnscope.registry import Registry

STUDIES = Registry("study", "", {
    "parity": "learnscope.studies.parity:STUDY",
    "leap": "learnscope.studies.leap:STUDY",
    "algebra": "learnscope.studies.algebra:STUDY",
    "gdln": "learnscope.studies.gdln:STUDY",
    "attention": "learnscope.studies.attention:STUDY",
    "similarity": "learnscope.studies.similarity:STUDY",
    "distill": "learnscope.studies.distill:STUDY",
    "nfa": "learnscope.studies.nfa:STUDY",
})
