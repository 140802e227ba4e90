"""Layering contracts of DESIGN.md §3 and §7, checked rather than hoped for.

- The pure core (model, desired, diff, safety, plan, render) never imports I/O libraries, the providers,
  the sandbox or the CLI, and never reads the clock: `now` is passed in.
- The sandbox never imports the providers and no provider imports the sandbox, so a misunderstanding of
  the vendor documentation in one is caught by the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"

CORE = [
    "model.py",
    "errors.py",
    "desired.py",
    "desired_refs.py",
    "directory_index.py",
    "diff.py",
    "term_compare.py",
    "safety.py",
    "plan.py",
    "manifest_build.py",
    "manifest_dump.py",
    "render",
    "export.py",
    "explain.py",
    "explain_render.py",
    "scope.py",
]
IO_MODULES = {"httpx", "socket", "sqlite3", "subprocess", "urllib", "http", "requests", "shutil", "tempfile"}
APP_MODULES = {
    "reconciler.providers",
    "reconciler.sandbox",
    "reconciler.cli.app",
    "reconciler.apply.run",
    "reconciler.engine.workspace",
}
CLOCK_CALLS = {"now", "today", "utcnow", "time", "monotonic"}
CLOCK_OWNERS = {"datetime", "date", "time", "dt"}


def _python_files(names: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = PACKAGE / name
        if path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
        elif path.exists():
            files.append(path)
    return files


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _matches(module: str, forbidden: set[str]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


@pytest.mark.parametrize("path", _python_files(CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_does_no_io(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if _matches(m, IO_MODULES | APP_MODULES))
    assert not bad, f"{path.name} imports {bad}: the core must stay pure"


@pytest.mark.parametrize("path", _python_files(CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
        and isinstance(node.func.value, ast.Name | ast.Attribute)
        and getattr(node.func.value, "id", getattr(node.func.value, "attr", "")) in CLOCK_OWNERS
    ]
    assert not calls, f"{path.name} reads the clock ({calls}); pass `now` in instead"


@pytest.mark.parametrize("path", _python_files(["sandbox"]), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sandbox_never_imports_providers(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if _matches(m, {"reconciler.providers"}))
    assert not bad, f"{path.name} imports {bad}: emulators are written from the vendor docs, not our clients"


@pytest.mark.parametrize("path", _python_files(["providers"]), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_providers_never_import_sandbox(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if _matches(m, {"reconciler.sandbox"}))
    assert not bad, f"{path.name} imports {bad}: providers must not lean on the emulators"


def test_the_layer_check_sees_the_package() -> None:
    assert len(_python_files(CORE)) >= 3
    assert _python_files(["providers"])
