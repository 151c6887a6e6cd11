"""Task families (the data networks learn from), looked up by name in ``TASKS``.

The registry is lazy: naming a family imports its module only (``learnscope.registry``).
Import a family's class from its own module, e.g. ``from learnscope.tasks.boolean import
SparseParity``.
"""

from __future__ import annotations

from learnscope.registry import Registry

TASKS = Registry("task family", "family", {
    "sparse_parity": "learnscope.tasks.boolean:SparseParity",
    "multi_index": "learnscope.tasks.boolean:MultiIndex",
    "digits": "learnscope.tasks.digits:Digits",
    "gated_product": "learnscope.tasks.gaussian:GatedProduct",
    "modular_addition": "learnscope.tasks.algebra:ModularAddition",
    "group_composition": "learnscope.tasks.algebra:GroupComposition",
    "random_tree": "learnscope.tasks.trees:RandomTree",
    "routing": "learnscope.tasks.routing:Routing",
    "templates": "learnscope.tasks.templates:Templates",
    "template_copy": "learnscope.tasks.templates:TemplateCopy",
})


def get_task_class(name: str, path: str) -> type:
    """The task family registered under ``name``.

    Args:
        name: the family name given in params.yaml, e.g. ``"sparse_parity"``.
        path: dotted location of the task's section, e.g.
            ``"params.yaml: parity.tasks.foo"``; the message names ``f"{path}.family"``.

    Raises:
        ConfigError: ``name`` is not registered; the message lists the known names.
    """
    return TASKS.lookup(name, f"{path}.family")
