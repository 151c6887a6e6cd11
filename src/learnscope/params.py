"""params.yaml -> ``Params``: the shared sections, one section per registered study, and the
runs they imply.

The shared sections are ``compute`` (``runspec.ComputeConfig``), ``features``
(``features.config.FeaturesConfig``) and ``trees`` (``distill.config.DistillConfig``: the per-run tree
distillation).
Every other top-level key is a study's section, built as that study's config class
(``learnscope.studies.STUDIES``: ``parity``, ``leap``, ``algebra``, ``gdln``...); a section
left out is not run. Each run is a ``learnscope.runspec.RunSpec``.

The file is read strictly (``read_yaml``): UTF-8, at most 1 MiB, no YAML aliases (``*name``:
``yaml.safe_load`` expands them, so a few nested aliases can expand to gigabytes) and no
key given twice in one mapping (YAML keeps the last silently). Once built, the params'
estimated memory, disk and work are checked against the bounds in ``compute``
(``learnscope.limits``), so bad params are refused before any job starts.
"""

from __future__ import annotations

import dataclasses
import os
import re
from functools import cached_property
from typing import Any

import yaml

from learnscope.config import build
from learnscope.distill.config import DistillConfig
from learnscope.errors import ConfigError
from learnscope.features.config import FeaturesConfig
from learnscope.limits import check_limits
from learnscope.runspec import ComputeConfig, RunSpec
from learnscope.studies import STUDIES

SHARED = {"compute": ComputeConfig, "features": FeaturesConfig, "trees": DistillConfig}
MAX_FILE_BYTES = 1 << 20  # params.yaml holds a few KiB of settings


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """The whole of params.yaml: the shared sections, then ``studies`` (name -> its config).

    A study's section also reads as an attribute (``params.parity``; None when left out).
    """

    compute: ComputeConfig = ComputeConfig()
    features: FeaturesConfig = FeaturesConfig()
    trees: DistillConfig = DistillConfig()
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
    params = Params(**shared, studies=studies)
    for name, cfg in studies.items():  # a study that reads other studies' runs checks that they exist
        STUDIES[name].source_runs(name, cfg, params)
    check_limits(params)
    return params


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
    try:
        if isinstance(data, (str, os.PathLike)):
            source = str(data)
            data = read_yaml(data)
        if data is None:
            raise ConfigError("is empty; it must be a mapping of sections (compute, features, trees, "
                              f"{', '.join(STUDIES)})")
        if not isinstance(data, dict):
            raise ConfigError(f"must be a mapping of sections, got {type(data).__name__}")
        return build_params(data)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where installed: ~20x faster
MAX_NESTING = 32  # params nest about 5 deep; libyaml's composer recurses in C without a limit
# Characters YAML allows (YAML 1.1, 5.1); any other is refused with its line and column.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def read_yaml(path: str | os.PathLike) -> Any:
    """The data of a YAML file, read strictly (see the module docstring); None if it is empty.

    Raises:
        ConfigError: one line naming the line and column (unreadable file, a byte that is not
            UTF-8, a control character, YAML syntax, an alias, deep nesting) or the dotted key
            (a key given twice).
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"is larger than {MAX_FILE_BYTES >> 20} MiB; params.yaml holds a few KiB of settings")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line, line_start = raw.count(b"\n", 0, e.start) + 1, raw.rfind(b"\n", 0, e.start) + 1
        raise ConfigError(f"line {line}, column {e.start - line_start + 1} (byte {e.start}): byte "
                          f"0x{raw[e.start]:02x} is not UTF-8; save the file as UTF-8") from None
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = text.count("\n", 0, bad.start()) + 1, bad.start() - text.rfind("\n", 0, bad.start())
        raise ConfigError(f"line {line}, column {column}: character {bad.group()!r} is not allowed in YAML "
                          "(a control character); delete it")
    try:
        return _parse(text)
    except yaml.MarkedYAMLError as e:
        raise ConfigError(_yaml_message(e, text)) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"YAML error: {' '.join(str(e).split())}") from None


def _parse(text: str) -> Any:
    """Refuse aliases and deep nesting from the events, then compose (a tree), check for keys
    given twice, and construct as ``yaml.safe_load`` does."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError(f"{_where(event.start_mark)}YAML aliases (*{event.anchor}) are not supported: "
                              "one expands to a copy of its anchor's value, and nested ones to gigabytes; "
                              "write the value out")
        depth += isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        depth -= isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent))
        if depth > MAX_NESTING:
            raise ConfigError(f"{_where(event.start_mark)}values are nested more than {MAX_NESTING} deep")
    node = yaml.compose(text, Loader=_LOADER)
    if node is None:
        return None
    _check_duplicate_keys(node, "")
    return yaml.constructor.SafeConstructor().construct_document(node)


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def _yaml_message(e: yaml.MarkedYAMLError, text: str) -> str:
    """One line: where (1-based line and column) and what, with a hint for tabs."""
    mark = e.problem_mark or e.context_mark
    what = ", ".join(str(p) for p in (e.context, e.problem) if p)
    lines = text.splitlines()
    hint = " (indent with spaces, not tabs)" if mark and mark.line < len(lines) and "\t" in lines[mark.line] else ""
    return f"{_where(mark)}YAML syntax error: {' '.join(what.split())}{hint}"


def _check_duplicate_keys(node: yaml.Node, path: str) -> None:
    """Raise ConfigError naming the dotted key and both lines of a key given twice in one mapping."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, f"{path}[{i}]")
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[tuple[str, str], int] = {}
    for key_node, value_node in node.value:
        name = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
        child = f"{path}.{name}" if path else name
        line = key_node.start_mark.line + 1
        if isinstance(key_node, yaml.ScalarNode):
            if (key_node.tag, name) in seen:
                raise ConfigError(f"{child} is given twice (lines {seen[key_node.tag, name]} and {line}); "
                                  "keep one")
            seen[key_node.tag, name] = line
        _check_duplicate_keys(value_node, child)
