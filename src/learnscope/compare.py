"""``learnscope compare A B``: two runs (their params and final curves), or two versions of
the project (git revisions, DVC experiments, or ``workspace`` for the files on disk): the
params that differ and the claims whose value or verdict moved."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from learnscope import store
from learnscope.errors import LearnscopeError, StoreError
from learnscope.explore import final_values, run_dir
from learnscope.studies.claims import fmt

WORKSPACE = "workspace"


def flatten(data, prefix: str = "") -> dict[str, object]:
    """Nested mappings as dotted keys (``parity.train.lr``); lists stay values."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat = {}
    for key, value in data.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def params_diff(a: dict, b: dict, names: tuple[str, str]) -> list[str]:
    fa, fb = flatten(a), flatten(b)
    return [f"  {key}: {json.dumps(fa.get(key, '(absent)'))} in {names[0]}, {json.dumps(fb.get(key, '(absent)'))} "
            f"in {names[1]}" for key in sorted(set(fa) | set(fb)) if fa.get(key, "(absent)") != fb.get(key, "(absent)")]


def compare_runs(a: str, b: str, root: str | Path = ".") -> str:
    curves = [store.read(run_dir(r, root) / "curves.nc", "curves") for r in (a, b)]  # each file read once
    lines = [f"runs {a} and {b}", "params that differ:"]
    lines += params_diff(*(json.loads(c.attrs["params_json"]) for c in curves), (a, b)) or ["  none"]
    lines.append("final curves:")
    final = [final_values(c) for c in curves]
    lines += [f"  {name}: {fmt(final[0][name])} vs {fmt(final[1][name])}" for name in store.CURVES]
    return "\n".join(lines)


def resolve_revision(name: str, cwd: str | Path = ".") -> str:
    """A git revision for ``name``: a branch, tag or commit, or a DVC experiment's name."""
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], cwd=cwd,
                           capture_output=True, text=True)
    if found.returncode == 0:
        return found.stdout.strip()
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], cwd=cwd,
                          capture_output=True, text=True).stdout.split()
    matches = [ref for ref in refs if ref.rsplit("/", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    raise LearnscopeError(f"{name}: not a run under {store.RUNS_DIR}, a git revision, a DVC experiment "
                          f"or '{WORKSPACE}'")


def read_at(revision: str, path: str, cwd: str | Path = ".") -> str | None:
    """The text of ``path`` at ``revision`` (the file on disk for ``workspace``); None if absent."""
    if revision == WORKSPACE:
        file = Path(cwd) / path
        return file.read_text(encoding="utf-8") if file.exists() else None
    shown = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=cwd, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else None


def claims_by_key(metrics: dict) -> dict[str, dict]:
    return {f"{study}.{c['key']}": c for study, values in metrics.items() for c in values.get("claims", [])}


def claims_diff(a: dict, b: dict) -> list[str]:
    ca, cb = claims_by_key(a), claims_by_key(b)
    lines, unchanged = [], 0
    for key in sorted(set(ca) | set(cb)):
        left, right = ca.get(key), cb.get(key)
        if left is None or right is None:
            lines.append(f"  {key}: only in {'the second' if left is None else 'the first'}")
        elif (left["value"], left["range"], left["verdict"]) != (right["value"], right["range"], right["verdict"]):
            lines.append(f"  {key}: {fmt(left['value'])} ({left['verdict']}) -> {fmt(right['value'])} "
                         f"({right['verdict']})")
        else:
            unchanged += 1
    return lines + [f"  {unchanged} claim(s) unchanged"]


def compare_revisions(a: str, b: str, cwd: str | Path = ".") -> str:
    revisions = [name if name == WORKSPACE else resolve_revision(name, cwd) for name in (a, b)]
    texts = {path: [read_at(rev, path, cwd) for rev in revisions] for path in ("params.yaml", store.METRICS_PATH)}
    for path, (left, right) in texts.items():
        for name, text in ((a, left), (b, right)):
            if text is None:
                raise StoreError(f"{path}: not found in {name}")
    params = [yaml.safe_load(text) or {} for text in texts["params.yaml"]]
    metrics = [json.loads(text) for text in texts[store.METRICS_PATH]]
    lines = [f"{a} -> {b}", "params that differ:"]
    lines += params_diff(*params, (a, b)) or ["  none"]
    lines += ["claims whose value or verdict changed:", *claims_diff(*metrics)]
    return "\n".join(lines)


def compare(a: str, b: str, root: str | Path = ".") -> str:
    """Two runs if both name runs on disk, else two versions of the project."""
    runs = [_is_run(name, root) for name in (a, b)]
    if all(runs):
        return compare_runs(a, b, root)
    if any(runs):
        run_dir(b if runs[0] else a, root)  # raises, naming the one that is not a run
    return compare_revisions(a, b, root)


def _is_run(name: str, root: str | Path) -> bool:
    try:
        run_dir(name, root)
    except StoreError:
        return False
    return True
