# learnscope pipeline: params.yaml -> data -> runs (train, features, distill) -> studies -> report.
# Stages are the rules in rules/*.smk; each script calls one learnscope function.
import sys

from learnscope.errors import ConfigError
from learnscope.params import load_params


try:  # read strictly by learnscope (duplicate keys, non-UTF-8...), not by Snakemake's configfile
    PARAMS = load_params("params.yaml")
except ConfigError as error:
    sys.exit(str(error))


include: "rules/common.smk"
include: "rules/generate.smk"
include: "rules/train.smk"
include: "rules/features.smk"
include: "rules/distill.smk"
include: "rules/sources.smk"
include: "rules/study.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
