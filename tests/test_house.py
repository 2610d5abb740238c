"""The house, read from the imports: data flows one way and nothing imports what stands above it.

Layers, lowest first: a module may import its own area and any lower layer, never a higher one or a sibling
area of its own layer. Imports under ``if TYPE_CHECKING:`` are for annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "src" / "hybridtls"
LAYERS = (
    {"errors", "_version", "powershell", "references"},
    {"model"},
    {"pki"},
    {"evidence", "smtp"},
    {"checks"},
    {"planning"},
    {"report"},
    {"pipeline"},
    {"watch"},  # the monitor: rounds of the pipeline's probe, their history and the alerts they raise
    {"cli"},
    {"_cli", "__main__"},  # faces of the command line
    {"__init__"},  # the Python API
)
RANK = {area: rank for rank, areas in enumerate(LAYERS) for area in areas}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _runtime_imports(tree: ast.Module, module: str, modules: frozenset[str] = frozenset()) -> set[str]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hybridtls"):
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules
            found.update(submodules if len(submodules) == len(node.names) else {node.module, *submodules})
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hybridtls"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        imported = _runtime_imports(ast.parse(path.read_text(encoding="utf-8")), name, frozenset(modules))
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def test_every_area_has_a_layer() -> None:
    assert {_area(m) for m in _graph()} <= set(RANK)


def test_nothing_imports_upward_or_sideways() -> None:
    wrong = sorted(f"{a} imports {b}" for a, targets in _graph().items() for b in targets
                   if _area(a) != _area(b) and RANK[_area(b)] >= RANK[_area(a)] and _area(b) != "__init__")
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_house_test_sees_a_violation() -> None:
    tree = ast.parse("from hybridtls.report import Report\nif TYPE_CHECKING:\n    from hybridtls.cli import main\n")
    assert _runtime_imports(tree, "hybridtls.checks.x") == {"hybridtls.report"}


def test_reading_console_text_does_not_load_cryptography() -> None:
    """Start-up: the readers, the checks and the terminal report load cryptography only when a certificate is
    parsed (a check importing pki.dane at the top added 60 ms to every run)."""
    import subprocess
    import sys

    code = ("import sys, hybridtls.pipeline, hybridtls.checks, hybridtls.report.terminal, hybridtls.evidence.loader, "
            "hybridtls.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('cryptography', 'OpenSSL')))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONPATH": str(PACKAGE.parent)}).stdout
    assert shown.strip() == "[]"
