"""``learnscope status``: what a run would redo, and why, in plain words.

Snakemake's dry run gives every job it would run with its reasons (a missing output, an
updated input file, changed params, a changed rule); DVC's status gives the params keys and
code folders that changed since the run recorded in dvc.lock. This module runs both and
groups the answer by study: how many jobs of which rules, for which reasons, and which of
the project's own files (code, params) caused them.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from learnscope.errors import LearnscopeError
from learnscope.progress import duration

DRY_RUN_ARGS = ["--profile", "profiles/default", "--dry-run", "--nolock", "--quiet", "host"]  # host: the jobs shown
JOB_START = re.compile(r"^(?:local)?rule (\w+):$")
REASONS = {  # Snakemake's reason -> plain words
    "Missing output files": "outputs missing",
    "Updated input files": "input files changed",
    "Input files updated by another job": "an upstream job reruns",
    "Params have changed since last execution": "params changed",
    "Code has changed since last execution": "rule code changed",
    "Set of input files has changed since last execution": "set of input files changed",
    "Software environment definition has changed since last execution": "software environment changed",
    "Forced execution": "forced",
}


@dataclasses.dataclass
class Job:
    rule: str
    reasons: list[str]
    changed_inputs: list[str]
    study: str | None = None  # from its wildcards, where it has a ``study`` one


def parse_dry_run(text: str) -> list[Job]:
    """The jobs of Snakemake's dry-run output, each with its reasons in plain words and the
    input files whose change caused it (``Updated input files: ...``)."""
    jobs: list[Job] = []
    for line in text.splitlines():
        line = line.strip()
        start = JOB_START.match(line)
        if start:
            jobs.append(Job(start.group(1), [], []))
        elif line.startswith("wildcards:") and jobs:
            found = re.search(r"\bstudy=(\w+)", line)
            jobs[-1].study = found.group(1) if found else None
        elif line.startswith("reason:") and jobs:
            for part in line.removeprefix("reason:").split(";"):
                head, _, files = part.strip().partition(":")
                jobs[-1].reasons.append(REASONS.get(head.strip(), head.strip()))
                if head.strip() == "Updated input files":
                    jobs[-1].changed_inputs += [f.strip() for f in files.split(",") if f.strip()]
    return jobs


def study_of(rule: str, studies: list[str], groups: dict[str, str]) -> str:
    """The study a job belongs to, from its rule name (``study_leap``, ``sources_nfa``) or, for
    per-group rules (``train_<group>``...), from the group's study; else the rule itself."""
    for prefix in ("study_", "sources_"):
        if rule.startswith(prefix) and rule[len(prefix):] in studies:
            return rule[len(prefix):]
    for stage in ("train_", "features_", "distill_"):
        if rule.startswith(stage) and rule[len(stage):] in groups:
            return groups[rule[len(stage):]]
    return next((s for s in studies if rule.startswith(f"{s}_") or rule == s), rule)


def dvc_changes(status_json: str) -> tuple[list[str], list[str]]:
    """From ``dvc status --json``: the params keys and code paths changed since dvc.lock."""
    params, code = [], []
    for entries in json.loads(status_json or "{}").values():
        for entry in entries if isinstance(entries, list) else []:
            for path, change in (entry.get("changed deps") or {}).items() if isinstance(entry, dict) else []:
                if isinstance(change, dict):
                    params += [f"{key} ({what})" for key, what in change.items()]
                else:
                    code.append(f"{path} ({change})")
    return params, code


