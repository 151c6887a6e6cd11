# Named helpers for rules: paths come from learnscope.store, configuration from PARAMS.
import glob
import math

from learnscope import store
from learnscope.config import to_json

SRC = "src/learnscope"


def code(*patterns):
    """Package modules a rule's script runs, as inputs: editing one reruns exactly those jobs."""
    return sorted({path for p in patterns for path in glob.glob(f"{SRC}/{p}")})


# Imported by every script (params pulls in the task and model registries).
CORE = code("__init__.py", "config.py", "errors.py", "logs.py", "metrics.py", "params.py", "leap_params.py",
            "algebra_params.py", "gdln_params.py", "runspec.py",
            "store.py", "data.py", "tasks/*.py", "models/*.py", "groups/*.py")


wildcard_constraints:
    study="[A-Za-z0-9_]+",
    task="[A-Za-z0-9_]+",


def group_outputs(group, artefact):
    return [store.run_path(run, artefact) for run in PARAMS.groups[group]]


def group_dataset(group):
    spec = PARAMS.runs[PARAMS.groups[group][0]]
    return store.dataset_path(spec.study, spec.task_name)


def group_priority(group):
    """Bigger groups first (Snakemake runs ready jobs by priority), so the longest job does
    not start last and leave a core idle: log2 of steps x members x width x inputs."""
    spec = PARAMS.runs[PARAMS.groups[group][0]]
    cost = spec.train.steps * len(PARAMS.groups[group]) * spec.width * spec.task.n_inputs
    return max(0, int(math.log2(cost)))


def task_spec(wildcards):
    return to_json(PARAMS.studies[wildcards.study].tasks[wildcards.task])


def all_targets():
    return [store.METRICS_PATH, store.REPORT_INDEX, store.RUNS_INDEX]
