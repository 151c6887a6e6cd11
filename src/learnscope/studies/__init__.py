"""Study registry: each study turns its runs into a table, metrics and figures."""

from __future__ import annotations

import dataclasses
from typing import Callable

from learnscope.studies import parity, parity_figures


@dataclasses.dataclass(frozen=True)
class Study:
    """The analysis of one study: ``summarise`` -> summary.nc, ``metrics`` -> metrics.json."""

    summarise: Callable
    metrics: Callable
    figures: tuple[str, ...]
    save_figures: Callable
    run_artefacts: tuple[str, ...] = ("curves.nc", "features.nc", "tree.nc")


STUDIES: dict[str, Study] = {
    "parity": Study(parity.summarise, parity.metrics, parity_figures.FIGURES, parity_figures.save_all),
}
