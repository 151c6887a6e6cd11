"""Snakemake adapter: measure every snapshot of every run of one group."""
from learnscope.config import from_ref
from learnscope.features.extract import features_group_run
from learnscope.logs import log_to
from learnscope.features.config import FeaturesConfig
from learnscope.runspec import RunSpec

with log_to(snakemake.log[0]):
    features_group_run(from_ref(list[RunSpec], snakemake.params.specs, "specs"),
                       from_ref(FeaturesConfig, snakemake.params.features, "features"),
                       dataset_path=snakemake.input.dataset,
                       checkpoints_paths=list(snakemake.input.checkpoints),
                       features_paths=list(snakemake.output),
                       inputs=list(snakemake.input),
                       measures=tuple(snakemake.params.measures))
