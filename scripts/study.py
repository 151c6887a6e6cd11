"""Snakemake adapter: one study's summary, metrics and figures."""
import os

from learnscope.config import from_ref
from learnscope.logs import log_to
from learnscope.studies import STUDIES
from learnscope.studies.stage import study_run

with log_to(snakemake.log[0]):
    study = snakemake.params.study
    study_run(study, from_ref(STUDIES[study].config_type, snakemake.params.config, study),
              out_paths={os.path.basename(path): path for path in snakemake.output},
              inputs=list(snakemake.input))
