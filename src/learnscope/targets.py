"""Every file the pipeline makes, derived from the params: the rules ask Snakemake for all
of them (``rules/common.smk``, ``all_targets``) and ``learnscope.pipeline`` checks after a
run that none is missing, so a deleted or failed output is rebuilt and never recorded as
gone."""

from __future__ import annotations

from learnscope import store
from learnscope.studies import STUDIES


def run_artefacts(study: str) -> list[str]:
    """The files each run of ``study`` has: its weights and curves, and what its study reads
    (a tree.nc comes with its tree.txt and tree.png)."""
    wanted = {"checkpoints.nc", "curves.nc", *STUDIES[study].run_artefacts}
    if "tree.nc" in wanted:
        wanted |= {"tree.txt", "tree.png"}
    return sorted(wanted)


def study_outputs(study: str) -> dict[str, str]:
    """A study job's files by name: summary.nc, metrics.json, its figures and plots' tables."""
    names = ("summary.nc", "metrics.json", *STUDIES[study].figures)
    return {**{name: store.study_path(study, name) for name in names},
            **{name: store.study_path(study, f"plots/{name}") for name in STUDIES[study].plots}}


def all_targets(params, studies: list[str] | None = None) -> list[str]:
    """Every file of ``studies`` (default: all of them), intermediates included, then the
    report's. Snakemake rebuilds a missing file only when something asks for it: a deleted
    checkpoints.nc whose features.nc is up to date would otherwise stay missing."""
    chosen = list(params.studies) if studies is None else studies
    specs = {name: spec for name, spec in params.runs.items() if spec.study in chosen}
    datasets = sorted({store.dataset_path(spec.study, spec.task_name) for spec in specs.values()})
    runs = [store.run_path(name, artefact) for name, spec in specs.items() for artefact in run_artefacts(spec.study)]
    sources = [path for study in chosen for path in STUDIES[study].source_outputs(study, params.studies[study], params)]
    study_files = [path for study in chosen for path in study_outputs(study).values()]
    report = [store.METRICS_PATH, store.REPORT_INDEX, store.RUNS_INDEX] if studies is None else []
    return [*datasets, *runs, *sources, *study_files, *report]
