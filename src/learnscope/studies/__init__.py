"""Study registry: each study turns its runs into a table, metrics and figures."""

from __future__ import annotations

import dataclasses
from typing import Callable

from learnscope.studies import (algebra, algebra_figures, algebra_metrics, gdln, gdln_figures, leap, leap_figures,
                                leap_metrics, parity, parity_figures)


@dataclasses.dataclass(frozen=True)
class Study:
    """The analysis of one study: ``summarise`` -> summary.nc, ``metrics`` -> metrics.json.

    ``run_artefacts``: the per-run files it reads (only those are produced for its runs);
    ``measures``: the optional features its runs get (``learnscope.features.extract``).
    """

    summarise: Callable
    metrics: Callable
    figures: tuple[str, ...]
    save_figures: Callable
    run_artefacts: tuple[str, ...] = ("curves.nc", "features.nc", "tree.nc")
    measures: tuple[str, ...] = ("agop",)


STUDIES: dict[str, Study] = {
    "parity": Study(parity.summarise, parity.metrics, parity_figures.FIGURES, parity_figures.save_all),
    "leap": Study(leap.summarise, leap_metrics.metrics, leap_figures.FIGURES, leap_figures.save_all,
                  run_artefacts=("curves.nc", "features.nc"), measures=("fourier",)),
    "algebra": Study(algebra.summarise, algebra_metrics.metrics, algebra_figures.FIGURES, algebra_figures.save_all,
                     run_artefacts=("curves.nc", "features.nc"), measures=("group",)),
    "gdln": Study(gdln.summarise, gdln.metrics, gdln_figures.FIGURES, gdln_figures.save_all,
                  run_artefacts=("curves.nc", "features.nc"), measures=("gdln",)),
}
