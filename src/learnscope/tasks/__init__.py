"""Task families (the data networks learn from), looked up by name in ``TASKS``."""

from __future__ import annotations

from learnscope.errors import ConfigError
from learnscope.tasks.algebra import GroupComposition, ModularAddition
from learnscope.tasks.base import Task
from learnscope.tasks.boolean import MultiIndex, SparseParity, monomial_target
from learnscope.tasks.digits import Digits
from learnscope.tasks.routing import Routing

TASKS: dict[str, type[Task]] = {
    "sparse_parity": SparseParity,
    "multi_index": MultiIndex,
    "digits": Digits,
    "modular_addition": ModularAddition,
    "group_composition": GroupComposition,
    "routing": Routing,
}


def get_task_class(name: str, path: str) -> type[Task]:
    """The task family registered under ``name``.

    Args:
        name: the family name given in params.yaml, e.g. ``"sparse_parity"``.
        path: dotted location of the task's section, e.g.
            ``"params.yaml: parity.tasks.foo"``; the message names ``f"{path}.family"``.

    Raises:
        ConfigError: ``name`` is not registered; the message lists the known names.
    """
    if name not in TASKS:
        known = ", ".join(sorted(TASKS))
        raise ConfigError(f"{path}.family = {name!r} is unknown; known: {known}")
    return TASKS[name]


__all__ = ["TASKS", "Digits", "GroupComposition", "ModularAddition", "MultiIndex", "Routing", "SparseParity", "Task", "get_task_class", "monomial_target"]
