"""Progress of a training job: a tqdm bar (steps, rate, ETA, the loss of every run) when
stderr is a terminal, and plain log lines otherwise (in logs/ and CI): every tenth of the
steps, and at most every ``every_s`` seconds, one line with the step, rate, ETA and each
run's loss labelled by what tells it apart (seed, lr, ...)."""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger(__name__)


def run_labels(specs) -> list[str]:
    """A short label per run of a group: its seed, and its lr where the group's lrs differ."""
    lrs = {spec.train.lr for spec in specs}
    return [f"s{spec.seed}" + (f" lr={spec.train.lr:g}" if len(lrs) > 1 else "") for spec in specs]


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """``update(step, losses)`` after each step of a job of ``total`` steps from ``start``."""

    def __init__(self, name: str, total: int, labels: list[str], start: int = 0, every_s: float = 60.0,
                 bar: bool | None = None):
        self.name, self.total, self.labels, self.start = name, total, labels, start
        self.every_s, self.began, self.last_line = every_s, time.monotonic(), -1.0
        self.next_step = start
        use_bar = sys.stderr.isatty() if bar is None else bar
        self.bar = tqdm(total=total, initial=start, desc=name, mininterval=1.0, file=sys.stderr,
                        dynamic_ncols=True) if use_bar else None

    def losses_text(self, losses: list[float]) -> str:
        return ", ".join(f"{label}: {loss:.4g}" for label, loss in zip(self.labels, losses))

    def update(self, step: int, losses) -> None:
        """After step ``step`` (0-based); ``losses``: one per run, a tensor or list, read only
        when shown (a GPU tensor is not synchronised every step)."""
        elapsed = time.monotonic() - self.began
        last = step + 1 >= self.total
        if self.bar is not None:
            self.bar.update(1)
            if last or elapsed - self.last_line >= 1.0:
                self.bar.set_postfix_str(self.losses_text(_floats(losses))[:80], refresh=False)
                self.last_line = elapsed
            return
        if not (last or step >= self.next_step or elapsed - self.last_line >= self.every_s):
            return
        rate = (step + 1 - self.start) / elapsed if elapsed > 0 else 0.0
        eta = duration((self.total - step - 1) / rate) if rate > 0 else "?"
        log.info("%s: step %d/%d (%d%%), %.1f steps/s, ETA %s; loss %s", self.name, step + 1, self.total,
                 100 * (step + 1) // self.total, rate, eta, self.losses_text(_floats(losses)))
        self.last_line = elapsed
        self.next_step = step + max(1, self.total // 10)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _floats(losses) -> list[float]:
    return losses.tolist() if hasattr(losses, "tolist") else list(losses)
