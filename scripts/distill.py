"""Snakemake adapter: distill one trained network into decision trees."""
from learnscope.config import from_json
from learnscope.distill.stage import distill_run
from learnscope.logs import log_to
from learnscope.params import DistillConfig, RunSpec

with log_to(snakemake.log[0]):
    distill_run(RunSpec.from_json(snakemake.params.spec),
                from_json(DistillConfig, snakemake.params.distill, "distill"),
                dataset_path=snakemake.input.dataset,
                checkpoints_path=snakemake.input.checkpoints,
                features_path=snakemake.input.features,
                tree_path=snakemake.output.tree,
                text_path=snakemake.output.text,
                png_path=snakemake.output.png,
                inputs=list(snakemake.input))
