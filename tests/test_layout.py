"""The package layout is the pipeline: each folder is one stage and imports only earlier stages.

Reads every import in the package, at module level and inside functions (where upward ties like to
hide), and fails on an import of a later stage or on an import cycle between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "extractor"

# stage order: a module may import its own stage and the stages before it
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("model", ("extractor.version", "extractor.document", "extractor.lexicon")),
    ("readers", ("extractor.readers",)),
    ("reading", ("extractor.report", "extractor.reading")),
    ("checks", ("extractor.checks",)),
    ("api", ("extractor.api", "extractor.guard")),
    ("store", ("extractor.store",)),
    ("outputs", ("extractor.outputs",)),
    ("web", ("extractor.web",)),
    ("cli", ("extractor.cli", "extractor.__main__")),
]
FACE = "extractor"  # the package's __init__: the public face, ranked with the api


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _rank(module: str) -> int:
    if module == FACE:
        return next(i for i, (name, _) in enumerate(STAGES) if name == "api")
    for i, (_, prefixes) in enumerate(STAGES):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} belongs to no stage: add its folder to STAGES in tests/test_layout.py")


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> set[str]:
    """The package modules that `module` imports anywhere in its body."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == FACE or t.startswith(FACE + "."))
    found.discard(module)
    return found


def test_every_module_has_a_stage():
    for module in MODULES:
        _rank(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_of_a_later_stage(module):
    if module == FACE:
        return
    later = [t for t in sorted(imports_of(module)) if _rank(t) > _rank(module)]
    assert not later, f"{module} ({STAGES[_rank(module)][0]}) imports later stages: {later}"


def test_no_import_cycles():
    graph = {m: {t for t in imports_of(m) if t in MODULES and t != FACE} for m in MODULES if m != FACE}
    # a package's __init__ that lazily loads its own modules (readers.read → readers.pdf) is a
    # dispatcher, not a tie: drop edges from a package into its own submodules
    for m, targets in graph.items():
        if MODULES[m].name == "__init__.py":
            graph[m] = {t for t in targets if not t.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node)


def test_the_walker_sees_imports_inside_functions(tmp_path):
    """The test above must be able to fail: an upward import hidden in a function is found."""
    assert "extractor.api" in imports_of("extractor.store.ingest") or "extractor" in imports_of("extractor.store.ingest")
    assert _rank("extractor.cli.main") > _rank("extractor.store.database") > _rank("extractor.checks.rules")
