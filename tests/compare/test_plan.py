"""The stage table: each stage is a function of its own `compare.stages` module, each marks itself
done with the file earlier versions wrote (so their run folders resume), the table's order is the
one its docstring draws, and the compare package's imports form no circle."""
from __future__ import annotations

import ast
import pkgutil
import re
from functools import partial
from pathlib import Path

import compare
from compare import files, plan, stages
from compare.stages import answer, train

# The run folder's files as earlier versions wrote them: a resumed run looks for these.
OUTPUTS = {
    "split": "split.json", "examples": "examples.json", "index": "retrieval.json",
    "base": "answers/base.jsonl", "fewshot": "answers/fewshot.jsonl", "rag": "answers/rag.jsonl",
    "train": "train.json", "finetuned": "answers/finetuned.jsonl", "train_rag": "train_rag.json",
    "finetuned_rag": "answers/finetuned_rag.jsonl", "forgetting": "forgetting.json", "score": "scores.json",
    "costs": "costs.json", "results": "results.json",
}


def test_every_stage_is_the_run_function_of_a_stage_module():
    modules = []
    for stage in plan.STAGES:
        function = stage.run.func if isinstance(stage.run, partial) else stage.run
        assert function.__name__ == "run" and function.__module__.startswith("compare.stages."), stage
        modules.append(function.__module__)
    assert set(modules) == {f"compare.stages.{module.name}" for module in pkgutil.iter_modules(stages.__path__)}
    answering = [stage for stage in plan.STAGES if getattr(stage.run, "func", None) is answer.run]
    assert [(stage.name, stage.run.keywords) for stage in answering] == [
        (arm, {"arm": arm}) for arm in compare.ARMS]  # an answering stage is an arm, given its name
    training = [stage for stage in plan.STAGES if getattr(stage.run, "func", None) is train.run]
    assert [(stage.name, stage.run.keywords) for stage in training] == [
        ("train", {"adapter": "train"}), ("train_rag", {"adapter": "train_rag"})]


def test_each_stage_marks_itself_done_with_the_file_earlier_versions_wrote():
    assert {stage.name: stage.output for stage in plan.STAGES} == OUTPUTS
    assert {files.SPLIT, files.EXAMPLES, files.RETRIEVAL, files.FORGETTING, files.SCORES, files.COSTS,
            files.RESULTS} <= set(OUTPUTS.values())
    assert (files.METRICS_MD, files.ANSWERS_JSONL, files.latency("rag")) == (
        "metrics.md", "answers.jsonl", "answers/rag.latency.json")


def test_the_table_is_in_the_order_its_docstring_draws():
    drawn = plan.__doc__.split("\n\n")[1].split("(")[0]
    assert [name.strip() for name in drawn.split("->")] == [stage.name for stage in plan.STAGES]


def _compare_modules() -> dict[str, ast.Module]:
    root = Path(compare.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = ast.parse(path.read_text())
    return modules


def _compare_imports() -> dict[str, set[str]]:
    """compare module -> the compare modules it imports (top level, in functions or for type checks)."""
    modules = _compare_modules()
    edges = {}
    for module, tree in modules.items():
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        edges[module] = {target for target in targets if target in modules and target != module}
    return edges


def test_the_compare_package_has_no_import_circle():
    edges = _compare_imports()
    done, on_path = set(), []

    def visit(module: str) -> None:
        if module in on_path:
            raise AssertionError("import circle: " + " -> ".join(on_path[on_path.index(module):] + [module]))
        if module in done:
            return
        on_path.append(module)
        for target in sorted(edges[module] - {"compare"}):  # the package's own __init__ re-exports
            visit(target)
        on_path.pop()
        done.add(module)

    for module in sorted(edges):
        visit(module)


def test_stages_import_no_other_stage_and_only_the_plan_and_worker_know_them():
    edges = _compare_imports()
    stage_modules = {module for module in edges if module.startswith("compare.stages.")}
    for module in stage_modules:
        assert not edges[module] & stage_modules, f"{module} imports {edges[module] & stage_modules}"
    importers = {module for module, targets in edges.items() if targets & (stage_modules | {"compare.plan"})}
    assert importers == {"compare.plan", "compare.worker"}


def test_no_function_is_named_by_a_string():
    named = re.compile(r"^[a-z_]+(\.[a-z_]+)+:[a-z_]+$")  # "compare.stages:split_stage"
    found = [(module, node.value) for module, tree in _compare_modules().items() for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and named.match(node.value)]
    assert found == []
