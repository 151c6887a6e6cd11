"""The ``learnscope`` command: every subcommand on the tiny pipeline's project (read-only
there), ``--help`` everywhere, and bad arguments answered in one line with exit status 2;
``learnscope.open``; ``compare`` of two git revisions and a DVC experiment in a scratch repo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import learnscope
from learnscope import store
from learnscope.cli import main
from learnscope.compare import claims_diff, flatten
from learnscope.status import dvc_changes, parse_dry_run, summary
from pipeline_tools import edited, sh

COMMANDS = ["run", "status", "show", "compare", "studies", "open", "check", "runs", "plots"]
RUN0, RUN1 = "parity-sparse_parity-w16-s0", "parity-sparse_parity-w16-s1"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The command in its own process: exit status and stderr as a user sees them."""
    return sh(cwd, sys.executable, "-m", "learnscope", *args, check=False)


@pytest.fixture
def inproc(monkeypatch, capsys):
    """The command in this process (no interpreter and torch start-up per call), in ``cwd``."""
    def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("PYTHONPATH", str(cwd / "src"))  # what Snakemake imports, as in pipeline_tools.env
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return run


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_the_entry_point_is_installed_and_every_command_has_help(tmp_path):
    assert (Path(sys.executable).parent / "learnscope").exists()  # [project.scripts]
    top = cli(tmp_path, "--help")
    assert top.returncode == 0 and all(command in top.stdout for command in COMMANDS)
    for command in COMMANDS:
        out = cli(tmp_path, command, "--help")
        assert out.returncode == 0 and out.stdout.startswith(f"usage: learnscope {command}"), command


@pytest.mark.parametrize("args, says", [
    ((), "the following arguments are required: command"),
    (("fly",), "invalid choice: 'fly'"),
    (("show",), "the following arguments are required: PATH_OR_RUN"),
    (("compare", "a"), "the following arguments are required: B"),
    (("open", "a", "b"), "unrecognized arguments: b"),
    (("show", "nosuch-run"), "nosuch-run: no such run under results/runs"),
    (("show", "results/nosuch.nc"), "results/nosuch.nc: no such file"),
    (("open", "nosuch-run"), "nosuch-run: no such run"),
    (("compare", RUN0, "nosuch-run"), "nosuch-run: no such run"),
    (("compare", "nosuch-rev", "HEAD"), "nosuch-rev: not a run under results/runs, a git revision"),
    (("run", "nosuch"), "nosuch is not a study of params.yaml"),
    (("plots", "nosuch-rev"), "dvc plots diff nosuch-rev:"),
    (("run", "--profile", "moon"), "PROFILE=moon: no profiles/moon/config.yaml"),
    (("run", "--cores", "0"), "CORES=0: must be a whole number of cores ≥ 1"),
])
def test_bad_arguments_get_one_line_and_status_2(pipeline_repo: Path, args, says):
    assert says in one_line_error(cli(pipeline_repo, *args))


def test_a_foreign_nc_file_is_refused_in_one_line(pipeline_repo: Path, tmp_path):
    bad = tmp_path / "notes.nc"
    bad.write_text("not netCDF")
    assert "not a readable netCDF4 file" in one_line_error(cli(pipeline_repo, "show", str(bad)))


def test_bad_params_are_named_before_anything_runs(tmp_path):
    (tmp_path / "params.yaml").write_text("parity:\n  seeds: [0]\n  widths: lots\n")
    assert "params.yaml: parity" in one_line_error(cli(tmp_path, "run"))
    assert "params.yaml" in one_line_error(cli(tmp_path, "studies"))


def test_show_a_file_and_a_run(pipeline_repo: Path, inproc):
    out = inproc(pipeline_repo, "show", store.run_path(RUN0, "curves.nc"))
    assert out.returncode == 0, out.stderr
    curves = xr.open_dataset(pipeline_repo / store.run_path(RUN0, "curves.nc"))
    assert f"learnscope curves file of run {RUN0}" in out.stdout and f"step {curves.sizes['step']}" in out.stdout
    assert f"test_acc = {float(curves.test_acc[-1]):.4g} at step {int(curves.step[-1])}" in out.stdout
    inputs = len(json.loads(curves.attrs["inputs_json"]))
    assert f"provenance: learnscope 0.1.0, format 1, {inputs} input file(s) hashed" in out.stdout
    summary_nc = inproc(pipeline_repo, "show", store.study_path("gdln", "summary.nc"))
    assert summary_nc.returncode == 0 and "summary file of study gdln" in summary_nc.stdout
    run = inproc(pipeline_repo, "show", RUN0)
    assert run.returncode == 0 and f"run {RUN0}" in run.stdout and "checkpoints.nc (" in run.stdout
    assert '"seed": 0' in run.stdout


def test_compare_two_runs_names_the_params_that_differ(pipeline_repo: Path, inproc):
    out = inproc(pipeline_repo, "compare", RUN0, RUN1)
    assert out.returncode == 0, out.stderr
    diff = out.stdout.split("params that differ:")[1].split("final curves:")[0].strip().splitlines()
    assert diff == [f"seed: 0 in {RUN0}, 1 in {RUN1}"]
    assert "test_acc:" in out.stdout


