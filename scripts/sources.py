"""Snakemake adapter: a study's job that reads other studies' runs (Study.read_sources)."""
from learnscope.config import from_ref
from learnscope.logs import log_to
from learnscope.runspec import RunSpec
from learnscope.studies import STUDIES

with log_to(snakemake.log[0]):
    study = snakemake.params.study
    STUDIES[study].read_sources(study, from_ref(STUDIES[study].config_type, snakemake.params.config, study),
                                from_ref(list[RunSpec], snakemake.params.specs, "specs"),
                                checkpoints=list(snakemake.input.checkpoints),
                                out_paths=list(snakemake.output),
                                inputs=list(snakemake.input))
