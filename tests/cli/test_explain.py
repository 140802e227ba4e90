"""`enrollctl explain USER` on the quickstart, against golden files (clock pinned like the plan goldens)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.e2e import copy_example, enrollctl


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path / "quickstart")


@pytest.mark.parametrize(
    ("user", "name"),
    [
        ("helen@acme.example", "explain/helen.txt"),  # an update; terms from one policy
        ("kevin@acme.example", "explain/kevin.txt"),  # excluded by name; a completed record kept
        ("nadia@acme.example", "explain/nadia.txt"),  # a group rule; excluded from another policy by group
        ("john.smith@acme.example", "explain/jsmith.txt"),  # found by email; named by login and email
    ],
)
def test_explain_matches_its_golden_file(
    quickstart: Path, golden: Callable[[str, str], None], user: str, name: str
) -> None:
    result = enrollctl(quickstart, "explain", user)
    assert result.exit_code == 0, result.output
    assert str(quickstart) not in result.stdout
    golden(name, result.stdout)


def test_explain_json_matches_its_golden_file(quickstart: Path, golden: Callable[[str, str], None]) -> None:
    result = enrollctl(quickstart, "explain", "kevin@acme.example", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format_version"] == 1
    golden("explain/kevin.json", result.stdout)


def test_explain_of_one_item(quickstart: Path) -> None:
    result = enrollctl(quickstart, "explain", "kevin@acme.example", "--item", "Secure Coding")
    assert result.exit_code == 0, result.output
    assert 'course "Secure Coding"' in result.stdout and "Security Awareness" not in result.stdout


def test_explain_agrees_with_apply(quickstart: Path) -> None:
    assert enrollctl(quickstart, "apply", "--auto-approve").exit_code == 0
    result = enrollctl(quickstart, "explain", "helen@acme.example")
    assert "plan adds" not in result.stdout and "plan updates" not in result.stdout
    assert "plan keeps it" in result.stdout


def test_an_unknown_user_is_a_clear_error_with_candidates(quickstart: Path) -> None:
    result = enrollctl(quickstart, "explain", "hellen")
    assert result.exit_code == 1
    assert "no user 'hellen'" in result.stderr and "helen@acme.example" in result.stderr


def test_an_unknown_item_is_a_clear_error(quickstart: Path) -> None:
    result = enrollctl(quickstart, "explain", "helen@acme.example", "--item", "Anti Bribery")
    assert result.exit_code == 1 and "Anti-Bribery" in result.stderr


def test_explain_covers_every_provider_that_knows_the_user(tmp_path: Path) -> None:
    for name in ("quickstart", "litmos", "multi"):  # multi uses the other two's organisation files
        copy_example(name, tmp_path / name)
    result = enrollctl(tmp_path / "multi", "explain", "helen@acme.example", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [e["provider"] for e in json.loads(result.stdout)["explanations"]] == ["lms", "academy"]
