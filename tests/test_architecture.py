"""Guards on the shape of the code, run with the suite (CI runs exactly the README's test command).

- Layering (the import-linter contracts, checked on the import statements themselves): the engine
  (``lifecycle``) imports nothing from ``tools``, ``prompts``, ``server``, ``data``, ``mcp`` or ``openai``;
  ``tools`` and ``prompts`` import nothing from ``server``; no file outside the engine imports ``sqlite3`` (the
  data-source seam, ``lifecycle.sources``, is the only way to the data).
- No import cycles among the modules of ``lifecycle``, ``tools``, ``prompts`` and ``server`` (imports at module
  level; ``if TYPE_CHECKING:`` blocks excluded).
- Lint: ``ruff check`` with the rules in pyproject.toml (pyflakes, pycodestyle, import order).
- Types: ``mypy`` over the typed perimeter listed in pyproject.toml (``[tool.mypy] files``), which grows as
  modules are made to pass.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lifecycle", "tools", "prompts", "server")
FORBIDDEN = {
    "lifecycle": ("tools", "prompts", "server", "data", "mcp", "openai"),
    "tools": ("server",),
    "prompts": ("server",),
}
ENGINE_ONLY = ("sqlite3",)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(packages: tuple[str, ...] = PACKAGES) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path, module_level_only: bool) -> Iterator[str]:
    """The absolute module names ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> Iterator[str]:
        for node in nodes:
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If) and _is_type_checking(node):
                continue
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in (getattr(node, "body", []), getattr(node, "orelse", []), getattr(node, "finalbody", []),
                              *[h.body for h in getattr(node, "handlers", [])]):
                    yield from visit(block)
            elif not module_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from visit(node.body)

    yield from visit(tree.body)


def test_each_layer_imports_only_what_is_below_it() -> None:
    broken = []
    for layer, forbidden in FORBIDDEN.items():
        for path in python_files((layer,)):
            for name in imports(path, module_level_only=False):
                if name.split(".")[0] in forbidden:
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "layering broken:\n" + "\n".join(sorted(set(broken)))


def test_no_file_outside_the_engine_touches_the_database_driver() -> None:
    found = [f"{path.relative_to(ROOT)} imports {name}" for path in python_files(("tools", "prompts", "server"))
             for name in imports(path, module_level_only=False) if name.split(".")[0] in ENGINE_ONLY]
    assert not found, "outside lifecycle/, reach the data through lifecycle.sources:\n" + "\n".join(found)


def import_graph() -> dict[str, set[str]]:
    """Module → the modules it imports at module level. ``from package import submodule`` is an edge to the
    submodule only (the package is being initialised anyway: every submodule import runs its parents first)."""
    modules = {module_name(path): path for path in python_files()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set(imports(path, module_level_only=True))
        bound_submodules = {target.rpartition(".")[0] for target in found if target in modules} & {
            base for base in found if base in modules}
        targets = {t for t in found if t in modules and t != name}
        for package in bound_submodules:
            named = [t for t in found if t.rpartition(".")[0] == package]
            if named and all(t in modules for t in named):
                targets.discard(package)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    """The check below can fail: a → b → c → a is one cycle; d → a is not part of it."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_there_are_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" → ".join(c) for c in found)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    pytest.importorskip("ruff")
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.slow  # a whole-perimeter type check (~1 min of one core); CI runs it in the slow suite
def test_mypy_passes_on_the_typed_perimeter() -> None:
    pytest.importorskip("mypy")
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
