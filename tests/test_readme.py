"""Every command the README shows works: each fenced bash line, each inline `make ...`,
`learnscope ...`, `dvc ...`, `python ...` and `snakemake ...` command, and each Python block
runs in the tiny pipeline's project (cheap variants where a command is long: run names of the
tiny params, `--dry` for an experiment, `make -n` for targets that rebuild the venv or run
for minutes). A command the README gains that no rule here covers fails the test."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from pipeline_tools import REPO, sh

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMAND = re.compile(r"(make |learnscope |dvc |git |python |\.venv/bin/snakemake |snakemake )")
# Shown but not run, each for a reason a reader can check in the README's own words.
NOT_RUN = {
    "snakemake --config ...": "the README says never to use it",
    "snakemake --unlock": "the README says it is never needed",
    "dvc remote add -d s3 s3://bucket/learnscope": "an example remote on a cloud this machine cannot reach",
    "dvc remote add -d ssh ssh://host/path": "an example remote on a host this machine cannot reach",
    "dvc plots diff exp-a exp-b": "example experiment names",
    "make test-cluster": "starts SLURM daemons as root for about 10 minutes: run as itself (tests/cluster)",
}
# make -n: they rebuild the venv or run for minutes, or (status) run a command tested as itself
DRY_TARGETS = {"test", "bench", "setup", "lock", "clean-venv", "browser", "status"}
SUBSTITUTIONS = {"parity-sparse_parity-w256-s": "parity-sparse_parity-w16-s",
                 "algebra-margin-w128-s0": "algebra-margin-w16-s0", "HEAD~1": "HEAD", "[STUDY ...]": "gdln",
                 "[REV ...]": "HEAD", "PROFILE=<name>": "PROFILE=gpu"}


def readme_commands() -> list[str]:
    """Fenced bash lines (comments dropped) and inline code spans that are commands."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        commands += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    commands += [span for span in re.findall(r"`([^`\n]+)`", prose) if COMMAND.match(span)]
    return list(dict.fromkeys(commands))


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


def cheap(command: str, tmp: Path) -> list[str] | None:
    """The command as run in the tiny project (None: shown only, see NOT_RUN)."""
    if command in NOT_RUN:
        return None
    for old, new in SUBSTITUTIONS.items():
        command = command.replace(old, new)
    command = command.replace("report.html", str(tmp / "snakemake-report.html"))
    if command == "git push && make share":  # no git remote here: the DVC half
        command = "make share"
    command = command.replace("git commit -m", "git commit --allow-empty -q -m")  # the fixture committed them
    args = shlex.split(command)
    if args[0] == "make":
        return make_args(args[1:])
    if args[:3] == ["dvc", "exp", "run"]:
        return [*args[:3], "--dry", *args[3:]]
    if args[0] == "learnscope" or args[:3] == ["python", "-m", "learnscope"]:
        rest = args[1:] if args[0] == "learnscope" else args[3:]
        return [sys.executable, "-m", "learnscope", *(rest or ["--help"])]
    if args[:2] == ["python", "-m"]:
        return [sys.executable, *args[1:]]
    if args[0] == "python":
        return [sys.executable, str(REPO / args[1]), "--out", str(tmp / Path(args[1]).with_suffix(".png").name)]
    if args[0] == ".venv/bin/snakemake":
        return [str(Path(sys.executable).parent / "snakemake"), *args[1:]]
    return ["bash", "-c", command]  # git, dvc, snakemake: as written


def make_args(args: list[str]) -> list[str]:
    variables = [a for a in args if "=" in a]
    target = next((a for a in args if "=" not in a), "run")
    variables = ["STUDY=gdln" if v.startswith("STUDY=") else "CORES=8" if v == "CORES=N" else v
                 for v in variables]  # one study of the tiny params stands for every STUDY=
    if target in DRY_TARGETS or any(v.startswith("TORCH=") for v in variables):
        return ["make", "-n", "-o", ".venv/.installed", target, *variables]
    return ["make", "-o", ".venv/.installed", target, *variables]  # the venv is this one: never rebuilt


@pytest.fixture(scope="module")
def project(pipeline_repo: Path) -> Path:
    """The tiny project with the Makefile, its lock file and this venv (a link: make never
    reinstalls it), with its results committed."""
    for name in ("Makefile", "requirements.lock"):
        shutil.copy2(REPO / name, pipeline_repo / name)
    venv = pipeline_repo / ".venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.executable).parent.parent)
    sh(pipeline_repo, "git", "add", "dvc.lock", "results/metrics.json")  # the README's sharing flow, so that
    sh(pipeline_repo, "git", "commit", "-q", "--allow-empty", "-m", "results")  # `compare HEAD workspace`
    return pipeline_repo


def test_the_readme_shows_the_commands_this_test_knows():
    commands = readme_commands()
    assert {"make run", "make test", "learnscope status"} <= set(commands)
    assert len(python_blocks()) >= 2
    shown_only = [c for c in commands if c in NOT_RUN]
    assert len(shown_only) == len(NOT_RUN), set(NOT_RUN) - set(shown_only)  # no stale exemption


def distinct_commands() -> list[str]:
    """The README's commands, one per distinct cheap variant (``make run STUDY=nfa`` and
    ``STUDY=<name>`` both run the tiny project's gdln)."""
    seen, distinct = set(), []
    for command in readme_commands():
        key = tuple(cheap(command, Path("/tmp")) or (command,))
        if command not in NOT_RUN and key not in seen:
            seen.add(key)
            distinct.append(command)
    return distinct


@pytest.mark.parametrize("command", distinct_commands())
def test_each_readme_command_works(project: Path, tmp_path, command):
    args = cheap(command, tmp_path)
    if "report-check" in args and not shutil.which("chromium"):
        pytest.skip("no headless Chromium here (make browser)")
    proc = sh(project, *args, check=False, MPLBACKEND="Agg", LEARNSCOPE_CORES="")
    assert proc.returncode == 0, f"{command} -> {args}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    if "--report" in args:
        assert (tmp_path / "snakemake-report.html").stat().st_size > 10_000


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_each_readme_python_block_runs(project: Path, index):
    code = python_blocks()[index]
    for old, new in SUBSTITUTIONS.items():
        code = code.replace(old, new)
    proc = sh(project, sys.executable, "-c", code, check=False, MPLBACKEND="Agg")
    assert proc.returncode == 0, f"{code}\n{proc.stderr[-2000:]}"


def test_cheap_variants():
    tmp = Path("/tmp")
    assert cheap("make run STUDY=<name>", tmp) == ["make", "-o", ".venv/.installed", "run", "STUDY=gdln"]
    assert cheap("make run STUDY=leap", tmp)[-1] == "STUDY=gdln" and cheap("make run CORES=N", tmp)[-1] == "CORES=8"
    assert cheap('make run TORCH="torch==2.13.0+cu126"', tmp)[:5] == ["make", "-n", "-o", ".venv/.installed", "run"]
    assert cheap("dvc exp run -S parity.train.lr=3.0e-3", tmp) == ["dvc", "exp", "run", "--dry", "-S",
                                                                  "parity.train.lr=3.0e-3"]
    assert cheap("snakemake --unlock", tmp) is None
    assert os.path.basename(cheap("learnscope status", tmp)[0]).startswith("python")
