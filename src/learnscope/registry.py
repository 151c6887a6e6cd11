"""Lazy registries: a name in params.yaml -> ``"module:Class"``, imported only when asked for.

A registry never imports its entries up front, so a job that uses one task family, one
model or one study imports only that one's module, and its code inputs (the import closure
of what it runs, see ``learnscope.imports``) hold only the code it really runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from learnscope.errors import ConfigError


class Registry(Mapping):
    """A read-only mapping name -> object, each object given as ``"package.module:attr"``.

    Args:
        what: what the entries are, for messages (``"task family"``).
        key: the params.yaml key that names an entry where one section picks its class
            (``"family"``, ``"name"``), or ``""``.
        entries: name -> ``"package.module:attr"``.
    """

    def __init__(self, what: str, key: str, entries: dict[str, str]):
        self.what, self.key = what, key
        self._entries = dict(entries)

    def __getitem__(self, name: str) -> Any:
        if name not in self._entries:
            raise KeyError(name)
        module, attr = self._entries[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def module(self, name: str) -> str:
        """The dotted module that defines entry ``name`` (without importing it)."""
        return self._entries[name].split(":")[0]

    def lookup(self, name: Any, path: str) -> Any:
        """The entry ``name``, or ConfigError naming ``path`` and listing the known names."""
        if not isinstance(name, str) or name not in self._entries:
            raise ConfigError(f"{path} = {name!r} is unknown; known: {', '.join(sorted(self._entries))}")
        return self[name]

    def name_of(self, obj: Any) -> str:
        """The name under which ``obj`` (an entry, or an instance of an entry class) is registered."""
        cls = obj if isinstance(obj, type) else type(obj)
        target = f"{cls.__module__}:{cls.__qualname__}"
        for name, entry in self._entries.items():
            if entry == target:
                return name
        raise KeyError(f"{target} is not a registered {self.what}")
