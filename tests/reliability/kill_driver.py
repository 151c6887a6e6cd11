"""Runs one stage of the tiny parity pipeline in the working directory, the way its
Snakemake rule does: ``python kill_driver.py <stage>`` (a subprocess the reliability tests
SIGKILL, ``learnscope.faults``) or ``run_stage(stage)`` in-process (the rerun)."""

from __future__ import annotations

import os
import sys

from learnscope import store, targets
from learnscope.data import generate
from learnscope.distill.stage import distill_group_run
from learnscope.features.extract import features_group_run
from learnscope.params import load_params
from learnscope.studies import STUDIES
from learnscope.studies.stage import study_run
from learnscope.train import train_group_run
from pipeline_tools import TINY

PARAMS = {section: TINY[section] for section in ("compute", "features", "trees", "parity")}  # parity alone
STAGES = ("generate", "train", "features", "distill", "study")


def _paths(specs, artefact: str) -> list[str]:
    return [store.run_path(spec.name, artefact) for spec in specs]


def outputs(stage: str) -> list[str]:
    """The files ``stage`` writes, as its rule declares them."""
    specs = list(load_params(PARAMS).runs.values())
    return {"generate": [store.dataset_path("parity", "sparse_parity")],
            "train": _paths(specs, "checkpoints.nc") + _paths(specs, "curves.nc"),
            "features": _paths(specs, "features.nc"),
            "distill": _paths(specs, "tree.nc") + _paths(specs, "tree.txt") + _paths(specs, "tree.png"),
            "study": list(targets.study_outputs("parity").values())}[stage]


def run_stage(stage: str) -> None:
    params = load_params(PARAMS)
    specs = list(params.runs.values())
    dataset = store.dataset_path("parity", "sparse_parity")
    checkpoints, features = _paths(specs, "checkpoints.nc"), _paths(specs, "features.nc")
    if stage == "generate":
        generate(specs[0].task, dataset)
    elif stage == "train":
        train_group_run(specs, dataset, checkpoints, _paths(specs, "curves.nc"), [dataset])
    elif stage == "features":
        features_group_run(specs, params.features, dataset, checkpoints, features, [dataset, *checkpoints],
                           measures=STUDIES["parity"].measures)
    elif stage == "distill":
        distill_group_run(specs, params.trees, dataset, checkpoints, features,
                          [os.path.dirname(p) for p in checkpoints], [dataset, *checkpoints, *features])
    else:
        runs = [store.run_path(s.name, a) for s in specs for a in STUDIES["parity"].run_artefacts]
        study_run("parity", params.parity, {os.path.basename(p): p for p in outputs("study")}, runs)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO)
    run_stage(sys.argv[1])
