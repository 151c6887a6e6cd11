"""Faults injected into the real pipeline (Snakemake + DVC, the session's tiny project): a
deleted output, a job killed alone (the OOM killer), the whole run SIGKILLed during
training, a second run started beside a first. After each: nothing that looks complete is
wrong, ``dvc repro`` (what ``make run`` runs) needs no manual unlock and rebuilds every
file byte-identical to before, dvc.lock never records a loss, and both tools agree nothing
is left to do. Failpoints: ``learnscope.faults``."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from learnscope.pipeline import run_lock
from pipeline_tools import env, hashes, make_run, planned_jobs, sh

pytestmark = pytest.mark.pipeline
RUN = "results/runs/parity-sparse_parity-w16-s0"
GROUP_FILES = [f"results/runs/parity-sparse_parity-w16-s{seed}/{name}" for seed in (0, 1)
               for name in ("checkpoints.nc", "curves.nc")]


def lock_outs(repo: Path) -> dict[str, str]:
    """dvc.lock's recorded hash of every output but .snakemake/metadata (run times)."""
    outs = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["pipeline"]
    entries = outs.get("outs", []) + outs.get("metrics", [])
    return {o["path"]: o.get("md5") or o.get("hash") for o in entries if o["path"] != ".snakemake/metadata"}


@pytest.fixture
def baseline(pipeline_repo: Path) -> dict:
    """The project's files and lock before a fault; the test must end back there."""
    assert planned_jobs(pipeline_repo) == {}, "the shared project must start with nothing to do"
    return {"files": hashes(pipeline_repo), "lock": lock_outs(pipeline_repo)}


def assert_recovered(repo: Path, baseline: dict) -> None:
    """Rebuilt byte-identical, dvc.lock as before, both tools agree nothing is to do."""
    files = hashes(repo)
    assert files.keys() == baseline["files"].keys(), set(files) ^ set(baseline["files"])
    changed = [p for p in files if files[p] != baseline["files"][p]]
    assert not changed, f"not byte-identical after recovery: {changed}"
    assert lock_outs(repo) == baseline["lock"]
    assert "up to date" in sh(repo, "dvc", "status").stdout
    assert planned_jobs(repo) == {}


def assert_nothing_wrong_looks_complete(repo: Path, baseline: dict, temporaries_allowed: bool = False) -> None:
    """Every file left at a final name is the complete, correct one. A write killed before
    its rename leaves a hidden temporary (``.<name>.tmp<pid>``), which the next run sweeps
    (``assert_recovered`` then finds no extra file)."""
    files = {p: h for p, h in hashes(repo).items() if ".tmp" not in Path(p).name}
    wrong = [p for p, h in files.items() if baseline["files"].get(p) != h]
    assert not wrong, f"files that look complete but differ from an uninterrupted run: {wrong}"
    temporaries = [p for d in ("data", "results") for p in (repo / d).rglob(".*.tmp*")]
    assert temporaries_allowed or not temporaries, temporaries


def killed_run(repo: Path, failpoint: str, scope: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``dvc repro`` (or ``args``) in its own session with a failpoint armed."""
    extra = {"LEARNSCOPE_FAILPOINT": failpoint, "LEARNSCOPE_FAILPOINT_SCOPE": scope, "LEARNSCOPE_RESUME_EVERY_S": "0"}
    return subprocess.run(args or ("dvc", "repro"), cwd=repo, env=env(repo, **extra), capture_output=True,
                          text=True, start_new_session=True)


def test_a_deleted_output_is_rebuilt_even_after_a_job_killed_alone(pipeline_repo: Path, baseline: dict):
    """``rm checkpoints.nc``, then the run's features job dies (SIGKILL, the OOM killer) with
    seed 0's new features.nc renamed into place and seed 1's still a temporary: the run fails,
    DVC keeps the old lock and the git-tracked metrics.json; the next run rebuilds all."""
    metrics = (pipeline_repo / "results/metrics.json").read_bytes()
    (pipeline_repo / RUN / "checkpoints.nc").unlink()
    proc = killed_run(pipeline_repo, "store.replace.features@2", "job")
    assert proc.returncode != 0
    assert "Nothing to be done" not in proc.stdout + proc.stderr
    assert lock_outs(pipeline_repo) == baseline["lock"]
    assert (pipeline_repo / "results/metrics.json").read_bytes() == metrics
    assert_nothing_wrong_looks_complete(pipeline_repo, baseline, temporaries_allowed=True)
    sh(pipeline_repo, "dvc", "repro")
    assert_recovered(pipeline_repo, baseline)


def test_a_run_killed_during_training_resumes_without_unlock(pipeline_repo: Path, baseline: dict):
    """SIGKILL to dvc, Snakemake and the train job at step 99 of 120 (resume state saved every
    step here): the next ``dvc repro`` clears Snakemake's stale locks, resumes at step 99
    and ends byte-identical."""
    for path in GROUP_FILES:
        (pipeline_repo / path).unlink()
    proc = killed_run(pipeline_repo, "train.step@100", "run")
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert any((pipeline_repo / ".snakemake/locks").iterdir()), "the kill should leave Snakemake's locks"
    assert_nothing_wrong_looks_complete(pipeline_repo, baseline)
    out = sh(pipeline_repo, "dvc", "repro")
    assert "stale Snakemake lock" in out.stdout + out.stderr
    log = (pipeline_repo / "logs/train/parity-sparse_parity-w16.log").read_text()
    assert "resuming from step 99" in log, log[-2000:]
    assert_recovered(pipeline_repo, baseline)


def test_a_second_run_beside_a_running_one_is_refused(pipeline_repo: Path, baseline: dict):
    with run_lock(pipeline_repo):
        proc = sh(pipeline_repo, "python", "-m", "learnscope.pipeline", check=False)
    assert proc.returncode == 2
    assert f"pid {os.getpid()}" in proc.stderr and "another learnscope run" in proc.stderr
    assert hashes(pipeline_repo) == baseline["files"]


@pytest.mark.parametrize("edit, key", [
    (lambda text: text.replace("    lr: 0.01\n", "    lr: 0.01\n    lr: 0.02\n", 1), "parity.train.lr"),
    (lambda text: text.replace("family: sparse_parity", "family: [sparse_parity]", 1), "family"),
    (lambda text: text.replace("threads: 1", "threads: 1\n  max_memory_gb: 1.0e-6", 1), "compute.max_memory_gb"),
], ids=["duplicate-key", "list-for-name", "beyond-a-resource-bound"])
def test_bad_params_stop_a_run_before_any_job_and_delete_nothing(pipeline_repo: Path, baseline: dict, edit, key):
    """`make run` with a bad params.yaml: one line naming the key, no job, no output deleted
    (DVC deletes non-persistent outputs before a stage)."""
    path = pipeline_repo / "params.yaml"
    text = path.read_text()
    path.write_text(edit(text))
    try:
        proc = make_run(pipeline_repo, check=False)
    finally:
        path.write_text(text)
    assert proc.returncode != 0 and key in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Job stats" not in proc.stdout  # Snakemake planned no job
    assert hashes(pipeline_repo) == baseline["files"] and lock_outs(pipeline_repo) == baseline["lock"]
