"""The study stage: read a study's runs, write its summary.nc, metrics.json and figures."""

from __future__ import annotations

from learnscope import store
from learnscope.config import to_json
from learnscope.studies import STUDIES
from learnscope.studies.claims import claims_json


def study_run(study: str, cfg, out_paths: dict[str, str], inputs: list[str]) -> None:
    """``out_paths`` maps summary.nc, metrics.json and each figure name to its path."""
    analysis = STUDIES[study]
    summary = analysis.summarise(study, cfg, analysis.load(study, cfg, inputs))
    store.write(summary, out_paths["summary.nc"], "summary", to_json(cfg), inputs, analysis.summary_variables(cfg))
    store.write_json({**analysis.metrics(summary), "claims": claims_json(analysis.claims(summary))},
                     out_paths["metrics.json"])
    save_figures(analysis.figures, summary, out_paths)


def save_figures(figures: dict, summary, paths: dict[str, str]) -> None:
    """Render each figure of ``figures`` (name -> function of the summary) to ``paths[name]``."""
    for name, make in figures.items():
        store.save_figure(make(summary), paths[name])
