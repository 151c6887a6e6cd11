"""Claims as data: each study states what the paper claims, our value beside the paper's
reference or the theory's, the chance level, and a verdict rule decided before looking.

``metrics.json`` gets a ``claims`` list per study (``Claim.to_json``); the report shows them
as a table. Our value is the median over seeds with its range. The chance level is computed
by the study's code from an untrained or random network or a shuffled baseline (never typed
in). The verdict is ``holds`` or ``does not hold`` at this scale, ``not measured`` when the
experiment was left out, and ``uninformative`` when the chance level itself satisfies the
rule (the measurement cannot tell a trained network from a random one).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from typing import Literal

import numpy as np

from learnscope.studies.metric_values import json_value

Op = Literal[">=", "<=", "within"]


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim of a paper, measured.

    Attributes:
        key: short name, unique within the study (e.g. ``nfa_corr``).
        claim: one sentence: what the paper says.
        paper: the paper it comes from.
        values: our value per seed (NaN where not reached).
        reference: the paper's value or the theory's (None where the claim is qualitative).
        chance: the chance level computed by code (None where none exists).
        op, threshold: the verdict rule: the median over seeds ``>=`` or ``<=`` ``threshold``,
            or ``within`` ``threshold`` of ``reference``.
        rule: the rule in words (e.g. "median ≥ 0.9 and every seed above chance").
        above_chance: the rule also needs every seed on the right side of ``chance``.
    """

    key: str
    claim: str
    paper: str
    values: np.ndarray
    reference: float | None
    chance: float | None
    op: Op
    threshold: float
    rule: str
    above_chance: bool = False

    def _passes(self, value: float) -> bool:
        if self.op == "within":
            return abs(value - self.reference) <= self.threshold
        return value >= self.threshold if self.op == ">=" else value <= self.threshold

    def _beats(self, value: float) -> bool:
        return value > self.chance if self.op == ">=" else value < self.chance

    @property
    def median(self) -> float:
        finite = np.asarray(self.values, dtype=np.float64)
        return float(np.median(finite)) if finite.size and np.isfinite(finite).all() else np.nan

    @property
    def verdict(self) -> str:
        values = np.asarray(self.values, dtype=np.float64)
        if values.size == 0:
            return "not measured"
        if self.chance is not None and np.isfinite(self.chance) and self._passes(self.chance):
            return "uninformative"
        holds = np.isfinite(self.median) and self._passes(self.median)
        if self.above_chance and self.chance is not None:
            holds = holds and all(np.isfinite(v) and self._beats(v) for v in values)
        return "holds" if holds else "does not hold"

    def to_json(self) -> dict:
        values = np.asarray(self.values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        return {"key": self.key, "claim": self.claim, "paper": self.paper, "value": json_value(self.median),
                "range": [json_value(finite.min()), json_value(finite.max())] if finite.size else [None, None],
                "seeds": int(values.size), "reached": int(finite.size),
                "reference": None if self.reference is None else json_value(self.reference),
                "chance": None if self.chance is None else json_value(self.chance),
                "rule": self.rule, "verdict": self.verdict}


def claims_json(claims: list[Claim]) -> list[dict]:
    return [claim.to_json() for claim in claims]


def fmt(value) -> str:
    """A value as a reader wants it: 4 significant digits, thousands grouped, lists in brackets,
    a missing value as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if value == int(value) and abs(value) < 1e6:
            return f"{int(value):,}"
        if value != 0 and not 1e-3 <= abs(value) < 1e6:
            return f"{value:.3g}"
        return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


def ours(claim: dict) -> str:
    """Our value: the median over seeds with its range, and how many seeds reached it."""
    low, high = claim.get("range", [None, None])
    text = fmt(claim["value"])
    if low is not None and high is not None and claim.get("seeds", 1) > 1:
        text += f" [{fmt(low)}, {fmt(high)}]"
    reached, seeds = claim.get("reached"), claim.get("seeds")
    if reached is not None and seeds is not None and reached < seeds:
        text += f" ({reached} of {seeds} seeds reached it)"
    return text


def claims_for(claims: list[dict], patterns: tuple[str, ...]) -> list[dict]:
    """The claims (as in metrics.json) whose keys match ``patterns`` (``fnmatch``: ``slope_*``)."""
    return [c for c in claims if any(fnmatch.fnmatchcase(c["key"], p) for p in patterns)]


def verdict_lines(claims: list[dict]) -> str:
    """One line per claim for a figure's title: ``key = median [range]: verdict``."""
    return "\n".join(f"{c['key']} = {ours(c)}: {c['verdict']}" for c in claims)
