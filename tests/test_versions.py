"""One version, from one place: `pyproject.toml`. Every reference to an enrollctl version elsewhere equals it.

No release is published yet, so docs may also pin to `main` or to a commit SHA; a tag that was never cut
(`v1`, `v1.0.0`) or a placeholder left to be edited by hand (`<owner>`) fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import reconciler
from reconciler.cli.app import main
from tests.support.paths import ROOT

ROOT = ROOT
VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _documents() -> list[Path]:
    paths = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "action.yml", ROOT / ".pre-commit-hooks.yaml"]
    paths += sorted((ROOT / "docs").rglob("*.md"))
    paths += sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in {".md", ".yml", ".yaml"})
    return [p for p in paths if p.is_file()]


DOCUMENTS = _documents()
URL = re.compile(r"https?://\S+")
SEMVER = re.compile(r"(?<![\w.])v?(\d+\.\d+\.\d+)(?![\w.]*\d)")
OTHER_PRODUCT = re.compile(r"\b(?:Python|CPython|Node(?:\.js)?|pip|SQLite) \d+(?:\.\d+)+")  # not enrollctl's
# references to enrollctl itself: the action or a git URL (`enrollctl@REF`), pip (`enrollctl==X`), pre-commit
REFERENCE = re.compile(r"enrollctl(?:\.git)?(?:@|==)([\w.\-]+)|^\s*#?\s*rev:\s*([^\s#]+)", re.MULTILINE)
SHA = re.compile(r"[0-9a-f]{40}")
PLACEHOLDERS = {"REF", "vX.Y.Z"}


def _allowed_ref(ref: str) -> bool:
    return ref in {"main", f"v{VERSION}", VERSION, *PLACEHOLDERS} or bool(SHA.fullmatch(ref))


def test_the_documents_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOCUMENTS}
    assert {"README.md", "CHANGELOG.md", "action.yml", ".pre-commit-hooks.yaml", "docs/RELEASING.md"} <= names
    assert "examples/github-actions/apply-on-merge.yml" in names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_version_number_is_pyprojects(path: Path) -> None:
    text = OTHER_PRODUCT.sub("", URL.sub("", path.read_text(encoding="utf-8")))
    found = {m.group(1) for m in SEMVER.finditer(text)}
    assert found <= {VERSION}, f"{path.name} names {sorted(found - {VERSION})}, pyproject has {VERSION}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_enrollctl_reference_resolves(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    refs = [m.group(1) or m.group(2) for m in REFERENCE.finditer(text)]
    bad = [ref.strip("`'\"") for ref in refs if not _allowed_ref(ref.strip("`'\""))]
    assert bad == [], f"{path.name}: references that no tag or branch resolves: {bad}"
    assert "<owner>" not in text, f"{path.name} leaves a <owner> placeholder to edit by hand"


def test_the_cli_and_the_package_report_pyprojects_version() -> None:
    assert reconciler.__version__ == VERSION
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"enrollctl, version {VERSION}\n"


def test_the_action_installs_from_its_own_checkout() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    # an input naming a version would install from a package index where enrollctl was never published
    assert "version" not in action["inputs"]
    (install,) = [s for s in action["runs"]["steps"] if s.get("name") == "Install enrollctl"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]


def test_the_example_workflows_name_one_placeholder_that_init_replaces() -> None:
    uses = {
        step["uses"]
        for path in (ROOT / "examples" / "github-actions").glob("*.yml")
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
        for step in job["steps"]
        if "enrollctl" in step.get("uses", "")
    }
    assert uses == {"your-org/enrollctl@main"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "enrollctl init training-policies --action acme/enrollctl@main" in readme  # no sed, no placeholder
    assert "sed -i" not in readme


def test_the_changelog_has_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "keepachangelog.com" in changelog
