"""The study stage: read a study's runs, write its summary.nc, metrics.json and figures."""

from __future__ import annotations

from learnscope import store
from learnscope.config import to_json
from learnscope.studies import STUDIES

KINDS = {"curves.nc": "curves", "features.nc": "features", "tree.nc": "tree"}


def study_run(study: str, cfg, run_names: list[str], out_dir_paths: dict[str, str],
              inputs: list[str]) -> None:
    """``out_dir_paths`` maps summary.nc, metrics.json and each figure name to its path."""
    analysis = STUDIES[study]
    runs = {name: {artefact.split(".")[0]: store.read(store.run_path(name, artefact), KINDS[artefact])
                   for artefact in analysis.run_artefacts} for name in run_names}
    summary = analysis.summarise(study, cfg, runs)
    store.write(summary, out_dir_paths["summary.nc"], "summary", to_json(cfg), inputs)
    store.write_json(analysis.metrics(summary), out_dir_paths["metrics.json"])
    analysis.save_figures(summary, {n: r["features"] for n, r in runs.items()}, out_dir_paths)
