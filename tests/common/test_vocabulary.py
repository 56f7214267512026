"""Each vocabulary is written once, in its home, and derived everywhere else.

A vocabulary is a module-level `Name = Literal[...]` of two or more words in a source package (its
home is that module; a new Literal is covered without editing this test), or one of the suffix
tables the readers export. An AST scan of every source file (tests excluded) flags:
- a tuple, list or set literal, or a `Literal[...]` in an annotation, whose strings are mostly (two
  or more, and at least half) words of one vocabulary: `x in ("lora", "qlora")`,
  `choices=("sft", "dpo")`. In the vocabulary's home only one spelling every word is flagged
  (the tuple is `get_args` of the Literal); the home may name a part (`TERMINAL_STATES`);
- a Literal definition whose words belong to another home's vocabulary (a second name for them);
- a dict literal, outside the home, keyed by some but not all of a vocabulary's words (a dict keyed
  by all of them, or by exactly another vocabulary's, is a table of it: labels, defaults).
Words are matched whole, so `none` or `json` alone never count.
"""
from __future__ import annotations

import ast
import importlib
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Vocabularies that are tables rather than Literals: (home, dict whose keys are the words).
TABLES = (("tuning/data/readers.py", "FORMATS"), ("rag_baseline/ingest.py", "READERS"))

# Sites that must spell a vocabulary's words, each with its reason: (file, scope, vocabulary).
# The scope is the name a literal is assigned to, else the function or class it is in.
ALLOWED: dict[tuple[str, str, str], str] = {
    (
        "advisor/sizing.py",
        "OWNED_SHARDINGS",
        "Sharding",
    ): "a policy: the user's own GPUs run DDP while a copy fits, else FSDP (no DeepSpeed to install)",
    ("advisor/rules/behaviour.py", "_INTERNALISED", "Need"): "the needs this rule says fine-tuning trains in",
    ("advisor/rules/knowledge.py", "_EVERY", "KnowledgeUpdate"): "words for the updates that happen (never has none)",
    (
        "advisor/rules/knowledge.py",
        "rag_needs_a_knowledge_gap",
        "KnowledgeUpdate",
    ): "the rule's condition: facts that change monthly or more often",
    (
        "advisor/rules/prompting.py",
        "prompting_falls_short",
        "PromptingResult",
    ): "the rule's condition: prompting was tried and fell short",
    ("bench/bench_app.py", "answers", "Need"): "a sample questionnaire: answers, not a list of the vocabulary",
    ("bench/bench_train_tokens.py", "SCHEMES", "ArmName"): "the arms a scheme runs: a choice, not the list of arms",
    (
        "runs/launch.py",
        "WORKERS",
        "Command",
    ): "run kinds (a spec's `kind`) and their workers, not the advice's commands",
}
PENDING: dict[tuple[str, str, str], str] = {}  # sites to fix, with why; empty: every site is derived


@dataclass(frozen=True)
class Vocabulary:
    name: str
    home: str  # the file, relative to the repository root
    words: frozenset[str]


@dataclass(frozen=True)
class Hit:
    file: str
    line: int
    scope: str
    vocabulary: Vocabulary

    def __str__(self) -> str:
        return (f"{self.file}:{self.line} ({self.scope}) re-spells {self.vocabulary.name} "
                f"(home: {self.vocabulary.home}): import it")


def source_files(root: Path = ROOT) -> list[Path]:
    """app.py and every file of the top-level packages (the folders with an __init__.py)."""
    packages = sorted(p.parent for p in root.glob("*/__init__.py") if p.parent.name != "tests")
    return [root / "app.py", *(f for package in packages for f in sorted(package.rglob("*.py")))]


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _is_literal(node: ast.AST) -> bool:
    target = node.value if isinstance(node, ast.Subscript) else None
    return (isinstance(target, ast.Name) and target.id == "Literal") or (
        isinstance(target, ast.Attribute) and target.attr == "Literal")


def _literal_definitions(tree: ast.Module) -> dict[str, ast.Subscript]:
    """Module-level `Name = Literal[...]` (or `Name: TypeAlias = Literal[...]`)."""
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            name, value = stmt.target.id, stmt.value
        else:
            continue
        if _is_literal(value):
            out[name] = value
    return out


