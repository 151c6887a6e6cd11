"""The report stage: results/metrics.json (every study's headline numbers and claims), an HTML
page, a run index. The report rule makes them after a full run; ``refresh`` remakes them from
the study files on disk after a run of chosen studies (``make run STUDY=...``)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

from learnscope import __version__, store
from learnscope.config import from_json, to_data, to_json
from learnscope.imports import module_file
from learnscope.report_html import index_html
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


def about_path(module: str, src: str | Path | None = None) -> Path:
    """A study package's ``about.md`` (what it asks, in plain words): under ``src`` (the folder
    of the learnscope package, as the rules' code inputs are) or where Python finds the package."""
    if src is not None and (found := module_file(module, Path(src))) is not None:
        return found.parent / "about.md"
    return Path(next(iter(importlib.util.find_spec(module).submodule_search_locations))) / "about.md"


def study_provenance(root: Path, summary: str, files: list[str]) -> dict:
    """The provenance panel of a study: its summary.nc's provenance attrs and the sha256 of
    ``files`` (its summary, metrics and datasets; relative to ``root``, keyed as given)."""
    attrs = store.read(root / summary, "summary").attrs
    return {"learnscope_version": attrs["learnscope_version"], "learnscope_format": int(attrs["learnscope_format"]),
            "params_json": attrs["params_json"], "inputs": json.loads(attrs["inputs_json"]),
            "files": {path: store.file_hash(root / path) for path in files}}


def report_inputs(params, studies: list[str], src: str | Path | None = None) -> dict[str, dict]:
    """What the report reads of each of ``studies``, by kind: ``metrics``, ``summaries``
    (study -> path), ``figures``, ``datasets`` (study -> paths) and ``abouts`` (study -> its
    package's about.md, under ``src`` if given). Paths are relative to the project; the report
    rule's inputs and ``refresh`` both come from here."""
    from learnscope.studies import STUDIES  # lazy: the report rule's code inputs stay report and logs

    datasets = {study: sorted({store.dataset_path(spec.study, spec.task_name) for spec in params.runs.values()
                               if spec.study == study}) for study in studies}
    return {"metrics": {study: store.study_path(study, "metrics.json") for study in studies},
            "summaries": {study: store.study_path(study, "summary.nc") for study in studies},
            "figures": {study: [store.study_path(study, f) for f in STUDIES[study].figures] for study in studies},
            "datasets": datasets,
            "abouts": {study: str(about_path(STUDIES.module(study), src)) for study in studies}}


def report(runs_json: str, inputs: dict[str, dict], metrics_path: str, index_path: str, runs_path: str,
           root: Path = Path(".")) -> None:
    """The report stage. ``runs_json``: every run's spec (canonical JSON), for the run index;
    ``inputs``: ``report_inputs``, relative to ``root`` (the project; output paths too)."""
    runs = from_json(dict[str, RunSpec], runs_json, "runs")
    merged = merge_metrics({study: str(root / path) for study, path in inputs["metrics"].items()})
    store.write_json(merged, root / metrics_path)
    pngs = {study: {Path(path).name: (root / path).read_bytes() for path in paths}
            for study, paths in inputs["figures"].items()}
    provenance = {}
    for study in merged:
        summary = inputs["summaries"][study]
        files = [summary, inputs["metrics"][study], *inputs["datasets"].get(study, [])]
        provenance[study] = study_provenance(root, summary, files)
    about = {study: (root / path).read_text(encoding="utf-8") for study, path in inputs["abouts"].items()}
    store.write_text(index_html(merged, about, pngs, provenance, len(runs), __version__), root / index_path)
    store.write_text(runs_index(runs), root / runs_path)


def refresh(root: Path, params) -> list[str]:
    """Remake the report from the study files on disk under ``root`` (after a run of chosen
    studies, which Snakemake's report rule would not serve without building every study).
    A study not built yet is left out of it, and so is a figure not on disk; returns the
    studies left out."""
    done = [study for study in params.studies if (root / store.study_path(study, "metrics.json")).exists()]
    inputs = report_inputs(params, done)
    inputs["figures"] = {study: [f for f in paths if (root / f).exists()] for study, paths in inputs["figures"].items()}
    inputs["abouts"] = {study: str(Path(path).resolve()) for study, path in inputs["abouts"].items()}  # code, not results
    report(to_json(params.runs), inputs, store.METRICS_PATH, store.REPORT_INDEX, store.RUNS_INDEX, root)
    return [study for study in params.studies if study not in done]
