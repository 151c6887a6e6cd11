"""params.yaml -> frozen dataclasses, strictly.

Every section of params.yaml is a frozen dataclass whose documented fields are its keys.
``build`` turns plain YAML data into those classes and raises ``ConfigError`` with the
dotted key for: unknown keys (listing the allowed ones), missing keys, wrong types (a
string such as ``1e-3`` where a float belongs: PyYAML reads ``1e-3`` as a string, write
``1.0e-3``), values outside a ``Literal``, and impossible values (each class's ``check``).

Every float param must be finite (``.inf`` and ``.nan`` are refused wherever a float
belongs), every int param must fit in 64 bits (|n| < 2**63), the keys of a mapping must
be strings, and a discriminator (``family``, ``name``) must be one name, a string. Every
seed (a study's ``seeds``, ``data_seed``, ``trees.seed``) must be in [0, 2**32 - 1]
(``check_seeds``): numpy's and torch's seeds, and every stream derived from one.

A field made with ``load_only`` (e.g. the resource bounds of ``compute``) is read and
checked like any other but is no part of its object's identity: ``to_data`` leaves it out
and equality ignores it, so changing it changes no run's JSON and reruns no job.

Polymorphic sections pick their class from a lazy registry (``learnscope.registry``) by a
discriminator key: a base class that declares ``registry`` in its own body (tasks by
``family``, ``learnscope.tasks.TASKS``; models by ``name``, ``learnscope.models.MODELS``).
A job of the pipeline gets its configuration by content (``config_ref``/``from_ref``): the
canonical JSON is stored once under ``.snakemake/learnscope/config/<sha256>.json`` and the
rule's param is the short ``sha256:<hex>``, so Snakemake's terminal and metadata never carry
kilobytes of params, and a job still reruns exactly when its configuration changes.

This module imports nothing of learnscope but its errors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tempfile
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from learnscope.errors import ConfigError, require

CONFIG_DIR = ".snakemake/learnscope/config"

MAX_SEED = 2**32 - 1


def load_only(default: Any) -> Any:
    """A dataclass field with ``default`` that is no part of the object's identity (module docstring)."""
    return dataclasses.field(default=default, compare=False, metadata={"load_only": True})


def check_seed(seed: int, path: str) -> None:
    """Raise ConfigError naming ``path`` unless ``seed`` is in [0, 2**32 - 1]."""
    require(0 <= seed <= MAX_SEED, path, f"= {seed} must be in [0, 2**32 - 1] = [0, {MAX_SEED}]")


def check_seeds(seeds: tuple[int, ...], path: str) -> None:
    """``check_seed`` for every entry, naming ``path[i]``."""
    for i, seed in enumerate(seeds):
        check_seed(seed, f"{path}[{i}]")


def _registry(tp: Any):
    """The lazy registry a polymorphic base class declares (``Task.registry``,
    ``ModelConfig.registry``), or None: its subclasses are picked by a discriminator key."""
    return tp.__dict__.get("registry") if isinstance(tp, type) else None


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _fail(path: str, message: str) -> typing.NoReturn:
    raise ConfigError(f"{path} {message}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


# What a YAML value is, in YAML's words (for "must be a mapping, got a list").
_YAML_KINDS = {type(None): "null", dict: "a mapping", list: "a list", str: "a string", bool: "a bool",
               int: "an integer", float: "a float"}


def _kind(data: Any) -> str:
    return _YAML_KINDS.get(type(data), type(data).__name__)


def _show(data: Any, limit: int = 60) -> str:
    """``repr(data)``, cut to ``limit`` characters: a message stays one short line."""
    text = repr(data)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def build(tp: Any, data: Any, path: str) -> Any:
    """Convert YAML/JSON data to an instance of type ``tp``, naming ``path`` in any error."""
    registry = _registry(tp)
    if registry is not None:
        return _build_polymorphic(registry, data, path)
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, data, path)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        if data not in args:
            _fail(path, f"= {_show(data)} is not allowed; allowed: {', '.join(map(repr, args))}")
        return data
    if origin in (Union, types.UnionType):
        return _build_optional(args, data, path)
    if origin is tuple:
        return _build_tuple(args, data, path)
    if origin is list:
        return list(_build_tuple((args[0], Ellipsis), data, path))
    if origin is dict:
        if not isinstance(data, dict):
            _fail(path, f"must be a mapping, got {_kind(data)}")
        for k in data:
            if not isinstance(k, str):
                _fail(_join(path, k), f"is not a name: the keys of {path} must be strings, got {_kind(k)}")
        return {k: build(args[1], v, _join(path, k)) for k, v in data.items()}
    return _build_scalar(tp, data, path)