def test_studies_lists_each_study_with_its_verdicts(pipeline_repo: Path, inproc):
    out = inproc(pipeline_repo, "studies")
    assert out.returncode == 0, out.stderr
    metrics = json.loads((pipeline_repo / store.METRICS_PATH).read_text())
    lines = {line.split(":")[0]: line for line in out.stdout.splitlines()}
    assert set(lines) == set(metrics)
    gdln = metrics["gdln"]["claims"][0]
    assert f"{gdln['key']} {gdln['verdict']}" in lines["gdln"] and "gates be solved exactly?" in lines["gdln"]


def test_open_returns_the_runs_files_as_one_tree(pipeline_repo: Path, inproc):
    tree = learnscope.open(RUN0, root=pipeline_repo)
    assert set(tree.children) == {"checkpoints", "curves", "features", "tree"}
    assert tree.attrs["run"] == RUN0 and json.loads(tree.attrs["params_json"])["seed"] == 0
    curves = xr.open_dataset(pipeline_repo / store.run_path(RUN0, "curves.nc"))
    assert (tree["curves"].test_loss.values == curves.test_loss.values).all()
    out = inproc(pipeline_repo, "open", RUN0)
    assert out.returncode == 0 and "Group: /checkpoints" in out.stdout


def test_status_says_nothing_to_do_then_names_an_edited_module(pipeline_repo: Path, inproc):
    out = inproc(pipeline_repo, "status")
    assert out.returncode == 0, out.stderr
    assert "nothing to be done" in out.stdout
    with edited(pipeline_repo, "studies/gdln/figures.py"):
        out = inproc(pipeline_repo, "status")
    assert "code changed since the last recorded run (dvc.lock): src/learnscope (modified)" in out.stdout
    gdln = next(line for line in out.stdout.splitlines() if line.strip().startswith("gdln:"))
    assert "1 study" in gdln and "input files changed (1)" in gdln
    assert "changed: src/learnscope/studies/gdln/figures.py" in gdln


# ---- parts, on planted inputs ------------------------------------------------------------
DRY_RUN = """
rule train_parity_sparse_parity_w16:
    input: data/parity/sparse_parity.nc, src/learnscope/train.py
    output: results/runs/parity-sparse_parity-w16-s0/curves.nc
    reason: Updated input files: src/learnscope/train.py; Params have changed since last execution
    resources: tmpdir=/tmp

rule generate:
    output: data/leap/leap1_d8.nc
    wildcards: study=leap, task=leap1_d8
    reason: Missing output files: data/leap/leap1_d8.nc

localrule study_parity:
    reason: Input files updated by another job: results/runs/parity-sparse_parity-w16-s0/curves.nc

localrule all:
    reason: Input files updated by another job: results/metrics.json
"""


def test_the_dry_run_is_read_job_by_job_and_grouped_by_study():
    jobs = parse_dry_run(DRY_RUN)
    assert [job.rule for job in jobs] == ["train_parity_sparse_parity_w16", "generate", "study_parity", "all"]
    assert jobs[0].reasons == ["input files changed", "params changed"]
    assert jobs[0].changed_inputs == ["src/learnscope/train.py"] and jobs[1].study == "leap"
    text = summary(jobs, ["parity", "leap"], {"parity_sparse_parity_w16": "parity"}, ["parity.seeds (modified)"], [])
    assert text.splitlines() == [
        "params changed since the last recorded run (dvc.lock): parity.seeds (modified)",
        "3 job(s) would run:",
        "  parity: 1 train, 1 study — input files changed (1), params changed (1), an upstream job reruns (1); "
        "changed: src/learnscope/train.py",
        "  leap: 1 generate — outputs missing (1)"]


def test_dvc_status_names_params_keys_and_code():
    status = json.dumps({"dvc.yaml:pipeline": [{"changed deps": {"src/learnscope": "modified",
                                                                 "params.yaml": {"leap.dims": "modified"}}}]})
    assert dvc_changes(status) == (["leap.dims (modified)"], ["src/learnscope (modified)"])
    assert dvc_changes("{}") == ([], [])


def git(cwd: Path, *args: str) -> str:
    return sh(cwd, "git", *args).stdout.strip()


def test_compare_two_revisions_and_a_dvc_experiment(tmp_path):
    claim = {"key": "nfa_corr", "claim": "c", "paper": "p", "value": 0.88, "range": [0.8, 0.9], "verdict": "does not hold"}
    git(tmp_path, "init", "-q")
    for lr, value, verdict in (("1.0e-3", 0.88, "does not hold"), ("1.0e-2", 0.93, "holds")):
        (tmp_path / "params.yaml").write_text(f"parity:\n  train:\n    lr: {lr}\n")
        (tmp_path / "results").mkdir(exist_ok=True)
        metrics = {"parity": {"claims": [dict(claim, value=value, verdict=verdict),
                                         dict(claim, key="support_recovered", value=1.0, verdict="holds")]}}
        (tmp_path / store.METRICS_PATH).write_text(json.dumps(metrics))
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", lr)
    git(tmp_path, "update-ref", "refs/exps/ab/cdef0123/bigger-lr", "HEAD")
    out = cli(tmp_path, "compare", "HEAD~1", "bigger-lr")
    assert out.returncode == 0, out.stderr
    assert "parity.train.lr: 0.001 in HEAD~1, 0.01 in bigger-lr" in out.stdout
    assert "parity.nfa_corr: 0.88 (does not hold) -> 0.93 (holds)" in out.stdout
    assert "1 claim(s) unchanged" in out.stdout
    (tmp_path / "params.yaml").write_text("parity:\n  train:\n    lr: 1.0e-1\n")
    assert "0.01 in HEAD, 0.1 in workspace" in cli(tmp_path, "compare", "HEAD", "workspace").stdout


