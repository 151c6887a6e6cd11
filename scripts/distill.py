"""Snakemake adapter: distill every trained network of one group into decision trees."""
import os

from learnscope.config import from_ref
from learnscope.distill.stage import distill_group_run
from learnscope.logs import log_to
from learnscope.distill.config import DistillConfig
from learnscope.runspec import RunSpec

with log_to(snakemake.log[0]):
    distill_group_run(from_ref(list[RunSpec], snakemake.params.specs, "specs"),
                      from_ref(DistillConfig, snakemake.params.trees, "trees"),
                      dataset_path=snakemake.input.dataset,
                      checkpoints_paths=list(snakemake.input.checkpoints),
                      features_paths=list(snakemake.input.features),
                      out_dirs=[os.path.dirname(path) for path in snakemake.output.trees],
                      inputs=list(snakemake.input))