def _build_scalar(tp: type, data: Any, path: str) -> Any:
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            hint = " (write YAML floats with a dot, e.g. 1.0e-3)" if isinstance(data, str) else ""
            _fail(path, f"= {_show(data)} must be a number{hint}")
        if abs(data) >= 2**63 if isinstance(data, int) else not math.isfinite(data):
            _fail(path, f"= {_show(data)} must be a finite number (every float param must be finite)")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            _fail(path, f"= {_show(data)} must be an integer")
        if abs(data) >= 2**63:
            _fail(path, f"= {_show(data)} is too large: integers must fit in 64 bits (|n| < 2**63)")
        return data
    if tp in (str, bool):
        if not isinstance(data, tp):
            _fail(path, f"= {_show(data)} must be a {tp.__name__}")
        return data
    raise TypeError(f"config type {tp!r} at {path} is not supported")  # a bug in a dataclass


def _build_optional(args: tuple, data: Any, path: str) -> Any:
    inner = [a for a in args if a is not type(None)]
    if data is None and len(inner) < len(args):
        return None
    return build(inner[0], data, path)


def _build_tuple(args: tuple, data: Any, path: str) -> tuple:
    if not isinstance(data, (list, tuple)):
        _fail(path, f"= {_show(data)} must be a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(build(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
    if len(data) != len(args):
        _fail(path, f"must have {len(args)} entries, got {len(data)}")
    return tuple(build(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data)))


def _build_dataclass(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        _fail(path, f"must be a mapping of keys, got {_kind(data)}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        _fail(_join(path, unknown[0]), f"is not a known key; allowed: {', '.join(sorted(fields))}")
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = build(hints[name], data[name], _join(path, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            _fail(_join(path, name), f"is required ({_type_name(hints[name])})")
    obj = cls(**values)
    if hasattr(obj, "check"):
        obj.check(path)
    return obj


def _build_polymorphic(registry, data: Any, path: str) -> Any:
    key = registry.key
    if not isinstance(data, dict):
        _fail(path, f"must be a mapping of keys with {key}, got {_kind(data)}")
    if key not in data:
        _fail(_join(path, key), f"is required; known: {', '.join(sorted(registry))}")
    if not isinstance(data[key], str):
        _fail(_join(path, key), f"= {_show(data[key])} must be one name (a string); known: "
                                f"{', '.join(sorted(registry))}")
    cls = registry.lookup(data[key], _join(path, key))
    rest = {k: v for k, v in data.items() if k != key}
    return _build_dataclass(cls, rest, path)


def to_data(obj: Any) -> Any:
    """The inverse of ``build``: plain JSON-able data, discriminators included."""
    if dataclasses.is_dataclass(obj):
        out = {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)
               if f.init and not f.metadata.get("load_only")}
        for base in type(obj).__mro__:
            registry = _registry(base)
            if registry is not None:
                out[registry.key] = registry.name_of(obj)
        return out
    if isinstance(obj, (tuple, list)):
        return [to_data(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_data(v) for k, v in obj.items()}
    return obj


def to_json(obj: Any) -> str:
    """Canonical JSON (sorted keys): equal configs give equal strings, hence equal file bytes."""
    return json.dumps(to_data(obj), sort_keys=True, separators=(",", ":"))


def from_json(tp: Any, text: str, path: str = "spec") -> Any:
    return build(tp, json.loads(text), path)


def config_ref(obj: Any, root: str | os.PathLike = ".") -> str:
    """``obj``'s canonical JSON stored by content under ``root/CONFIG_DIR`` (written once,
    atomically; the Snakefile calls this while it plans, before any job runs) and its
    reference ``sha256:<hex>``, the short rule param a job passes to ``from_ref``."""
    text = to_json(obj)
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = os.path.join(root, CONFIG_DIR, f"{digest}.json")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{digest}.tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return f"sha256:{digest}"


def config_text(ref: str, root: str | os.PathLike = ".") -> str:
    """The JSON that ``config_ref`` stored as ``ref``, checked against its hash."""
    digest = ref.removeprefix("sha256:")
    path = os.path.join(root, CONFIG_DIR, f"{digest}.json")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ConfigError(f"{path}: a job's configuration is missing ({error.strerror}); "
                          "rerun the pipeline (it stores every job's configuration as it plans)") from None
    if not ref.startswith("sha256:") or hashlib.sha256(text.encode()).hexdigest() != digest:
        raise ConfigError(f"{path}: content does not match its name {ref!r}; delete it and rerun the pipeline")
    return text


def from_ref(tp: Any, ref: str, path: str = "spec") -> Any:
    """``from_json`` of the configuration stored as ``ref`` (see ``config_ref``)."""
    return from_json(tp, config_text(ref), path)