def test_flatten_and_claims_diff():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": None}) == {"a.b": 1, "a.c": [1, 2], "d": None}
    claim = {"key": "k", "value": 1.0, "range": [1.0, 1.0], "verdict": "holds"}
    assert claims_diff({"s": {"claims": [claim]}}, {"s": {"claims": []}}) == ["  s.k: only in the first",
                                                                              "  0 claim(s) unchanged"]


def test_cores_come_from_make_run_cores(monkeypatch):
    from learnscope.errors import ConfigError
    from learnscope.pipeline import cores_option

    monkeypatch.delenv("LEARNSCOPE_CORES", raising=False)
    assert cores_option() == []
    monkeypatch.setenv("LEARNSCOPE_CORES", "8")
    assert cores_option() == ["--cores", "8"]
    monkeypatch.setenv("LEARNSCOPE_CORES", "lots")
    with pytest.raises(ConfigError, match="CORES=lots: must be a whole number"):
        cores_option()


def test_profiles_come_from_make_run_profile(monkeypatch):
    from learnscope.errors import ConfigError
    from learnscope.pipeline import profile_option

    from pipeline_tools import REPO

    monkeypatch.delenv("LEARNSCOPE_PROFILE", raising=False)
    assert profile_option(REPO) == ["--profile", "profiles/default"]
    monkeypatch.setenv("LEARNSCOPE_PROFILE", "slurm")  # the workflow's own profile (default) must not override it
    assert profile_option(REPO) == ["--profile", "profiles/slurm", "--workflow-profile", "none"]
    monkeypatch.setenv("LEARNSCOPE_PROFILE", "moon")
    with pytest.raises(ConfigError, match="PROFILE=moon: no profiles/moon/config.yaml; known: default, gpu, slurm"):
        profile_option(REPO)


def test_plots_draws_every_studys_main_curves_offline(pipeline_repo: Path, inproc, tmp_path):
    from learnscope.studies.plots import dvc_plots

    page = tmp_path / "plots.html"
    out = inproc(pipeline_repo, "plots", "--out", str(page))
    assert out.returncode == 0, out.stderr
    text = page.read_text()
    drawn = text.count("<section>")
    declared = [next(iter(entry)) for entry in dvc_plots()]
    # the tiny params run 6 of the 8 studies, and attention's MLP at no n: DVC draws tables with rows
    shown = [path for path in declared if (pipeline_repo / path).exists()
             and len((pipeline_repo / path).read_text().splitlines()) > 1]
    assert drawn == len(shown) and f"{drawn} plot(s) of workspace" in out.stdout
    assert text.count("<svg") >= drawn and "Content-Security-Policy" in text
    assert "cdn." not in text and "<script" not in text  # nothing to fetch, nothing to run
    assert all(f"<h2>{path}</h2>" in text for path in shown)
    # beside a revision that has no results (the tiny project's commit precedes its run)
    versus = inproc(pipeline_repo, "plots", "HEAD", "--out", str(page))
    assert versus.returncode == 0, versus.stderr
    assert "of workspace, HEAD" in versus.stdout and "at HEAD</li>" in page.read_text()


def test_the_sweep_view_shows_progress_and_the_longest_running_jobs(tmp_path):
    import base64
    import os

    from learnscope.status import run_in_progress, sweep_view

    (tmp_path / ".snakemake/log").mkdir(parents=True)
    (tmp_path / ".snakemake/log/2026-01-01T000000.snakemake.log").write_text(
        "1 of 10 steps (10%) done\n3 of 10 steps (30%) done\n")
    (tmp_path / ".snakemake/incomplete").mkdir()
    for name, started in (("results/runs/a-s0/curves.nc", 1000.2), ("results/runs/a-s0/checkpoints.nc", 1000.4),
                          ("data/leap/x.nc", 1100.0)):
        marker = tmp_path / ".snakemake/incomplete" / base64.b64encode(name.encode()).decode()
        marker.write_text("")
        os.utime(marker, (started, started))
    assert sweep_view(tmp_path, now=1190.0) == ["a run is in progress: 3 of 10 steps (30%) done",
                                                "  running for 3m10s: results/runs/a-s0/checkpoints.nc (+1 more files)",
                                                "  running for 1m30s: data/leap/x.nc"]
    assert not run_in_progress(tmp_path)
