"""Sharing through the DVC remote (the session's tiny project): a pull that lacks an object
names the missing file (``learnscope.share``; DVC alone names only its md5), and after ``dvc checkout`` of an older commit Snakemake and DVC
agree nothing is to be done. (Push + fresh clone + pull: tests/test_pipeline.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from pipeline_tools import hashes, planned_jobs, sh, write_params

pytestmark = pytest.mark.pipeline
CHECKPOINTS = "results/runs/parity-sparse_parity-w16-s0/checkpoints.nc"


def remote_of(repo: Path) -> Path:
    return Path(sh(repo, "dvc", "remote", "list", "--local").stdout.split()[1])


def commit_results(repo: Path, message: str) -> str:
    sh(repo, "dvc", "push")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "--allow-empty", "-m", message)
    return sh(repo, "git", "rev-parse", "HEAD").stdout.strip()


def test_a_pull_missing_a_remote_object_names_the_file(pipeline_repo: Path, tmp_path: Path):
    commit_results(pipeline_repo, "results to share")
    remote = remote_of(pipeline_repo)
    md5 = hashlib.md5((pipeline_repo / CHECKPOINTS).read_bytes()).hexdigest()
    stored = remote / "files" / "md5" / md5[:2] / md5[2:]
    kept = stored.read_bytes()
    stored.unlink()
    try:
        clone = tmp_path / "clone"
        sh(tmp_path, "git", "clone", "-q", str(pipeline_repo), str(clone))
        sh(clone, "dvc", "remote", "add", "--local", "-d", "test", str(remote))
        proc = sh(clone, "python", "-m", "learnscope.share", "pull", check=False)  # what `make pull` runs
        assert proc.returncode != 0
        assert CHECKPOINTS in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert not (clone / CHECKPOINTS).exists()
    finally:
        stored.write_bytes(kept)


def test_checkout_of_an_older_commit_leaves_both_tools_agreeing(pipeline_repo: Path):
    branch = sh(pipeline_repo, "git", "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    older = commit_results(pipeline_repo, "older results")
    files = hashes(pipeline_repo)
    params = yaml.safe_load((pipeline_repo / "params.yaml").read_text())
    params["trees"]["n_eval"] = params["trees"]["n_eval"] // 2
    write_params(pipeline_repo, params)
    sh(pipeline_repo, "dvc", "repro")
    newer = commit_results(pipeline_repo, "newer results")
    assert hashes(pipeline_repo) != files
    for commit, expected in ((newer, None), (older, files)):
        sh(pipeline_repo, "git", "checkout", "-q", commit)
        sh(pipeline_repo, "dvc", "checkout", "--force")
        assert planned_jobs(pipeline_repo) == {}, commit
        assert "up to date" in sh(pipeline_repo, "dvc", "status").stdout, commit
        if expected is not None:
            assert hashes(pipeline_repo) == expected
    sh(pipeline_repo, "git", "checkout", "-q", "-B", branch, older)  # the project stays at the older results
