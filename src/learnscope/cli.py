"""The ``learnscope`` command (also ``python -m learnscope``), run in the project folder.

  learnscope run [STUDY ...]      the whole pipeline (dvc repro), or chosen studies (Snakemake);
                                  --profile slurm|gpu, --cores N
  learnscope status               what a run would redo, and why
  learnscope show PATH_OR_RUN     a readable summary of a learnscope .nc file or of a run
  learnscope compare A B          two runs, or two git revisions / DVC experiments / workspace
  learnscope studies              each study with its claims and verdicts, one line each
  learnscope open RUN             a run's files as one xarray DataTree (learnscope.open in Python)
  learnscope plots [REV ...]      the studies' main curves (DVC plots), the workspace beside REVs,
                                  drawn offline to dvc_plots/index.html
  learnscope check [PARAMS]       validate params.yaml
  learnscope runs [PARAMS]        list every run with its study, task, width and seed

Every error is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from learnscope.errors import ConfigError, LearnscopeError

# Each command imports what it needs when it runs: `learnscope --help` and a usage error stay
# instant (loading params imports torch).


def load_params(path: str):
    from learnscope.params import load_params as load
    return load(path)


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (the usage itself is in ``--help``)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _check(args) -> int:
    params = load_params(args.params)
    print(f"{args.params}: ok, {len(params.runs)} runs in {len(params.studies)} studies")
    return 0


def _runs(args) -> int:
    from learnscope.config import to_data
    for name, spec in load_params(args.params).runs.items():
        task = to_data(spec.task)
        print(f"{name}\tstudy={spec.study}\ttask={spec.task_name}({task['family']})"
              f"\twidth={spec.width}\tseed={spec.seed}")
    return 0


def _run(args) -> int:
    load_params("params.yaml")  # bad params: one line before anything starts
    for variable, value in (("LEARNSCOPE_PROFILE", args.profile), ("LEARNSCOPE_CORES", args.cores)):
        if value is not None:  # read by learnscope.pipeline, also under dvc repro
            os.environ[variable] = str(value)
    from learnscope import pipeline
    pipeline.profile_option()  # a bad profile or core count: one line before anything starts
    pipeline.cores_option()
    if args.studies:
        return pipeline.main(args.studies)
    from learnscope.status import tool
    return subprocess.call([tool("dvc"), "repro"])


def _status(args) -> int:
    from learnscope.status import status
    print(status(load_params("params.yaml")))
    return 0


def _show(args) -> int:
    from learnscope import explore
    target = Path(args.target)
    print(explore.describe(target) if target.suffix == ".nc" else explore.describe_run(args.target))
    return 0


def _compare(args) -> int:
    from learnscope.compare import compare
    print(compare(args.a, args.b))
    return 0


def _studies(args) -> int:
    from learnscope import store
    from learnscope.report import about_path
    from learnscope.studies import STUDIES

    params = load_params("params.yaml")
    metrics = json.loads(Path(store.METRICS_PATH).read_text()) if Path(store.METRICS_PATH).exists() else {}
    for study in params.studies:
        about = about_path(STUDIES.module(study)).read_text(encoding="utf-8")
        question = about.split("**")[1] if about.startswith("**") else ""
        claims = metrics.get(study, {}).get("claims")
        verdicts = ", ".join(f"{c['key']} {c['verdict']}" for c in claims) if claims else "not run yet"
        print(f"{study}: {question} Claims: {verdicts}")
    return 0


def _open(args) -> int:
    from learnscope.explore import open as open_run
    print(open_run(args.run))
    return 0


def _plots(args) -> int:
    from learnscope.plots import write_page
    path, count = write_page(args.revisions, args.out)
    print(f"{path}: {count} plot(s) of {', '.join(['workspace', *args.revisions])}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = OneLineParser(prog="learnscope", description=__doc__.split("\n\n")[0],
                        epilog="Run in the project folder (where params.yaml is).")
    sub = top.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, (func, help_text) in {"check": (_check, "validate params.yaml and count the runs it implies"),
                                    "runs": (_runs, "list every run with its study, task, width and seed")}.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("params", nargs="?", default="params.yaml")
        command.set_defaults(func=func)
    run = sub.add_parser("run", help="run the pipeline: all of it (dvc repro) or chosen studies",
                         description="Without STUDY: dvc repro (recorded in dvc.lock). With STUDY: those "
                                     "studies' Snakemake targets, then the report is remade.")
    run.add_argument("studies", nargs="*", metavar="STUDY")
    run.add_argument("--profile", metavar="NAME", help="profiles/NAME: default, slurm, gpu (make run PROFILE=NAME)")
    run.add_argument("--cores", type=int, metavar="N", help="jobs at once (make run CORES=N)")
    run.set_defaults(func=_run)
    sub.add_parser("status", help="what a run would redo, and why (params or code changed...)",
                   description="Snakemake's dry run and DVC's status, grouped by study.").set_defaults(func=_status)
    show = sub.add_parser("show", help="summarise a learnscope .nc file, or a run by name",
                          description="Dims, variables, provenance and key numbers of a .nc file; or a run's "
                                      "files, params and final curves.")
    show.add_argument("target", metavar="PATH_OR_RUN")
    show.set_defaults(func=_show)
    compare = sub.add_parser("compare", help="compare two runs, or two revisions / DVC experiments",
                             description="Two runs: params diff and final curves. Two git revisions, DVC "
                                         "experiments or 'workspace': params diff and claims diff.")
    compare.add_argument("a", metavar="A")
    compare.add_argument("b", metavar="B")
    compare.set_defaults(func=_compare)
    sub.add_parser("studies", help="each study with its claims and verdicts, one line each",
                   description="Each study of params.yaml: its question and its claims' verdicts "
                               "(from results/metrics.json).").set_defaults(func=_studies)
    open_run = sub.add_parser("open", help="print a run's files as one xarray DataTree",
                              description="In Python: learnscope.open(run) returns the DataTree.")
    open_run.add_argument("run", metavar="RUN")
    open_run.set_defaults(func=_open)
    plots = sub.add_parser("plots", help="the studies' main curves (DVC plots) of the workspace and REVs, offline",
                           description="dvc plots show (or diff REV ...) drawn to SVG without a browser or "
                                       "network: one self-contained page.")
    plots.add_argument("revisions", nargs="*", metavar="REV", help="git revisions or DVC experiments to compare")
    plots.add_argument("--out", default="dvc_plots/index.html", help="the page (default: %(default)s)")
    plots.set_defaults(func=_plots)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as error:  # already names the file and key: "params.yaml: parity.seeds ..."
        print(error, file=sys.stderr)
        return 2
    except (LearnscopeError, OSError) as error:
        print(f"learnscope: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