def summary(jobs: list[Job], studies: list[str], groups: dict[str, str], params: list[str],
            code: list[str], limit: int = 4) -> str:
    """The answer, a few lines per study."""
    def listed(items: list[str]) -> str:
        items = sorted(set(items))
        return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")

    lines = []
    if params:
        lines.append(f"params changed since the last recorded run (dvc.lock): {listed(params)}")
    if code:
        lines.append(f"code changed since the last recorded run (dvc.lock): {listed(code)}")
    work = [job for job in jobs if job.rule != "all"]
    if not work:
        return "\n".join(lines + ["Snakemake: nothing to be done; every output is up to date."])
    lines.append(f"{len(work)} job(s) would run:")
    by_study = collections.defaultdict(list)
    for job in work:
        by_study[job.study or study_of(job.rule, studies, groups)].append(job)
    for study, study_jobs in by_study.items():
        rules = collections.Counter(re.sub(r"_.*", "", job.rule) for job in study_jobs)
        reasons = collections.Counter(reason for job in study_jobs for reason in job.reasons)
        causes = [f for job in study_jobs for f in job.changed_inputs if not f.startswith(("results/", "data/"))]
        line = (f"  {study}: " + ", ".join(f"{n} {rule}" for rule, n in rules.most_common())
                + " — " + ", ".join(f"{reason} ({n})" for reason, n in reasons.most_common()))
        lines.append(line + (f"; changed: {listed(causes)}" if causes else ""))
    return "\n".join(lines)


def run_in_progress(root: Path) -> bool:
    """Whether a learnscope run holds the folder's run lock now (``learnscope.pipeline``)."""
    from learnscope.pipeline import LOCK, RunLockedError, run_lock

    if not (root / LOCK).exists():
        return False
    try:
        with run_lock(root):
            return False
    except RunLockedError:
        return True


def sweep_view(root: Path, now: float | None = None) -> list[str]:
    """While a run works: its progress (Snakemake's last "N of M steps" line) and its running
    jobs (Snakemake's markers of incomplete outputs, one per output, made when its job starts;
    outputs made within a second count as one job), the longest first."""
    logs = sorted((root / ".snakemake/log").glob("*.snakemake.log"))
    done = [line for line in logs[-1].read_text().splitlines() if " steps (" in line] if logs else []
    markers = [(p.stat().st_mtime, base64.b64decode(p.name).decode(errors="replace"))
               for p in (root / ".snakemake/incomplete").glob("*") if p.is_file()]
    jobs: dict[int, list[str]] = collections.defaultdict(list)
    for started, output in markers:
        jobs[int(started)].append(output)
    now = time.time() if now is None else now
    lines = [f"a run is in progress: {done[-1].strip() if done else 'starting'}"]
    for started, outputs in sorted(jobs.items())[:3]:
        more = f" (+{len(outputs) - 1} more files)" if len(outputs) > 1 else ""
        lines.append(f"  running for {duration(now - started)}: {sorted(outputs)[0]}{more}")
    if len(jobs) > 3:
        lines.append(f"  and {len(jobs) - 3} more job(s)")
    return lines


def tool(name: str) -> str:
    """A command of this Python's environment (the project's venv) even when it is not on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def status(params, root: Path = Path(".")) -> str:
    """Run Snakemake's dry run and DVC's status in the working directory and explain them."""
    progress = sweep_view(root) if run_in_progress(root) else []
    for _attempt in range(2):  # a dry run beside a working run can meet its metadata mid-write: retry once
        dry = subprocess.run([tool("snakemake"), *DRY_RUN_ARGS], capture_output=True, text=True)
        if dry.returncode == 0:
            break
    else:
        lines = (dry.stdout + dry.stderr).strip().splitlines() or ["no message"]
        raise LearnscopeError(f"snakemake --dry-run failed: {next((l for l in lines if 'rror' in l), lines[-1])}")
    dvc = subprocess.run([tool("dvc"), "status", "--json"], capture_output=True, text=True)
    changed_params, changed_code = dvc_changes(dvc.stdout) if dvc.returncode == 0 else ([], [])
    groups = {group.replace("-", "_"): params.runs[runs[0]].study for group, runs in params.groups.items()}
    return "\n".join([*progress, summary(parse_dry_run(dry.stdout + "\n" + dry.stderr), list(params.studies),
                                         groups, changed_params, changed_code)])
