"""Each figure states the claims it illustrates, with our value and the verdict, above its
own title; every study's figure -> claims map names real figures and real claims."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt

from learnscope import store
from learnscope.studies import STUDIES, stage
from learnscope.studies.claims import claims_for, verdict_lines

CLAIMS = [{"key": "slope_leap1", "value": 1.05, "range": [0.95, 1.05], "seeds": 3, "reached": 3, "verdict": "holds"},
          {"key": "slope_leap3", "value": None, "range": [2.1, 2.2], "seeds": 3, "reached": 2,
           "verdict": "does not hold"},
          {"key": "fourier_order_leap1", "value": 1.0, "range": [1.0, 1.0], "seeds": 3, "reached": 3,
           "verdict": "holds"}]


def test_claims_are_picked_by_key_or_pattern():
    assert [c["key"] for c in claims_for(CLAIMS, ("slope_*",))] == ["slope_leap1", "slope_leap3"]
    assert claims_for(CLAIMS, ("nfa_corr",)) == []
    assert verdict_lines(CLAIMS[:2]).splitlines() == [
        "slope_leap1 = 1.05 [0.95, 1.05]: holds", "slope_leap3 = – [2.1, 2.2] (2 of 3 seeds reached it): does not hold"]


def test_a_figure_states_its_verdicts_above_its_own_title(tmp_path, monkeypatch):
    saved = {}
    monkeypatch.setattr(store, "save_figure", lambda fig, path: saved.setdefault(Path(path).name, fig))

    def titled(_):
        fig, _ax = plt.subplots()
        fig.suptitle("own title")
        return fig

    figures = {"samples.png": titled, "plain.png": lambda _: plt.subplots()[0]}
    stage.save_figures(figures, None, {name: str(tmp_path / name) for name in figures}, CLAIMS,
                       {"samples.png": ("slope_*",)})
    assert saved["samples.png"]._suptitle.get_text() == verdict_lines(CLAIMS[:2]) + "\nown title"
    assert saved["plain.png"]._suptitle is None
    plt.close("all")


def test_every_figure_claim_names_a_figure_and_a_claim_of_its_study(pipeline_repo: Path):
    for study in json.loads((pipeline_repo / store.METRICS_PATH).read_text()):
        claims = json.loads((pipeline_repo / store.study_path(study, "metrics.json")).read_text())["claims"]
        for figure, patterns in STUDIES[study].figure_claims.items():
            assert figure in STUDIES[study].figures, (study, figure)
            for pattern in patterns:
                assert claims_for(claims, (pattern,)), (study, figure, pattern)
