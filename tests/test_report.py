"""The report stage's results/metrics.json: headline values and claims only, rounded for
reading (each study's own metrics.json keeps its detail and every digit), and ``refresh``,
which remakes the report from the studies on disk after a run of chosen studies."""

import json
from types import SimpleNamespace

from learnscope import store
from learnscope.report import merge_metrics, refresh, rounded

STUDY_METRICS = {"nfa_corr": 0.9416004752705882, "top": [0, 1, 5], "flag": True, "missing": None,
                 "nested": {"mlp": 0.9749058971141782, "tiny": 6.4021e-13},
                 "claims": [{"key": "nfa_corr", "claim": "W1ᵀW1 ∝ AGOP^½", "paper": "P", "value": 0.9416,
                             "range": [0.9369, 0.9439], "reference": 1.0, "chance": 0.3525, "rule": "≥ 0.9",
                             "verdict": "holds"}],
                 "detail": {"main": "digits", "digits": {"nfa_corr": 0.9416004752705882}}}


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_rounded_keeps_four_significant_digits_and_other_values():
    assert rounded(0.9416004752705882) == 0.9416 and rounded(6.4021e-13) == 6.402e-13
    assert rounded(18434.0) == 18434.0 and rounded(18434.56) == 18435.0 and rounded(-0.0123456) == -0.01235
    assert rounded(0.0) == 0.0 and rounded(float("nan")) != rounded(float("nan"))
    assert rounded([1, True, None, "x", {"a": 0.123456}]) == [1, True, None, "x", {"a": 0.1235}]


def test_merged_metrics_leave_the_detail_in_the_studys_own_file(tmp_path):
    path = tmp_path / "metrics.json"
    _write(path, STUDY_METRICS)
    merged = merge_metrics({"nfa": str(path)})
    assert merged == {"nfa": {"nfa_corr": 0.9416, "top": [0, 1, 5], "flag": True, "missing": None,
                              "nested": {"mlp": 0.9749, "tiny": 6.402e-13},
                              "claims": STUDY_METRICS["claims"]}}
    assert json.loads(path.read_text())["detail"]["digits"]["nfa_corr"] == 0.9416004752705882  # untouched


def test_refresh_remakes_the_report_from_the_studies_built_so_far(tmp_path):
    _write(tmp_path / store.study_path("nfa", "metrics.json"), STUDY_METRICS)
    (tmp_path / store.study_path("nfa", "digits.png")).write_bytes(b"png")
    params = SimpleNamespace(studies={"nfa": None, "gdln": None}, runs={})
    assert refresh(tmp_path, params) == ["gdln"]
    metrics = json.loads((tmp_path / store.METRICS_PATH).read_text())
    assert set(metrics) == {"nfa"} and "detail" not in metrics["nfa"] and metrics["nfa"]["nfa_corr"] == 0.9416
    page = (tmp_path / store.REPORT_INDEX).read_text()
    assert "<h2>nfa</h2>" in page and "digits.png" in page and "layer_nfa.png" not in page  # figures on disk only
    assert (tmp_path / store.RUNS_INDEX).read_text().startswith("run\tstudy")