def _strings(nodes: list[ast.expr]) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _literal_args(node: ast.Subscript) -> list[ast.expr]:
    return list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def find_vocabularies(files: list[Path], root: Path = ROOT, tables=TABLES) -> list[Vocabulary]:
    """Every Literal of two or more words, with the words `get_args` gives (a Literal built from
    other Literals is imported to read them), and the suffix tables."""
    found = []
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for name, node in _literal_definitions(tree).items():
            args = _literal_args(node)
            if all(isinstance(a, ast.Constant) for a in args):
                words = _strings(args)
            else:
                value = getattr(importlib.import_module(_module_name(path, root)), name)
                words = [w for w in typing.get_args(value) if isinstance(w, str)]
            if len(set(words)) >= 2:
                found.append(Vocabulary(name, _relative(path, root), frozenset(words)))
    for home, table in tables:
        keys = getattr(importlib.import_module(_module_name(root / home, root)), table)
        found.append(Vocabulary(table, home, frozenset(keys)))
    return found


def _scopes(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node -> the name it is assigned to, else the function or class it is in."""
    scope_of: dict[ast.AST, str] = {}

    def visit(node: ast.AST, scope: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = node.name
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], (ast.Name, ast.Attribute)):
            target = node.targets[0]
            scope = target.id if isinstance(target, ast.Name) else target.attr
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            scope = node.target.id
        scope_of[node] = scope
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(tree, "<module>")
    return scope_of


def _respelled(kind: str, words: set[str], vocabulary: Vocabulary, here: str) -> bool:
    """Whether a literal of `kind` in file `here`, holding `words`, re-spells `vocabulary`."""
    shared = words & vocabulary.words
    if len(shared) < 2 or 2 * len(shared) < len(words):
        return False
    home = vocabulary.home == here
    if kind == "list":  # the home may name a part of its vocabulary, not all of it
        return not home or shared == vocabulary.words
    if kind == "definition":  # a second name for another home's words
        return not home
    if kind == "dict":  # keyed by some words only (keyed by all: a table of the vocabulary)
        return not home and shared == words != vocabulary.words
    return True  # a Literal in an annotation


def _best(words: set[str], vocabularies: list[Vocabulary]) -> Vocabulary:
    """The vocabulary sharing the most words (the smaller one on a tie: the narrower name)."""
    return max(vocabularies, key=lambda v: (len(words & v.words), -len(v.words)))


def _literals(tree: ast.Module, definitions: set[int], literal_slices: set[int]):
    """(kind, node, its strings) for every literal the scan looks at."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and id(node) not in literal_slices:
            yield "list", node, _strings(node.elts)
        elif _is_literal(node):
            yield "definition" if id(node) in definitions else "annotation", node, _strings(_literal_args(node))
        elif isinstance(node, ast.Dict):
            yield "dict", node, _strings([k for k in node.keys if k is not None])


def scan(files: list[Path], vocabularies: list[Vocabulary], root: Path = ROOT) -> list[Hit]:
    exact = {v.words for v in vocabularies}
    hits = []
    for path in files:
        here = _relative(path, root)
        tree = ast.parse(path.read_text(), str(path))
        definitions = set(map(id, _literal_definitions(tree).values()))
        literal_slices = {id(node.slice) for node in ast.walk(tree) if _is_literal(node)}
        scope_of = _scopes(tree)
        for kind, node, strings in _literals(tree, definitions, literal_slices):
            words = set(strings)
            if kind == "dict" and words in exact:
                continue  # keyed by exactly another vocabulary's words: a table of that one
            candidates = [v for v in vocabularies if _respelled(kind, words, v, here)]
            if candidates:
                hits.append(Hit(here, node.lineno, scope_of[node], _best(words, candidates)))
    return _innermost(hits)


def _innermost(hits: list[Hit]) -> list[Hit]:
    """One hit per site and vocabulary (a Literal inside a tuple is one re-spelling)."""
    seen, out = set(), []
    for hit in sorted(hits, key=lambda h: (h.file, h.line, h.vocabulary.name)):
        key = (hit.file, hit.line, hit.vocabulary.name)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out


def _key(hit: Hit) -> tuple[str, str, str]:
    return hit.file, hit.scope, hit.vocabulary.name


@pytest.fixture(scope="module")
def hits() -> list[Hit]:
    files = source_files()
    return scan(files, find_vocabularies(files))


def test_no_vocabulary_is_spelled_outside_its_home(hits):
    found = [str(h) for h in hits if _key(h) not in ALLOWED and _key(h) not in PENDING]
    assert not found, "\n".join(found)


def test_every_allowed_or_pending_site_still_spells_its_vocabulary(hits):
    keys = {_key(h) for h in hits}
    stale = [f"{k} ({why})" for k, why in {**ALLOWED, **PENDING}.items() if k not in keys]
    assert not stale, "gone: remove from ALLOWED/PENDING:\n" + "\n".join(stale)


def test_each_tuple_of_common_vocabulary_is_its_literal_s_args():
    from common import vocabulary

    literals = [v for v in vars(vocabulary).values() if typing.get_origin(v) is typing.Literal]
    tuples = {name: v for name, v in vars(vocabulary).items()
              if name.isupper() and isinstance(v, tuple) and v and all(isinstance(w, str) for w in v)}
    assert tuples
    for name, words in tuples.items():
        assert any(words == typing.get_args(literal) for literal in literals), name


@pytest.mark.parametrize("method", ["lora", "qlora", "full"])
@pytest.mark.parametrize("quant", ["none", "int8", "nf4"])
def test_the_tuning_spec_and_the_estimator_refuse_the_same_bases(tmp_path, method, quant):
    """One rule (`quant_problem`) for both: QLoRA trains a quantized base, LoRA and full a 16-bit one."""
    from pydantic import ValidationError

    from common.vocabulary import QUANT_OF, quant_problem
    from estimator.request import EstimateRequest
    from tuning.spec import JobSpec

    problem = quant_problem(method, quant)
    assert (problem is None) == ((quant != "none") == (method == "qlora"))
    assert quant_problem(method, QUANT_OF[method]) is None
    for make in (lambda: JobSpec(model="m", data="d.jsonl", output=str(tmp_path / "r"), method=method, quant=quant),
                 lambda: EstimateRequest(model="m", method=method, quant=quant)):
        if problem is None:
            assert make().quant == quant
        else:
            with pytest.raises(ValidationError, match=problem.split(":")[0]):
                make()


def test_every_table_keyed_by_a_vocabulary_holds_each_of_its_words():
    """`NAME: dict[Vocabulary, ...] = {...}` at module level: labels, defaults, traits."""
    checked = []
    for path in source_files():
        if path.parent.name == "app_pages" or path.name == "app.py":
            continue  # pages run when imported, and keep no tables
        for stmt in ast.parse(path.read_text()).body:
            annotation = stmt.annotation if isinstance(stmt, ast.AnnAssign) else None
            if not (isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name)
                    and annotation.value.id == "dict" and isinstance(annotation.slice, ast.Tuple)
                    and isinstance(annotation.slice.elts[0], ast.Name)):
                continue
            module = importlib.import_module(_module_name(path, ROOT))
            key_type = getattr(module, annotation.slice.elts[0].id, None)
            if typing.get_origin(key_type) is typing.Literal:
                table = getattr(module, stmt.target.id)
                assert set(table) == set(typing.get_args(key_type)), f"{_relative(path, ROOT)} {stmt.target.id}"
                checked.append(stmt.target.id)
    assert {"QUANT_OF", "SHARDING", "APPROACH_METHOD", "ARM_TRAITS"} <= set(checked)


