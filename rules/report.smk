# The report's results/metrics.json is tracked by git (not DVC), so a fresh clone checks it
# out next to the code. Snakemake compares a `script:` file by mtime alone, which would make
# the report look stale in every clone; a `run:` block is compared by its text instead.
from learnscope.config import config_text
from learnscope.logs import log_to
from learnscope import report as report_stage  # not `report`: Snakemake's report() flags outputs

REPORT_INPUTS = report_stage.report_inputs(PARAMS, list(PARAMS.studies), SRC)


def report_files(kind):
    """The report's input files of one kind (``learnscope.report.report_inputs``), flattened."""
    files = REPORT_INPUTS[kind].values()
    return [path for value in files for path in ([value] if isinstance(value, str) else value)]


localrules:
    report,  # a few seconds in this process: not worth a cluster job


rule report:
    input:
        metrics=report_files("metrics"),
        summaries=report_files("summaries"),
        figures=report_files("figures"),
        datasets=report_files("datasets"),
        abouts=report_files("abouts"),
        code=code_inputs(SRC, ["learnscope.report", "learnscope.logs"]),
    output:
        metrics=store.METRICS_PATH,
        index=report(store.REPORT_INDEX, category="learnscope report", labels={"page": "claims and studies"}),
        runs=store.RUNS_INDEX,
    params:
        runs=config_ref(PARAMS.runs),
    log:
        "logs/report.log",
    run:
        with log_to(log[0]):
            report_stage.report(config_text(params.runs), REPORT_INPUTS, output.metrics, output.index, output.runs)
