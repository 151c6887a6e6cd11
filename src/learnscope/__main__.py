"""Command line: ``python -m learnscope check [params.yaml]`` and ``python -m learnscope runs``."""

from __future__ import annotations

import argparse
import sys

from learnscope.config import to_data
from learnscope.errors import ConfigError
from learnscope.params import load_params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="learnscope")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate params.yaml and print the runs it implies")
    check.add_argument("params", nargs="?", default="params.yaml")
    runs = sub.add_parser("runs", help="list every run with its study, task, width and seed")
    runs.add_argument("params", nargs="?", default="params.yaml")
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "check":
        print(f"{args.params}: ok, {len(params.runs)} runs in {len(params.studies)} studies")
    else:
        for name, spec in params.runs.items():
            task = to_data(spec.task)
            print(f"{name}\tstudy={spec.study}\ttask={spec.task_name}({task['family']})"
                  f"\twidth={spec.width}\tseed={spec.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