def test_a_planted_re_spelling_is_found(tmp_path):
    """The scan on a small tree: a home with a Literal and a table, and a module re-spelling both."""
    home = tmp_path / "pkg" / "words.py"
    home.parent.mkdir()
    (home.parent / "__init__.py").write_text("")
    home.write_text('from typing import Literal\n\nQuant = Literal["none", "int8", "nf4"]\n'
                    'SUFFIXES = {".jsonl": 1, ".csv": 2}\n')
    user = home.parent / "user.py"
    user.write_text('def f(q, s):\n'
                    '    return q in ("int8", "nf4") and s in [".csv", ".jsonl"]\n'
                    'LABELS = {"none": "-", "int8": "8-bit", "nf4": "4-bit"}\n'  # a table: fine
                    'SOME = {"int8": 1, "nf4": 2}\n'
                    'ONE = ("none", "x", "y")\n')  # one word: fine
    files = [home, user]
    vocabularies = find_vocabularies(files, tmp_path, tables=())
    vocabularies.append(Vocabulary("SUFFIXES", "pkg/words.py", frozenset({".jsonl", ".csv"})))
    assert [str(h) for h in scan(files, vocabularies, tmp_path)] == [
        "pkg/user.py:2 (f) re-spells Quant (home: pkg/words.py): import it",
        "pkg/user.py:2 (f) re-spells SUFFIXES (home: pkg/words.py): import it",
        "pkg/user.py:4 (SOME) re-spells Quant (home: pkg/words.py): import it",
    ]
