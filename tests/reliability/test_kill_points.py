"""SIGKILL at named points of every stage (``learnscope.faults``) and at seeded random times:
no file at a final name is ever partial or wrong, the rerun resumes training from the last
saved state (the step is checked) and every file comes out byte-identical to an
uninterrupted run. Stages run as their rules run them (tests/reliability/kill_driver.py);
the Snakemake/DVC side of a kill: test_pipeline_faults.py."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from reliability import kill_driver
from learnscope import store
from learnscope.pipeline import sweep_temporaries

DRIVER = Path(kill_driver.__file__)
TRAIN_LOGGER = "learnscope.train"

# (stage, failpoint, resume step the rerun must start from: None = not a training resume)
POINTS = [
    ("generate", "store.replace.dataset", None),
    ("train", "train.step@60", 59),            # mid-training, resume state saved every step here
    ("train", "store.replace.resume@3", "saved"),  # during the 3rd resume-file write
    ("train", "store.replace.checkpoints", "saved"),  # during seed 0's checkpoints.nc write
    ("train", "store.written.checkpoints", "saved"),  # seed 0's file complete, seed 1's not
    ("train", "store.written.curves@2", "saved"),     # every file written, resume file not yet deleted
    ("features", "store.replace.features", None),
    ("features", "store.written.features", None),
    ("distill", "store.replace.tree", None),
    ("distill", "store.written.text", None),
    ("study", "store.replace.summary", None),
    ("study", "store.replace.json", None),
    ("study", "store.replace.figure@2", None),
]
RANDOM_KILLS = [(stage, seed) for seed, stage in enumerate(("train", "features", "distill"))]


@contextlib.contextmanager
def cwd(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in ("data", "results") for p in sorted((root / d).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """Every stage run once, uninterrupted, in-process."""
    root = tmp_path_factory.mktemp("reference")
    with cwd(root):
        for stage in kill_driver.STAGES:
            kill_driver.run_stage(stage)
    return root


def before_stage(reference: Path, stage: str, root: Path) -> None:
    """``root`` as it was when ``stage`` started: the reference minus this stage's and later outputs."""
    shutil.copytree(reference, root)
    for later in kill_driver.STAGES[kill_driver.STAGES.index(stage):]:
        for path in kill_driver.outputs(later):
            (root / path).unlink()


def start(root: Path, stage: str, failpoint: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "LEARNSCOPE_RESUME_EVERY_S": "0", "PYTHONPATH": os.pathsep.join(sys.path)}
    if failpoint:
        env["LEARNSCOPE_FAILPOINT"] = failpoint
    return subprocess.Popen([sys.executable, str(DRIVER), stage], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def check_after_kill(root: Path, reference: Path) -> None:
    """What a kill may leave: files identical to the uninterrupted run's, or none; hidden
    temporaries beside them (never at a final name) are swept by the next pipeline run."""
    want, got = file_hashes(reference), file_hashes(root)
    final = {p: h for p, h in got.items() if ".tmp" not in Path(p).name}
    wrong = [p for p, h in final.items() if want.get(p) != h]
    assert not wrong, f"files that look complete but are not the uninterrupted run's: {wrong}"


def resume_step_on_disk(root: Path) -> int | None:
    path = root / store.resume_path("parity-sparse_parity-w16")
    if not path.exists():
        return None
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return int(ds.attrs["step"])


def rerun(root: Path, stage: str, reference: Path, caplog) -> str:
    """Rerun the stage in-process (no failpoint) and compare every file; return the train log."""
    sweep_temporaries(root)  # as the next `make run` does first
    caplog.clear()
    with cwd(root), caplog.at_level(logging.INFO, logger=TRAIN_LOGGER):
        kill_driver.run_stage(stage)
    later = {p for st in kill_driver.STAGES[kill_driver.STAGES.index(stage) + 1:] for p in kill_driver.outputs(st)}
    expected = {p: h for p, h in file_hashes(reference).items() if p not in later}
    assert file_hashes(root) == expected, "rerun is not byte-identical"
    assert resume_step_on_disk(root) is None, "the resume file must be deleted when training ends"
    return caplog.text


@pytest.mark.parametrize("stage, failpoint, resume", POINTS, ids=[p[1] for p in POINTS])
def test_a_kill_at_a_named_point_loses_nothing(stage, failpoint, resume, reference, tmp_path, caplog):
    root = tmp_path / "project"
    before_stage(reference, stage, root)
    proc = start(root, stage, failpoint)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"the failpoint was not reached:\n{err[-3000:]}"
    check_after_kill(root, reference)
    saved = resume_step_on_disk(root)
    if resume == 59:
        assert saved == 59
    log = rerun(root, stage, reference, caplog)
    if resume is not None:
        assert saved is not None and f"resuming from step {saved}" in log, log


@pytest.mark.parametrize("stage, seed", RANDOM_KILLS, ids=[f"{s}-{k}" for s, k in RANDOM_KILLS])
def test_a_kill_at_a_random_time_loses_nothing(stage, seed, reference, tmp_path, caplog):
    """SIGKILL after a seeded random delay: anywhere, a netCDF write in progress included."""
    root = tmp_path / "project"
    before_stage(reference, stage, root)
    proc = start(root, stage)
    time.sleep(random.Random(seed).uniform(1.0, 4.0))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=300)
    check_after_kill(root, reference)
    saved = resume_step_on_disk(root)
    log = rerun(root, stage, reference, caplog)
    if saved:
        assert f"resuming from step {saved}" in log
