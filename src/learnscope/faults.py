"""Failpoints: named places where the reliability tests SIGKILL a job (tests/reliability/).

``LEARNSCOPE_FAILPOINT=<name>`` kills the process at the first ``point(<name>)`` it passes;
``<name>@<n>`` at the n-th (counted per process). ``LEARNSCOPE_FAILPOINT_SCOPE=run`` kills
the whole process group instead (the job, Snakemake and ``dvc repro`` when the run was
started in its own session: a killed machine or terminal), the default ``job`` only the
process (the kernel's OOM killer). Unset, ``point`` is one dictionary lookup.

Named points: ``train.step`` (top of every training step, after the resume save),
``store.replace.<what>`` (a file written under its temporary name, fsync'd, not yet
renamed; ``<what>`` is the store kind, e.g. ``checkpoints``, or ``json``, ``text``,
``figure``, ``resume``), ``store.written.<what>`` (just renamed).
"""

from __future__ import annotations

import os
import signal

ENV, SCOPE_ENV = "LEARNSCOPE_FAILPOINT", "LEARNSCOPE_FAILPOINT_SCOPE"
_hits: dict[str, int] = {}


def point(name: str) -> None:
    """SIGKILL here if ``LEARNSCOPE_FAILPOINT`` names this point (and its hit count)."""
    spec = os.environ.get(ENV)
    if spec is None or spec.split("@")[0] != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    wanted = int(spec.split("@")[1]) if "@" in spec else 1
    if _hits[name] == wanted:
        if os.environ.get(SCOPE_ENV) == "run":
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
