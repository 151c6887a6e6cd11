"""Snakemake adapter: train one run, writing its checkpoints and curves."""
from learnscope.logs import log_to
from learnscope.params import RunSpec
from learnscope.train import train_run

with log_to(snakemake.log[0]):
    train_run(RunSpec.from_json(snakemake.params.spec),
              dataset_path=snakemake.input.dataset,
              checkpoints_path=snakemake.output.checkpoints,
              curves_path=snakemake.output.curves,
              inputs=list(snakemake.input))
