"""What each job asks a scheduler for (Snakemake ``resources``: ``mem_mb``, ``runtime`` in
minutes, ``gpu``), estimated from its params before anything runs.

The local executor (``make run``) only uses them to pack jobs under ``--resources`` when a
profile sets totals (profiles/gpu: one GPU); on SLURM (profiles/slurm) each job is submitted
with them, so they are generous upper bounds: a job that outgrows its request is killed.

From ``learnscope.limits``' per-group sketches (memory and floating-point work of a training
group, memory of a distillation):

- a training or features job: ``mem_mb`` = 1 GiB (Python, torch, xarray) + 2 x the group's
  memory estimate; ``runtime`` = 10 min + 3 x the group's work at ``FLOP_PER_THREAD`` per
  second per thread (the features job measures the same snapshots: the same bound);
- a distillation job: 1 GiB + 2 x its estimate, 30 min;
- a study, sources or dataset job: 4 GiB, 60 min (reads and tabulates files; a study's
  sources job may fit a kernel machine).

``gpu``: the Snakemake config value ``gpus_per_job`` (default 0), set by a profile
(profiles/gpu sets 1): each job that runs torch (train, features, sources) asks for that many.
"""

from __future__ import annotations

import math

from learnscope import limits
from learnscope.errors import ConfigError

MiB = 2**20
BASE_MB = 1024
FLOP_PER_THREAD = 1e10  # a conservative CPU rate; a GPU is far faster, so the bound holds there
STUDY_JOB = {"mem_mb": 4096, "runtime": 60}


def _mb(amount_bytes: float) -> int:
    """Whole MiB, rounded up to 256 MiB."""
    return int(math.ceil((BASE_MB + 2 * amount_bytes / MiB) / 256) * 256)


def group_resources(params) -> dict[str, dict[str, dict[str, int]]]:
    """Group name -> job kind (``train``, ``features``, ``distill``) -> its resources (no gpu)."""
    threads = params.compute.threads
    out = {}
    for group, found in limits.group_estimates(params).items():
        minutes = 10 + math.ceil(3 * found["flop"].total / (FLOP_PER_THREAD * threads) / 60)
        job = {"mem_mb": _mb(found["memory"].total), "runtime": minutes}
        spec = params.runs[params.groups[group][0]]
        distill = found.get("distill_memory") or limits.distill_memory(params, spec, found["memory"])
        out[group] = {"train": job, "features": dict(job), "distill": {"mem_mb": _mb(distill.total), "runtime": 30}}
    return out


def gpus(config: dict) -> int:
    """GPUs per torch job, from Snakemake's config (``gpus_per_job``, set by a profile)."""
    value = config.get("gpus_per_job", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"gpus_per_job={value!r} (Snakemake config, set by the profile): "
                          "must be a whole number ≥ 0")
    return value
