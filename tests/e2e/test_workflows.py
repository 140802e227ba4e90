"""Every GitHub workflow and action file we ship validates against GitHub's schema, offline.

The schemas are the copies vendored by check-jsonschema (a test dependency), so no network is needed.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.paths import ROOT

ROOT = ROOT
WORKFLOWS = sorted(
    {
        *ROOT.glob(".github/workflows/*.yml"),
        *ROOT.glob("examples/**/.github/workflows/*.yml"),
        *ROOT.glob("examples/github-actions/**/*.yml"),
    }
)
ACTIONS = sorted(ROOT.glob("action.yml"))


def _vendored_schema(name: str) -> dict[str, object]:
    files = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(files.joinpath(f"{name}.json").read_text(encoding="utf-8"))


def _errors(schema: dict[str, object], path: Path) -> list[str]:
    # GitHub's `on:` key is YAML 1.1's boolean True under PyYAML; the schema expects the string.
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(document, dict) and True in document:
        document["on"] = document.pop(True)
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_matches_github_schema(path: Path) -> None:
    assert _errors(_vendored_schema("github-workflows"), path) == []


def test_action_files_match_github_schema() -> None:
    for path in ACTIONS:
        assert _errors(_vendored_schema("github-actions"), path) == [], path


def test_ci_workflow_is_checked() -> None:
    assert ROOT / ".github/workflows/ci.yml" in WORKFLOWS


def test_a_broken_workflow_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  build:\n    steps: not-a-list\n", encoding="utf-8")
    assert _errors(_vendored_schema("github-workflows"), broken)
