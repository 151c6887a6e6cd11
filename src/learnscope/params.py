"""params.yaml -> ``Params``: the shared sections, one section per registered study, and the
runs they imply.

The shared sections are ``compute`` (``runspec.ComputeConfig``), ``features``
(``features.config.FeaturesConfig``) and ``distill`` (``distill.config.DistillConfig``).
Every other top-level key is a study's section, built as that study's config class
(``learnscope.studies.STUDIES``: ``parity``, ``leap``, ``algebra``, ``gdln``...); a section
left out is not run. Each run is a ``learnscope.runspec.RunSpec``.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cached_property
from typing import Any

import yaml

from learnscope.config import build
from learnscope.distill.config import DistillConfig
from learnscope.errors import ConfigError
from learnscope.features.config import FeaturesConfig
from learnscope.runspec import ComputeConfig, RunSpec
from learnscope.studies import STUDIES

SHARED = {"compute": ComputeConfig, "features": FeaturesConfig, "distill": DistillConfig}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """The whole of params.yaml: the shared sections, then ``studies`` (name -> its config).

    A study's section also reads as an attribute (``params.parity``; None when left out).
    """

    compute: ComputeConfig = ComputeConfig()
    features: FeaturesConfig = FeaturesConfig()
    distill: DistillConfig = DistillConfig()
    studies: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in STUDIES:
            return self.studies.get(name)
        raise AttributeError(name)

    @cached_property
    def runs(self) -> dict[str, RunSpec]:
        """Every run of every study, by name, in a stable order."""
        return {spec.name: spec for study, cfg in self.studies.items()
                for spec in STUDIES[study].runs(study, cfg, self.compute).values()}

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        return group_runs(self.runs)


def build_params(data: dict) -> Params:
    """The sections of ``data`` (as read from params.yaml) as ``Params``; ConfigError names the key."""
    allowed = sorted([*SHARED, *STUDIES])
    unknown = sorted(set(data) - set(allowed), key=str)
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a known key; allowed: {', '.join(allowed)}")
    shared = {key: build(tp, data[key], key) for key, tp in SHARED.items() if key in data}
    studies = {name: build(STUDIES[name].config_type, data[name], name) for name in STUDIES if data.get(name) is not None}
    if not studies:
        raise ConfigError(f"sections define no study; give at least one of {', '.join(STUDIES)}")
    return Params(**shared, studies=studies)


def group_runs(runs: dict[str, RunSpec]) -> dict[str, list[str]]:
    """Runs that differ only in their seed and tag (e.g. a learning-rate grid), by group
    name (``RunSpec.group``).

    Each group trains as one batched model in one job; its members' files are the same
    as if trained alone.
    """
    groups: dict[str, list[str]] = {}
    for name, spec in runs.items():
        groups.setdefault(spec.group, []).append(name)
    return groups


def load_params(data: Any, source: str = "params.yaml") -> Params:
    """Validate params: a mapping as read from params.yaml, or the path of such a file.

    Raises:
        ConfigError: one line, ``"params.yaml: <dotted key> <what is wrong and allowed>"``.
    """
    if isinstance(data, (str, os.PathLike)):
        source = str(data)
        try:
            with open(data) as f:
                data = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{source}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a mapping of sections")
    try:
        return build_params(data)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None
