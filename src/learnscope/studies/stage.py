"""The study stage: read a study's runs, write its summary.nc, metrics.json and figures."""

from __future__ import annotations

from learnscope import store
from learnscope.config import to_json
from learnscope.studies import STUDIES
from learnscope.studies.claims import claims_for, claims_json, verdict_lines
from learnscope.studies.plots import curve_table


def study_run(study: str, cfg, out_paths: dict[str, str], inputs: list[str]) -> None:
    """``out_paths`` maps summary.nc, metrics.json and each figure and plot name to its path."""
    analysis = STUDIES[study]
    summary = analysis.summarise(study, cfg, analysis.load(study, cfg, inputs))
    store.write(summary, out_paths["summary.nc"], "summary", to_json(cfg), inputs, analysis.summary_variables(cfg))
    claims = claims_json(analysis.claims(summary))
    store.write_json({**analysis.metrics(summary), "claims": claims}, out_paths["metrics.json"])
    save_figures(analysis.figures, summary, out_paths, claims, analysis.figure_claims)
    for name, curve in analysis.plots.items():
        store.write_text(curve_table(summary, curve), out_paths[name])


def save_figures(figures: dict, summary, paths: dict[str, str], claims: list[dict] = (),
                 figure_claims: dict[str, tuple[str, ...]] | None = None) -> None:
    """Render each figure of ``figures`` (name -> function of the summary) to ``paths[name]``;
    the claims it illustrates (``figure_claims``: name -> claim keys or patterns) are stated
    with their measured value and verdict above its own title."""
    for name, make in figures.items():
        fig = make(summary)
        shown = claims_for(list(claims), (figure_claims or {}).get(name, ()))
        if shown:
            title = fig._suptitle.get_text() if fig._suptitle is not None else ""
            fig.suptitle("\n".join(filter(None, [verdict_lines(shown), title])), fontsize=9)
        store.save_figure(fig, paths[name])
