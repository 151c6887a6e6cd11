"""Snakemake adapter: measure one run at every snapshot."""
from learnscope.config import from_json
from learnscope.features.extract import features_run
from learnscope.logs import log_to
from learnscope.params import FeaturesConfig, RunSpec

with log_to(snakemake.log[0]):
    features_run(RunSpec.from_json(snakemake.params.spec),
                 from_json(FeaturesConfig, snakemake.params.features, "features"),
                 dataset_path=snakemake.input.dataset,
                 checkpoints_path=snakemake.input.checkpoints,
                 features_path=snakemake.output[0],
                 inputs=list(snakemake.input))
