"""The interface every study implements, and what the study stage hands it.

A study is one scientific question (``shared/STUDIES.md``): a params section (its config
dataclass), the runs that section asks for, indexed by their coordinates, and the analysis
that turns those runs' files into a table (summary.nc), headline metrics, claims and
figures. A study is one package ``learnscope.studies.<name>`` registered by one line in
``learnscope.studies.STUDIES``; see the README, "Adding a study".
"""

from __future__ import annotations

from typing import Callable, ClassVar

import xarray as xr

from learnscope.runspec import ComputeConfig, RunSpec
from learnscope.studies.claims import Claim

# A study's runs, loaded: coordinates (as in ``config.coords``) -> artefact stem
# (``curves``, ``features``, ``tree``) -> that file.
LoadedRuns = dict[tuple, dict[str, xr.Dataset]]


class Study:
    """One study: subclasses set the class attributes and implement ``summarise`` and ``metrics``.

    Attributes:
        config_type: the frozen dataclass of its params.yaml section; it has ``coords``
            (the names of the coordinates that index its runs) and ``runs(study, compute)``
            (coordinates -> ``RunSpec``).
        run_artefacts: the per-run files its analysis reads (only those are made for its runs).
        measures: the per-snapshot measures its runs get (``learnscope.features.extract``).
        figures: figure file name -> function of summary.nc's dataset returning a figure.

    ``metrics.json`` holds ``metrics(summary)`` plus ``claims``: ``claims(summary)`` as data.
    """

    config_type: ClassVar[type]
    run_artefacts: ClassVar[tuple[str, ...]] = ("curves.nc", "features.nc", "tree.nc")
    measures: ClassVar[tuple[str, ...]] = ("agop",)
    figures: ClassVar[dict[str, Callable]] = {}

    def runs(self, study: str, cfg, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """The runs the section ``cfg`` asks for, by coordinates (``cfg.coords``)."""
        return cfg.runs(study, compute)

    def summarise(self, study: str, cfg, runs: LoadedRuns) -> xr.Dataset:
        """The study's table (summary.nc) from its runs' files, by coordinates."""
        raise NotImplementedError

    def summary_variables(self, cfg) -> dict[str, tuple[str, ...]]:
        """summary.nc's schema: the variables (name -> dims) its metrics, claims and figures
        read; the stage validates the table against it before writing."""
        raise NotImplementedError

    def metrics(self, summary: xr.Dataset) -> dict:
        """Headline values (one per key) and a ``detail`` object, as JSON-able data."""
        raise NotImplementedError

    def claims(self, summary: xr.Dataset) -> list[Claim]:
        """The paper's claims beside our values, references, chance levels and verdicts."""
        raise NotImplementedError
