# The report's results/metrics.json is tracked by git (not DVC), so a fresh clone checks it
# out next to the code. Snakemake compares a `script:` file by mtime alone, which would make
# the report look stale in every clone; a `run:` block is compared by its text instead.
from learnscope.logs import log_to
from learnscope.report import report


def study_metrics_files():
    return {study: store.study_path(study, "metrics.json") for study in PARAMS.studies}


def study_figure_files():
    return {study: [store.study_path(study, f) for f in STUDIES[study].figures] for study in PARAMS.studies}


rule report:
    input:
        metrics=list(study_metrics_files().values()),
        figures=[f for files in study_figure_files().values() for f in files],
        code=code_inputs(SRC, ["learnscope.report", "learnscope.logs"]),
    output:
        metrics=store.METRICS_PATH,
        index=store.REPORT_INDEX,
        runs=store.RUNS_INDEX,
    params:
        runs=to_json(PARAMS.runs),
        study_metrics=study_metrics_files(),
        figures=study_figure_files(),
    log:
        "logs/report.log",
    run:
        with log_to(log[0]):
            report(params.runs, params.study_metrics, params.figures, output.metrics, output.index, output.runs)
