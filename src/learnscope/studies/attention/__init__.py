"""Study ``attention`` (in progress, not yet registered in ``learnscope.studies.STUDIES``):
transformers reasoning with abstract symbols and gradual rank increase (Boix-Adsera et al.,
ICLR 2024 and NeurIPS 2023). So far: ``toy``, the diagonal attention head of the rank paper."""
