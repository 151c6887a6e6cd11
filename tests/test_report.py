"""The report stage's results/metrics.json: headline values and claims only, rounded for
reading (each study's own metrics.json keeps its detail and every digit), and ``refresh``,
which remakes the report from the studies on disk after a run of chosen studies."""

import base64
import json
import re
from types import SimpleNamespace

import xarray as xr

from learnscope import store
from learnscope.report import merge_metrics, refresh, rounded
from learnscope.report_html import claims_table, fmt, markdown, ours, verdict_counts

STUDY_METRICS = {"nfa_corr": 0.9416004752705882, "top": [0, 1, 5], "flag": True, "missing": None,
                 "nested": {"mlp": 0.9749058971141782, "tiny": 6.4021e-13},
                 "claims": [{"key": "nfa_corr", "claim": "W1ᵀW1 ∝ AGOP^½", "paper": "P", "value": 0.9416,
                             "range": [0.9369, 0.9439], "seeds": 3, "reached": 3, "reference": 1.0, "chance": 0.3525, "rule": "≥ 0.9",
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


def _png() -> bytes:
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _study_files(root, study="nfa"):
    """A built study under ``root``: metrics.json, summary.nc (with provenance) and one figure."""
    _write(root / store.study_path(study, "metrics.json"), STUDY_METRICS)
    store.write(xr.Dataset(attrs={"study": study}), root / store.study_path(study, "summary.nc"), "summary",
                '{"seeds": [0, 1, 2]}')
    (root / store.study_path(study, "digits.png")).write_bytes(_png())


def test_refresh_remakes_the_report_from_the_studies_built_so_far(tmp_path):
    _study_files(tmp_path)
    params = SimpleNamespace(studies={"nfa": None, "gdln": None}, runs={})
    assert refresh(tmp_path, params) == ["gdln"]
    metrics = json.loads((tmp_path / store.METRICS_PATH).read_text())
    assert set(metrics) == {"nfa"} and "detail" not in metrics["nfa"] and metrics["nfa"]["nfa_corr"] == 0.9416
    page = (tmp_path / store.REPORT_INDEX).read_text()
    assert "<section id='nfa'>" in page and "id='gdln'" not in page
    assert "digits.png" in page and "layer_nfa.png" not in page  # figures on disk only
    assert "Recursive Feature Machine" in page  # the study's about.md
    assert store.file_hash(tmp_path / store.study_path("nfa", "summary.nc")) in page  # provenance
    assert "&quot;seeds&quot;: [" in page or '"seeds": [' in page
    assert (tmp_path / store.RUNS_INDEX).read_text().startswith("run\tstudy")


def test_the_page_embeds_its_figures_and_allows_no_other_source(tmp_path):
    _study_files(tmp_path)
    refresh(tmp_path, SimpleNamespace(studies={"nfa": None}, runs={}))
    page = (tmp_path / store.REPORT_INDEX).read_text()
    images = re.findall(r"<img src='([^']*)'", page)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    assert base64.b64decode(images[0].split(",", 1)[1]) == _png()
    assert "default-src 'none'" in page and not re.search(r"(src|href)=['\"]?(https?:)?//", page)
    assert not re.search(r"<(script|link)\b", page)


def test_values_are_formatted_for_reading():
    assert fmt(0.9416004752705882) == "0.9416" and fmt(18434.0) == "18,434" and fmt(1.0) == "1"
    assert fmt(6.4021e-13) == "6.4e-13" and fmt(None) == "–" and fmt(float("nan")) == "–"
    assert fmt(True) == "yes" and fmt([0, 1, 5]) == "[0, 1, 5]" and fmt(95.53) == "95.53"
    assert fmt(-0.0123456) == "-0.01235" and fmt(2141) == "2,141"


def test_our_value_shows_the_spread_and_the_seeds_that_never_reached_it():
    claim = {"value": 0.905, "range": [0.839, 0.923], "seeds": 5, "reached": 5}
    assert ours(claim) == "0.905 [0.839, 0.923]"
    assert ours({"value": None, "range": [64.0, 64.0], "seeds": 3, "reached": 2}) == \
        "– [64, 64] (2 of 3 seeds reached it)"
    assert ours({"value": 4.89, "range": [4.89, 4.89], "seeds": 1, "reached": 1}) == "4.89"


def test_the_claims_table_counts_verdicts_and_colours_each():
    claims = [dict(STUDY_METRICS["claims"][0], key=f"c{i}", verdict=v)
              for i, v in enumerate(["holds", "holds", "does not hold", "uninformative"])]
    metrics = {"nfa": {"claims": claims[:3]}, "gdln": {"claims": claims[3:]}}
    assert verdict_counts(metrics) == "4 claims in 2 studies: 2 hold, 1 do not hold, 1 uninformative."
    table = claims_table(metrics)
    assert table.count("<tr>") == 5 and table.count("<tr class='study'>") == 2 and table.count("class='verdict does-not-hold'") == 1
    assert "0.9416 [0.9369, 0.9439]" in table and "<a href='#gdln'>" in table


def test_about_markdown_becomes_escaped_paragraphs():
    text = "**Why?** A `W1` and *leap*.\nSame paragraph <b>.\n\nSecond."
    assert markdown(text) == ("<p><b>Why?</b> A <code>W1</code> and <i>leap</i>. Same paragraph &lt;b&gt;.</p>"
                              "<p>Second.</p>")


def test_every_registered_study_has_an_about_page():
    from learnscope.report import about_path
    from learnscope.studies import STUDIES

    for study in STUDIES:
        text = about_path(STUDIES.module(study)).read_text()
        assert text.startswith("**") and len(text) > 300, study
