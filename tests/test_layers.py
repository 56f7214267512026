"""The package graph of ARCHITECTURE.md holds: each package imports only the packages it may (lazy
imports inside functions included), the faces are the only Streamlit users, nothing outside `cli/`
imports `cli`, and no module imports itself back through others (an AST scan, nothing imported)."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# package -> the packages it may import (ARCHITECTURE.md's table; `common` is open to all).
MAY_IMPORT: dict[str, set[str]] = {
    "common": set(),
    "report": set(),
    "estimator": set(),
    "runs": set(),
    "lm": set(),
    "tuning": {"lm", "runs", "estimator"},
    "rag_baseline": {"lm"},
    "compare": {"tuning", "rag_baseline", "lm", "estimator", "runs", "report"},
    "advisor": {"estimator", "report", "compare", "runs"},
    "ui": {"advisor", "compare", "lm", "report", "runs", "estimator", "tuning", "rag_baseline"},
    "app_pages": {"advisor", "compare", "lm", "report", "runs", "estimator", "tuning", "rag_baseline", "ui"},
    "cli": {"advisor", "compare", "lm", "report", "runs", "estimator", "tuning", "rag_baseline"},
    "bench": {"advisor", "compare", "lm", "report", "runs", "estimator", "tuning", "rag_baseline"},
}
FACES = {"ui", "app_pages"}  # and app.py: the only Streamlit code


def _modules() -> dict[str, Path]:
    found = {}
    for package in MAY_IMPORT:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every absolute import in the file, lazy ones included: (dotted name, line)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:  # `from pkg import module` imports the module, not pkg's __init__ only
                submodule = f"{node.module}.{alias.name}"
                names.append((submodule if submodule in MODULES else node.module, node.lineno))
    return names


def test_each_package_imports_only_what_its_layer_may():
    wrong = []
    for name, path in MODULES.items():
        package = name.split(".")[0]
        for imported, line in _imports(path):
            top = imported.split(".")[0]
            if top in MAY_IMPORT and top not in (package, "common") and top not in MAY_IMPORT[package]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {imported} ({package} may not import {top})")
            if top == "streamlit" and package not in FACES:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports streamlit outside the pages")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_back_through_others():
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for imported, _ in _imports(path):
            while imported and imported not in MODULES:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                deps.add(imported)
        graph[name] = deps
    circles, state = [], {}  # state: 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                circles.append(" -> ".join([*path[path.index(dep):], dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


def test_the_scan_sees_a_forbidden_import(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    import compare.spec\n    from cli import main\n    from runs import RunStatus\n")
    assert [name for name, _ in _imports(planted)] == ["compare.spec", "cli.main", "runs"]
