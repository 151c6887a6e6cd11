"""Helpers for tests that run the real pipeline in a temporary project (tests/test_pipeline.py,
tests/reliability/): copy the repo's pipeline files, init git + DVC with a temporary remote,
run commands, count planned jobs, hash results."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Tiny params for every study: the pipeline end to end in about a minute.
TINY = {
    "compute": {"device": "cpu", "threads": 1},
    "features": {"agop_samples": 256},
    "trees": {"max_depth": 2, "n_fit": 512, "n_eval": 512, "seed": 0},
    "parity": {
        "seeds": [0, 1], "widths": [16],
        "tasks": {"sparse_parity": {"family": "sparse_parity", "n_bits": 6, "k": 2,
                                    "n_train": 256, "n_test": 256}},
        "model": {"name": "mlp", "depth": 1, "activation": "relu", "init_scale": 1.0},
        "train": {"optimizer": "adam", "lr": 1.0e-2, "batch_size": 32, "steps": 120,
                  "n_snapshots": 6, "eval_every": 20},
    },
    "leap": {
        "seeds": [0, 1], "dims": [8, 16], "c": [0.25], "width": 32, "n_train": 64, "n_test": 256,
        "targets": {"leap1": {"monomials": [[0], [0, 1], [0, 1, 2]], "budget": 100.0},
                    "leap3": {"monomials": [[0, 1, 2]], "budget": 10.0, "budget_power": 2.0, "c": [0.25, 0.5]}},
        "model": {"name": "mlp", "depth": 1, "activation": "relu", "parametrization": "mean_field"},
        "train": {"optimizer": "sgd", "batch_size": 2, "n_snapshots": 8, "n_evals": 40},
    },
    "algebra": {
        "seeds": [0, 1],
        "margin": {"task": {"family": "modular_addition", "p": 5},
                   "model": {"name": "mlp", "activation": "quadratic", "bias": False}, "width": 16,
                   "train": {"lr": 1.0e-2, "neuron_penalty": 1.0e-4, "full_batch": True, "steps": 60,
                             "n_snapshots": 5, "eval_every": 10}},
        "irreps": {"task": {"family": "group_composition", "group": "symmetric:3"},
                   "model": {"name": "mlp", "activation": "quadratic", "bias": False}, "width": 16,
                   "train": {"lr": 1.0e-2, "neuron_penalty": 1.0e-4, "full_batch": True, "steps": 60,
                             "n_snapshots": 5, "eval_every": 10}},
        "grokking": {"task": {"family": "modular_addition", "p": 7, "train_fraction": 0.5},
                     "model": {"name": "embed_mlp", "embed_dim": 8}, "width": 16,
                     "train": {"optimizer": "adamw", "lr": 1.0e-2, "weight_decay": 1.0, "betas": [0.9, 0.98],
                               "full_batch": True, "steps": 60, "n_snapshots": 5, "eval_log_points": 20}},
    },
    "gdln": {
        "seeds": [0, 1],
        "task": {"family": "routing", "pathways": 3, "offsets": [0, 1], "levels": [6.0, 4.0, 3.0]},
        "model": {"name": "gdln", "pathways": 3, "init_scale": 0.2}, "width": 8,
        "train": {"optimizer": "sgd", "lr": 8.0e-2, "full_batch": True, "steps": 120, "n_snapshots": 13,
                  "snapshot_spacing": "linear", "eval_every": 1},
        "init_scales": [1.5],
    },
    "attention": {
        "seeds": [0, 1], "n_symbols": [3, 6], "n_test_symbols": 4, "n_train": 64, "n_test": 64,
        "models": {"mlp_xxt": {"model": {"name": "mlp_xxt", "seq_len": 3}, "width": 8, "n_symbols": [3]},
                   "transformer_identity": {"model": {"name": "seq_transformer", "seq_len": 3, "depth": 1,
                                                      "identity": True}, "width": 8}},
        "train": {"optimizer": "adam", "lr": 1.0e-2, "batch_size": 16, "steps": 40, "online": True,
                  "n_snapshots": 4, "eval_log_points": 10},
        "toy": {"alphas": [1.0e-1, 1.0e-3], "teacher_qk": [1.0, 0.5], "teacher_vo": [2.0, 1.0], "n_seq": 8,
                "steps": 200, "log_every": 5},
    },
    "similarity": {
        "sources": {"parity": ["sparse_parity"], "algebra": ["margin", "grokking"]},
        "n_probe": 64, "snapshots": 4, "lams": [0.0, 1.0e-1, 1.0], "lam": 1.0, "n_targets": 8,
    },
}

COPY = ["Snakefile", "rules", "scripts", "src", "profiles", "dvc.yaml", ".dvc/config", ".dvc/.gitignore", ".dvcignore",
        ".gitignore", "pyproject.toml"]


def env(cwd: Path, **extra: str) -> dict[str, str]:
    """The environment of a pipeline command: this venv first, ``cwd``'s sources imported."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "PYTHONPATH": str(cwd / "src"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "DVC_NO_ANALYTICS": "1", **extra}


def sh(cwd: Path, *args: str, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env(cwd, **extra_env), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def planned_jobs(cwd: Path) -> dict[str, int]:
    """Rule -> job count that ``snakemake -n`` would run (empty when nothing to do).

    Per-group rules (``train_<group>``, ``features_<group>``, ``distill_<group>``) are
    counted together as ``train``, ``features`` and ``distill``.
    """
    out = sh(cwd, "snakemake", "--profile", "profiles/default", "-n").stdout
    if "Nothing to be done" in out:
        return {}
    block = out.split("Job stats:", 1)[1].split("total", 1)[0]
    jobs: dict[str, int] = {}
    for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.MULTILINE):
        rule = m[1].split("_", 1)[0] if m[1].startswith(("train_", "features_", "distill_")) else m[1]
        jobs[rule] = jobs.get(rule, 0) + int(m[2])
    return jobs


def hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under data/ and results/, by path."""
    files = [p for d in ("data", "results") for p in sorted((root / d).rglob("*")) if p.is_file()
             and ".gitignore" not in p.name]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@contextlib.contextmanager
def edited(repo: Path, module: str):
    """A real code edit of ``src/learnscope/<module>`` (a new function, not a comment), undone after."""
    path = repo / "src/learnscope" / module
    original = path.read_text()
    path.write_text(original + "\n\ndef _an_edit():\n    return 1\n")
    try:
        yield
    finally:
        path.write_text(original)


def write_params(root: Path, params: dict) -> None:
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def make_project(root: Path, params: dict, remote: Path) -> Path:
    """A git + DVC project at ``root`` with the pipeline, ``params`` and a local DVC remote
    at ``remote``; committed, not run."""
    root.mkdir(parents=True)
    for name in COPY:
        src, dst = REPO / name, root / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    write_params(root, params)
    sh(root, "git", "init", "-q")
    sh(root, "dvc", "remote", "add", "--local", "-d", "test", str(remote))
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "init")
    return root


def make_run(cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """What `make run` runs once set up (see the Makefile): validate params.yaml, then
    ``dvc repro``."""
    validated = sh(cwd, "python", "-m", "learnscope", "check", "params.yaml", check=check)
    return validated if validated.returncode else sh(cwd, "dvc", "repro", check=check)
