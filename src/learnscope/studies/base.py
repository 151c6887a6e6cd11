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

from learnscope import store
from learnscope.runspec import ComputeConfig, RunSpec
from learnscope.studies.claims import Claim
from learnscope.studies.plots import Curve

# A study's runs, loaded: coordinates (as in ``config.coords``) -> artefact stem
# (``curves``, ``features``, ``tree``) -> that file.
LoadedRuns = dict[tuple, dict[str, xr.Dataset]]
ARTEFACT_KINDS = {"curves.nc": "curves", "features.nc": "features", "tree.nc": "tree"}


class Study:
    """One study: subclasses set the class attributes and implement ``summarise`` and ``metrics``.

    Attributes:
        config_type: the frozen dataclass of its params.yaml section; it has ``coords``
            (the names of the coordinates that index its runs) and ``runs(study, compute)``
            (coordinates -> ``RunSpec``).
        run_artefacts: the per-run files its analysis reads (only those are made for its runs).
        measures: the per-snapshot measures its runs get (``learnscope.features.extract``).
        figures: figure file name -> function of summary.nc's dataset returning a figure.
        figure_claims: figure file name -> the keys of the claims it illustrates (``fnmatch``
            patterns such as ``slope_*``); each figure states their values and verdicts.
        plots: plot file name (``plots/<name>.csv``) -> its main curve (``studies.plots.Curve``),
            declared as a DVC plot in dvc.yaml.

    ``metrics.json`` holds ``metrics(summary)`` plus ``claims``: ``claims(summary)`` as data.

    A study may analyse other studies' runs instead of (or besides) training its own: it
    names them (``source_runs``), one job of its own reads their checkpoints into files
    (``read_sources`` writes ``source_outputs``), and its study job reads those (``load``).
    The same job may fit models that are not networks on tasks' datasets (``source_datasets``).
    """

    config_type: ClassVar[type]
    run_artefacts: ClassVar[tuple[str, ...]] = ("curves.nc", "features.nc", "tree.nc")
    measures: ClassVar[tuple[str, ...]] = ("agop",)
    figures: ClassVar[dict[str, Callable]] = {}
    figure_claims: ClassVar[dict[str, tuple[str, ...]]] = {}
    plots: ClassVar[dict[str, Curve]] = {}

    def runs(self, study: str, cfg, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """The runs the section ``cfg`` asks for, by coordinates (``cfg.coords``)."""
        return cfg.runs(study, compute)

    def source_runs(self, study: str, cfg, params) -> dict[str, RunSpec]:
        """Runs of other studies (name -> spec) this study reads, given the whole ``params``;
        ConfigError naming the key if the params cannot provide them. Default: none."""
        return {}

    def source_outputs(self, study: str, cfg, params) -> list[str]:
        """The files its sources job makes from ``source_runs`` (its study job reads them);
        a study with any has a sources job."""
        return []

    def source_datasets(self, study: str, cfg, params) -> list[str]:
        """Dataset files (``store.dataset_path``) its sources job also reads (e.g. to fit a
        model other than a network on a task's data). Default: none."""
        return []

    def read_sources(self, study: str, cfg, specs: list[RunSpec], checkpoints: list[str],
                     out_paths: list[str], inputs: list[str]) -> None:
        """The sources job: read the ``specs``' ``checkpoints`` (and ``source_datasets``, among
        ``inputs``) and write ``out_paths``."""
        raise NotImplementedError(f"study {study} reads no other study's runs")

    def load(self, study: str, cfg, inputs: list[str]) -> LoadedRuns:
        """What ``summarise`` reads: by default each run's ``run_artefacts``, by coordinates;
        ``inputs`` are the study job's input files."""
        specs = self.runs(study, cfg, ComputeConfig())  # names and coordinates only: compute is irrelevant
        return {coords: {artefact.split(".")[0]: store.read(store.run_path(spec.name, artefact),
                                                            ARTEFACT_KINDS[artefact], expect={"run": spec.name})
                         for artefact in self.run_artefacts} for coords, spec in specs.items()}

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
