"""``python -m learnscope.pipeline [study ...]``: run Snakemake safely, the way ``make run``
does (``dvc repro`` calls it; ``make run STUDY=...`` calls it directly).

Three promises on top of Snakemake:

- **One run at a time.** An exclusive ``flock`` on ``.snakemake/learnscope-run.lock`` is held
  for the whole run; a second run in the same folder is refused naming the holder's pid.
  The kernel drops the lock when its holder dies, even by SIGKILL.
- **No manual unlock after a kill.** Snakemake's own locks (``.snakemake/locks``) outlive a
  killed run and make every later run fail with "Directory cannot be locked". Holding the
  flock proves no learnscope run is alive; if no other Snakemake process works in this
  folder either (Linux: ``/proc``), the stale locks are removed and the run goes on.
  Snakemake's ``rerun-incomplete`` (in every profile) then redoes the killed jobs.
- **No litter.** Temporary files a killed writer left beside results are deleted first.
- **Nothing missing is reported as done.** Every file the params imply is requested
  (``learnscope.targets``), and after Snakemake succeeds each must exist: otherwise the
  run fails naming the missing files, so ``dvc repro`` never records a loss in dvc.lock.

A run of chosen studies then remakes the report and results/metrics.json from the studies'
files on disk (``report.refresh``), so they are never older than the studies just run.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path

from learnscope import report, store, targets
from learnscope.errors import ConfigError, LearnscopeError
from learnscope.params import load_params

log = logging.getLogger(__name__)
LOCK = ".snakemake/learnscope-run.lock"
SNAKEMAKE_LOCKS = ".snakemake/locks"
PROFILES_DIR = "profiles"
SWEPT_DIRS = (store.DATA_DIR, store.RUNS_DIR, store.STUDIES_DIR, store.REPORT_DIR, store.RESUME_DIR)


class RunLockedError(LearnscopeError):
    """Another learnscope or Snakemake run works in this folder."""


@contextlib.contextmanager
def run_lock(root: Path):
    """Hold the folder's run lock (non-blocking); RunLockedError names the holder."""
    path = root / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise RunLockedError(f"{path}: another learnscope run (pid {holder}) works in this folder; "
                                 "wait for it to end or stop it") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield


def other_snakemakes(root: Path) -> list[int]:
    """Pids of Snakemake processes other than ours whose working directory is ``root``."""
    found, ours = [], {os.getpid(), os.getppid()}
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if int(entry.name) not in ours and any(b"snakemake" in part for part in cmdline[:3]) \
                    and Path(os.readlink(entry / "cwd")) == root.resolve():
                found.append(int(entry.name))
    return sorted(found)


def clear_stale_locks(root: Path) -> None:
    """Remove Snakemake's locks left by a killed run (call while holding ``run_lock``)."""
    locks = [p for p in (root / SNAKEMAKE_LOCKS).glob("*") if p.is_file()]
    if not locks:
        return
    others = other_snakemakes(root)
    if others:
        raise RunLockedError(f"{root / SNAKEMAKE_LOCKS}: Snakemake (pid {', '.join(map(str, others))}) works in "
                             "this folder; wait for it to end or stop it")
    log.warning("removing %d stale Snakemake lock(s) left by a killed run", len(locks))
    for path in locks:
        path.unlink(missing_ok=True)


def sweep_temporaries(root: Path) -> list[Path]:
    """Delete the temporary files a killed writer left beside results (``.<name>.tmp<pid>...``,
    ``learnscope.atomic``; call while holding ``run_lock``: no writer is alive), so DVC never
    records them. Returns what was deleted."""
    swept = [p for folder in SWEPT_DIRS for p in (root / folder).rglob(".*.tmp[0-9]*")
             if p.is_file()]
    for path in swept:
        log.warning("removing %s, left by a killed write", path)
        path.unlink(missing_ok=True)
    return swept


def missing_outputs(root: Path, params, studies: list[str] | None) -> list[str]:
    return [path for path in targets.all_targets(params, studies) if not (root / path).exists()]


def cores_option() -> list[str]:
    """``--cores N`` from ``LEARNSCOPE_CORES`` (``make run CORES=N``; the profile's 2 otherwise).
    Jobs run in parallel, each on its params' ``compute.threads``: results do not depend on it."""
    cores = os.environ.get("LEARNSCOPE_CORES", "")
    if not cores:
        return []
    if not cores.isdigit() or int(cores) < 1:
        raise ConfigError(f"CORES={cores}: must be a whole number of cores ≥ 1, e.g. make run CORES=8")
    return ["--cores", cores]


def profile_option(root: Path = Path(".")) -> list[str]:
    """``--profile profiles/NAME`` from ``LEARNSCOPE_PROFILE`` (``make run PROFILE=slurm``;
    ``default`` otherwise): where jobs run changes no result, so DVC records the run alike."""
    name = os.environ.get("LEARNSCOPE_PROFILE") or "default"
    known = sorted(p.parent.name for p in (root / PROFILES_DIR).glob("*/config.yaml"))
    if name not in known:
        raise ConfigError(f"PROFILE={name}: no {PROFILES_DIR}/{name}/config.yaml; known: {', '.join(known)}")
    # Snakemake also reads profiles/default as the workflow's own profile, whose settings
    # would override the chosen one's (cores, executor...): not for another profile.
    return ["--profile", f"{PROFILES_DIR}/{name}", *(["--workflow-profile", "none"] if name != "default" else [])]


def run(studies: list[str], root: Path = Path(".")) -> int:
    """Run the pipeline (or only ``studies``) in ``root``; the exit status of the run."""
    params = load_params(root / "params.yaml")
    unknown = [s for s in studies if s not in params.studies]
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a study of params.yaml; known: {', '.join(params.studies)}")
    options = [*profile_option(root), *cores_option()]
    with run_lock(root):
        clear_stale_locks(root)
        sweep_temporaries(root)
        code = subprocess.call(["snakemake", *options, *studies], cwd=root)
        if code:
            return code
        missing = missing_outputs(root, params, studies or None)
        if studies and not missing:
            left_out = report.refresh(root, params)
            log.info("report and %s remade from the studies' files%s", store.METRICS_PATH,
                     f" (not built yet, left out: {', '.join(left_out)})" if left_out else "")
    if missing:
        raise LearnscopeError(f"{len(missing)} output(s) missing after the run, e.g. {missing[0]}; "
                              "rerun `make run`")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="learnscope: %(message)s")
    try:
        return run(list(sys.argv[1:] if argv is None else argv))
    except LearnscopeError as error:
        print(f"learnscope: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
