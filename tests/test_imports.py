"""learnscope.imports: a job's code inputs are the import closure of what it runs."""

from __future__ import annotations

import ast
from pathlib import Path

from learnscope.imports import code_inputs, module_file

SRC = Path(__file__).resolve().parents[1] / "src/learnscope"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "learnscope"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_closure_follows_every_kind_of_import_and_adds_parent_packages(tmp_path):
    root = _package(tmp_path, {
        "a.py": "from learnscope.sub import b\n",
        "sub/__init__.py": "",
        "sub/b.py": "def f():\n    from . import c  # a function-level, relative import\n    return c\n",
        "sub/c.py": "import learnscope.d\n",
        "d.py": "",
        "unused.py": "import learnscope.a\n",
    })
    script = tmp_path / "script.py"
    script.write_text("from learnscope import a\nimport numpy\n")
    files = {Path(p).relative_to(root).as_posix() for p in code_inputs(root, scripts=[script])}
    assert files == {"__init__.py", "a.py", "sub/__init__.py", "sub/b.py", "sub/c.py", "d.py"}
    assert {Path(p).relative_to(root).as_posix() for p in code_inputs(root, ["learnscope.d"])} == {"__init__.py",
                                                                                                  "d.py"}


def test_lazy_registries_keep_unused_models_and_tasks_out():
    """A train job imports its own task and model on demand: no other task or model is in its closure."""
    files = {Path(p).relative_to(SRC).as_posix() for p in code_inputs(
        SRC, ["learnscope.tasks.boolean", "learnscope.models.mlp"], [SRC.parents[1] / "scripts/train.py"])}
    assert {"train.py", "tasks/boolean.py", "models/mlp.py", "models/base.py", "tasks/base.py"} <= files
    assert not files & {"models/transformer.py", "models/gdln.py", "models/embed.py", "tasks/routing.py",
                        "tasks/algebra.py", "tasks/digits.py"}
    assert not any(f.startswith("studies/") for f in files)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the learnscope modules it imports by name (parent packages not implied)."""
    graph = {}
    for path in SRC.rglob("*.py"):
        parts = ["learnscope", *path.relative_to(SRC).with_suffix("").parts]
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("learnscope"):
                subs = {f"{node.module}.{a.name}" for a in node.names if module_file(f"{node.module}.{a.name}", SRC)}
                deps |= subs or {node.module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("learnscope")}
        graph[module] = deps
    return graph


def test_the_package_has_no_import_cycle():
    graph = _import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            assert state.get(dep) != 1, f"import cycle: {' -> '.join(path + [module, dep])}"
            if dep not in state:
                visit(dep, path + [module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert len(graph) > 50  # the walk saw the whole package
