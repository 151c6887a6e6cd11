"""The report stage: results/metrics.json (every study's headline numbers and claims), an HTML
page, a run index. The report rule makes them after a full run; ``refresh`` remakes them from
the study files on disk after a run of chosen studies (``make run STUDY=...``)."""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path

from learnscope import store
from learnscope.config import from_json, to_data, to_json
from learnscope.runspec import RunSpec


SIGNIFICANT = 4  # digits kept of every float in results/metrics.json (each study's own file keeps all)


def rounded(value):
    """``value`` with every float rounded to SIGNIFICANT significant digits, recursively; the
    integer part is always kept (18,434 probes stay 18434.0)."""
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return value
        return round(value, max(SIGNIFICANT - 1 - math.floor(math.log10(abs(value))), 0))
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def merge_metrics(study_metrics: dict[str, str]) -> dict:
    """``{study: path of its metrics.json}`` -> one dict keyed by study: each study's headline
    values and claims, rounded for reading (``rounded``). Its ``detail`` (every task, width and
    convention) stays in the study's own file, results/studies/<study>/metrics.json, so that
    ``dvc metrics show`` and ``dvc exp show`` stay a few columns per study."""
    merged = {}
    for study, path in sorted(study_metrics.items()):
        with open(path) as f:
            merged[study] = rounded({k: v for k, v in json.load(f).items() if k != "detail"})
    return merged


def runs_index(runs: dict[str, RunSpec]) -> str:
    """A TSV of every run: name, study, task, family, width, tag, lr, seed and its full spec as JSON."""
    lines = ["run\tstudy\ttask\tfamily\twidth\ttag\tlr\tseed\tspec_json"]
    for name, spec in runs.items():
        family = to_data(spec.task)["family"]
        lines.append(f"{name}\t{spec.study}\t{spec.task_name}\t{family}\t{spec.width}\t{spec.tag}\t{spec.train.lr!r}"
                     f"\t{spec.seed}\t{spec.to_json()}")
    return "\n".join(lines) + "\n"


def _table(values: dict) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(json.dumps(rounded(v)))}</td></tr>"
                   for k, v in values.items() if k not in ("detail", "claims"))
    return f"<table>{rows}</table>"


CLAIM_COLUMNS = ("study", "claim", "paper", "value", "range", "reference", "chance", "rule", "verdict")


def claims_table(metrics: dict) -> str:
    """Every study's claims: the claim, its paper, our median and range over seeds, the
    reference, the chance level, the rule and the verdict."""
    head = "".join(f"<th>{c}</th>" for c in CLAIM_COLUMNS)
    rows = []
    for study, values in metrics.items():
        for c in values.get("claims", []):
            cells = [study, f"<b>{html.escape(c['key'])}</b>: {html.escape(c['claim'])}", html.escape(c["paper"]),
                     json.dumps(c["value"]), json.dumps(c["range"]), json.dumps(c["reference"]),
                     json.dumps(c["chance"]), html.escape(c["rule"]), f"<b>{html.escape(c['verdict'])}</b>"]
            rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<h2>Claims</h2><table><tr>{head}</tr>{''.join(rows)}</table>"


def index_html(metrics: dict, figures: dict[str, list[str]], report_dir: str) -> str:
    """A page with each study's headline metrics and figures (linked relative to the page)."""
    parts = ["<!doctype html><meta charset='utf-8'><title>learnscope report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
             "td{padding:2px 10px;border-bottom:1px solid #ddd}img{max-width:100%}</style>",
             "<h1>learnscope report</h1>", claims_table(metrics)]
    for study, values in metrics.items():
        parts.append(f"<h2>{html.escape(study)}</h2>{_table(values)}")
        for path in figures.get(study, []):
            rel = os.path.relpath(path, report_dir)
            parts.append(f"<p><img src='{html.escape(rel)}' alt='{html.escape(os.path.basename(path))}'></p>")
    parts.append("<p>Runs and their params: <a href='runs.tsv'>runs.tsv</a></p>")
    return "\n".join(parts) + "\n"


def report(runs_json: str, study_metrics: dict[str, str], figures: dict[str, list[str]],
           metrics_path: str, index_path: str, runs_path: str) -> None:
    """The report stage. ``runs_json``: every run's spec (canonical JSON), for the run index."""
    runs = from_json(dict[str, RunSpec], runs_json, "runs")
    merged = merge_metrics(study_metrics)
    store.write_json(merged, metrics_path)
    store.write_text(index_html(merged, figures, os.path.dirname(index_path)), index_path)
    store.write_text(runs_index(runs), runs_path)


def refresh(root: Path, params) -> list[str]:
    """Remake the report from the study metrics and figures on disk under ``root`` (after a run
    of chosen studies, which Snakemake's report rule would not serve without building every
    study). A study not built yet is left out of it; returns the studies left out."""
    from learnscope.studies import STUDIES  # lazy: the report rule's code inputs stay report and logs

    done = [study for study in params.studies if (root / store.study_path(study, "metrics.json")).exists()]
    metrics = {study: str(root / store.study_path(study, "metrics.json")) for study in done}
    figures = {study: [str(root / store.study_path(study, f)) for f in STUDIES[study].figures
                       if (root / store.study_path(study, f)).exists()] for study in done}
    report(to_json(params.runs), metrics, figures, str(root / store.METRICS_PATH), str(root / store.REPORT_INDEX),
           str(root / store.RUNS_INDEX))
    return [study for study in params.studies if study not in done]
