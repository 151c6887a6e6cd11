"""The SLURM profile on a real single-node SLURM (``make test-cluster``; not part of ``make test``).

cluster/slurm/up.sh starts slurmctld, slurmd, munge and slurmdbd (for sacct) from Debian's
packages on this machine; the tiny pipeline then runs twice in two fresh projects, once
locally (``dvc repro``) and once with ``make run PROFILE=slurm`` (every job submitted through
snakemake-executor-plugin-slurm), and the two must agree to the byte: every file under data/
and results/, and dvc.lock's record of them (all but Snakemake's own .snakemake/metadata,
whose job times differ between any two runs). sacct must show every submitted job, completed.
Needs root.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline_tools import REPO, TINY, hashes, make_project, make_run, sh

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    state = tmp_path_factory.mktemp("slurm")
    subprocess.run([str(REPO / "cluster/slurm/up.sh"), str(state)], check=True)
    try:
        yield state
    finally:
        subprocess.run([str(REPO / "cluster/slurm/down.sh"), str(state)], check=False)


def recorded(project: Path) -> dict:
    """dvc.lock without Snakemake's bookkeeping (.snakemake/metadata: job start and end times)."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    stage = lock["stages"]["pipeline"]
    stage["outs"] = [out for out in stage["outs"] if out["path"] != ".snakemake/metadata"]
    return lock


def accounted(since: str) -> list[dict[str, str]]:
    """The jobs sacct knows that started after ``since`` (allocations only, not their steps)."""
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-S", since, "-o", "JobID,JobName,State,Comment%200"],
                         capture_output=True, text=True, check=True).stdout
    return [dict(zip(("id", "name", "state", "comment"), line.split("|"))) for line in out.splitlines() if line]


def test_the_tiny_pipeline_on_slurm_matches_a_local_run_to_the_byte(slurm, tmp_path):
    since = subprocess.run(["date", "+%Y-%m-%dT%H:%M:%S"], capture_output=True, text=True).stdout.strip()
    cluster = make_project(tmp_path / "cluster", TINY, tmp_path / "remote-cluster")
    ran = sh(cluster, "dvc", "repro", LEARNSCOPE_PROFILE="slurm")
    submitted = ran.stdout.count("has been submitted with SLURM jobid") + ran.stderr.count("has been submitted with SLURM jobid")
    print(f"jobs submitted to SLURM: {submitted}")

    local = make_project(tmp_path / "local", TINY, tmp_path / "remote-local")
    make_run(local)

    files = hashes(local)
    assert files and hashes(cluster) == files, "a file differs between the SLURM and the local run"
    outs = {out["path"] for out in recorded(local)["stages"]["pipeline"]["outs"]}
    assert outs == {"data", "results/metrics.json", "results/report", "results/runs", "results/studies"}
    assert recorded(cluster) == recorded(local)
    assert "Data and pipelines are up to date" in sh(cluster, "dvc", "status").stdout

    jobs = accounted(since)
    print(f"sacct: {len(jobs)} jobs, states {sorted({job['state'] for job in jobs})}")
    for job in jobs[:3]:
        print(f"  {job['id']} {job['state']} {job['comment']}")
    assert submitted > 0 and len(jobs) == submitted
    assert all(job["state"] == "COMPLETED" for job in jobs)
    rules = {job["comment"].split("_wildcards")[0].removeprefix("rule_") for job in jobs}
    kinds = {rule.split("_")[0] for rule in rules}
    assert {"generate", "train", "features", "study"} <= kinds and "report" not in kinds  # report: a local rule
