"""The architecture is checked, not hoped for (docs/ARCHITECTURE.md).

Import rules are import-linter contracts in pyproject.toml; `.ci/run` runs `lint-imports` and so does this
file, so a plain `pytest` run catches a broken layer too. The page's rules section is generated from those
contracts, and every package the page names exists. What import-linter cannot see, reading the clock in
the pure layers, is checked here on the syntax tree.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

ROOT = ROOT
PACKAGE = ROOT / "reconciler"
PAGE = ROOT / "docs" / "ARCHITECTURE.md"
PURE = ["core", "render", "manifest/build.py", "manifest/dump.py", "manifest/scope.py"]
CLOCK_CALLS = {"now", "today", "utcnow", "time", "monotonic"}
CLOCK_OWNERS = {"datetime", "date", "time", "dt"}


def _rules_script() -> object:
    spec = importlib.util.spec_from_file_location(
        "architecture_rules", ROOT / "scripts" / "architecture_rules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "lint-imports is not installed (pip install -e '.[test]')"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_page_states_the_contracts_as_configured() -> None:
    rules = _rules_script()
    page = PAGE.read_text(encoding="utf-8")
    assert rules.current_section(page) == rules.render(), (  # type: ignore[attr-defined]
        "docs/ARCHITECTURE.md differs from the contracts: python scripts/architecture_rules.py --write"
    )


def test_every_package_the_page_names_exists() -> None:
    names = set(re.findall(r"\breconciler(?:\.[a-z_]+)+", PAGE.read_text(encoding="utf-8")))
    assert len(names) > 10
    missing = sorted(n for n in names if importlib.util.find_spec(n) is None)
    assert not missing, f"docs/ARCHITECTURE.md names modules that do not exist: {missing}"


def test_the_package_root_holds_only_entry_points_errors_and_packages() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py", "__main__.py", "errors.py"]


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, f"split these by responsibility: {long}"


def _pure_files() -> list[Path]:
    files: list[Path] = []
    for name in PURE:
        path = PACKAGE / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_module_never_reads_the_clock(path: Path) -> None:
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
