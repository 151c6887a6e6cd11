"""Snakemake adapter: one study's summary, metrics and figures."""
import os

from learnscope.config import from_json
from learnscope.logs import log_to
from learnscope.params import study_config_type
from learnscope.studies.stage import study_run

with log_to(snakemake.log[0]):
    study_run(snakemake.params.study,
              from_json(study_config_type(snakemake.params.study), snakemake.params.config, snakemake.params.study),
              run_names=list(snakemake.params.runs),
              out_dir_paths={os.path.basename(path): path for path in snakemake.output},
              inputs=list(snakemake.input))
