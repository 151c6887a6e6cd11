"""Numerical failures of the features and distill stages, re-raised naming the run and step.

The features stage measures every (run, snapshot) network of a group in batched passes, so
a failing ``eigh`` or SVD does not say whose weights broke it. ``named_failures`` runs a
computation over all of them and, if it fails numerically, re-runs it one snapshot at a time
to find the first that fails alone, then raises MeasureError naming that run and step.
Only the failure path pays for the search.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import torch

from learnscope.errors import MeasureError

T = TypeVar("T")


def is_numerical(error: BaseException) -> bool:
    """Whether ``error`` is a numerical failure (a linalg error, a NaN that a solver rejects...),
    not an out-of-memory error or an interruption."""
    return isinstance(error, (RuntimeError, ValueError, ArithmeticError)) and not isinstance(
        error, (torch.OutOfMemoryError, MeasureError))


def first_failing(compute: Callable[[list[int]], object], n: int, causal: bool = False) -> int | None:
    """The first i in [0, n) for which ``compute([i])`` (``compute([0..i])`` if ``causal``)
    fails numerically; None if none does."""
    for i in range(n):
        try:
            compute(list(range(i + 1)) if causal else [i])
        except Exception as e:  # noqa: BLE001: only numerical failures count, see is_numerical
            if not is_numerical(e):
                raise
            return i
    return None


def named_failures(what: str, labels: list[tuple[str, int]], compute: Callable[[list[int]], T],
                   causal: bool = False) -> T:
    """``compute(all positions)``; a numerical failure is re-raised as MeasureError naming the
    (run, step) of ``labels`` whose snapshot fails alone (see ``first_failing``; ``causal``:
    the computation reads each snapshot against the earlier ones, so probe prefixes).
    """
    try:
        return compute(list(range(len(labels))))
    except Exception as e:  # noqa: BLE001: only numerical failures are renamed
        if not is_numerical(e):
            raise
        i = first_failing(compute, len(labels), causal)
        if i is None:
            runs = ", ".join(dict.fromkeys(run for run, _ in labels))
            where = f"runs {runs} (no single snapshot fails alone)"
        else:
            where = f"run {labels[i][0]} at step {labels[i][1]}"
        raise MeasureError(f"{where}: {what} failed: {type(e).__name__}: {e}") from e
