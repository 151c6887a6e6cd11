"""The code a pipeline job runs, derived from the source: the import closure within learnscope.

Snakemake reruns a job when one of its inputs changes, so a job's code inputs must be
exactly the modules it can execute: its script, what the script imports, and what the job
imports on demand through the lazy registries (its runs' task and model classes, its
study's package, its measures). ``code_inputs`` follows ``import`` statements (anywhere in
a file, function bodies included) with ``ast``, never importing anything, and adds every
parent package's ``__init__.py`` (importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__``).
rules/common.smk calls it; a test checks, for every stage, that each learnscope module a
real job had loaded is among the derived inputs.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Iterable

PACKAGE = "learnscope"


def module_file(module: str, root: Path) -> Path | None:
    """The source file of ``module`` (``learnscope.x.y``) under ``root`` (the folder of the
    ``learnscope`` package), or None if it is not a module of ours."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@functools.lru_cache(maxsize=None)
def imported_modules(path: Path, root: Path, package: str = "") -> tuple[str, ...]:
    """The learnscope modules the file at ``path`` imports (statically, at any depth), each
    with its parent packages; ``package``: the file's package, for relative imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            # ``from package import name`` imports the submodule ``name`` where there is one
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return tuple(sorted({m for module in found if module_file(module, root) is not None
                         for m in _with_parents(module)}))


def _package_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return ".".join([PACKAGE, *rel.parts[:-1]])


def code_inputs(root: str | Path, modules: Iterable[str] = (), scripts: Iterable[str | Path] = ()) -> list[str]:
    """Every learnscope source file that running ``scripts`` and importing ``modules`` can
    execute: the import closure, as sorted paths (relative when ``root`` is).

    Args:
        root: the folder of the ``learnscope`` package, e.g. ``"src/learnscope"``.
        modules: dotted modules the job imports on demand (``"learnscope.tasks.boolean"``).
        scripts: files outside the package that the job runs (its Snakemake script).
    """
    root = Path(root)
    todo = [m for module in modules for m in _with_parents(module)]
    for script in scripts:
        todo += imported_modules(Path(script), root)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or module_file(module, root) is None:
            continue
        seen.add(module)
        path = module_file(module, root)
        todo += imported_modules(path, root, _package_of(path, root))
    return sorted(str(module_file(m, root)) for m in seen)
