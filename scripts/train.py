"""Snakemake adapter: train one group of runs (same shapes, different seeds) as one ensemble."""
from learnscope.config import from_ref
from learnscope.logs import log_to
from learnscope.runspec import RunSpec
from learnscope.train import train_group_run

with log_to(snakemake.log[0]):
    train_group_run(from_ref(list[RunSpec], snakemake.params.specs, "specs"),
                    dataset_path=snakemake.input.dataset,
                    checkpoints_paths=list(snakemake.output.checkpoints),
                    curves_paths=list(snakemake.output.curves),
                    inputs=list(snakemake.input))
