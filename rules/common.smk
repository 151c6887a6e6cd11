# Named helpers for rules: paths come from learnscope.store, configuration from PARAMS.
import glob
import math

from learnscope import store
from learnscope.config import config_ref

from learnscope import targets
from learnscope.imports import code_inputs
from learnscope.features import MEASURES
from learnscope.resources import STUDY_JOB, gpus, group_resources
from learnscope.studies import STUDIES

SRC = "src/learnscope"


def run_modules(specs):
    """The modules of the task and model classes that ``specs`` build (imported on demand)."""
    return sorted({type(part).__module__ for spec in specs for part in (spec.task, spec.model)})


def measure_modules(study):
    """The modules of a study's measures: the features stage runs them, and reading a
    features.nc imports the schemas of the measures it names."""
    return [MEASURES.module(name) for name in STUDIES[study].measures]


def group_code(group, script, measures=False):
    """Code inputs of a group job (train, features, distill): its script's import closure,
    its runs' task and model modules and, for jobs that make or read features.nc
    (``measures``), its study's measures. Derived from the source (``learnscope.imports``),
    so editing a module reruns exactly the jobs that run it."""
    specs = [PARAMS.runs[run] for run in PARAMS.groups[group]]
    extra = measure_modules(specs[0].study) if measures else []
    return code_inputs(SRC, run_modules(specs) + extra, [script])


def generate_code(wildcards):
    task = PARAMS.studies[wildcards.study].tasks[wildcards.task]
    return code_inputs(SRC, [type(task).__module__], ["scripts/generate.py"])


def study_code(study):
    """A study job runs its package and builds its section's tasks and models."""
    specs = STUDIES[study].runs(study, PARAMS.studies[study], PARAMS.compute).values()
    return code_inputs(SRC, [STUDIES.module(study), *run_modules(specs), *measure_modules(study)],
                       ["scripts/study.py"])


# What each job asks a scheduler for (learnscope.resources): memory and runtime estimated from
# its params; GPUs from the profile's config (gpus_per_job, profiles/gpu).
RESOURCES = group_resources(PARAMS)
GPUS = gpus(config)


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
    return config_ref(PARAMS.studies[wildcards.study].tasks[wildcards.task])


def all_targets():
    """Every file the pipeline makes, intermediates included (``learnscope.targets``)."""
    return targets.all_targets(PARAMS)
