"""Command-line misuse: unknown flags and commands, missing or wrong files, conflicting options, an apply
nobody confirmed. Each exits 1 (click's own usage exit 2 is reserved for `plan --detailed-exitcode`),
says what is wrong, never shows a traceback, and writes nothing to the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import plan as cli_plan
from tests.support.bad import assert_clean_failure, copy_example, enrollctl, sandbox_writes

Args = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    name: str
    args: Args  # the command line, given the repository root (a copy of the quickstart)
    needles: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


def _plan_file(root: Path) -> str:
    path = root / "saved.json"
    if not path.exists():
        result = enrollctl(root, "plan", "--out", str(path))
        assert result.exit_code == 0, result.output
    return str(path)


CASES = [
    Case(
        "unknown-flag", lambda r: ["-C", str(r), "plan", "--frobnicate"], ("no such option", "--frobnicate")
    ),
    Case("unknown-global-flag", lambda r: ["--verbose-ish", "plan"], ("no such option",)),
    Case("unknown-command", lambda r: ["-C", str(r), "destroy"], ("no such command", "destroy")),
    Case("bad-format", lambda r: ["-C", str(r), "plan", "--format", "xml"], ("--format", "xml")),
    Case(
        "missing-plan-file",
        lambda r: ["-C", str(r), "apply", str(r / "nope.json")],
        ("nope.json", "does not exist"),
    ),
    Case("plan-file-is-a-directory", lambda r: ["-C", str(r), "apply", str(r)], ("is a directory",)),
    Case("show-missing-file", lambda r: ["show", str(r / "nope.json")], ("nope.json", "does not exist")),
    Case(
        "show-a-manifest",
        lambda r: ["show", str(r / "enrollctl.yaml")],
        ("enrollctl.yaml", "not a usable plan file"),
    ),
    Case(
        "show-a-policy",
        lambda r: ["show", str(r / "policies" / "anti-bribery.yaml")],
        ("anti-bribery.yaml", "not a usable plan file"),
    ),
    Case("chdir-missing", lambda r: ["-C", str(r / "missing"), "plan"], ("missing", "does not exist")),
    Case("chdir-is-a-file", lambda r: ["-C", str(r / "enrollctl.yaml"), "plan"], ("is a file",)),
    Case("chdir-without-config", lambda r: ["-C", str(r / "policies"), "validate"], ("enrollctl.yaml",)),
    Case(
        "apply-saved-plan-with-policy",
        lambda r: ["-C", str(r), "apply", _plan_file(r), "--policy", "onboarding"],
        ("--policy", "saved plan"),
    ),
    Case(
        "apply-saved-plan-with-override",
        lambda r: ["-C", str(r), "apply", _plan_file(r), "--allow-remove-completed"],
        ("--allow-remove", "saved plan"),
    ),
    Case(
        "apply-without-approval",
        lambda r: ["-C", str(r), "apply"],
        ("standard input is not a terminal", "--auto-approve"),
    ),
    Case(
        "unknown-policy", lambda r: ["-C", str(r), "plan", "--policy", "nope"], ("--policy nope", "no such")
    ),
    Case(
        "out-in-missing-directory",
        lambda r: ["-C", str(r), "plan", "--out", str(r / "no" / "plan.json")],
        ("--out", "does not exist"),
    ),
    Case("out-is-a-directory", lambda r: ["-C", str(r), "plan", "--out", str(r)], ("is a directory",)),
    Case(
        "detailed-exitcode-with-an-error",
        lambda r: ["-C", str(r), "plan", "--detailed-exitcode", "--policy", "nope"],
        ("no such policy",),
    ),
    Case("bad-clock", lambda r: ["-C", str(r), "plan"], ("ENROLLCTL_NOW",), env=(("ENROLLCTL_NOW", "soon"),)),
    Case("unknown-schema", lambda r: ["schema", "everything"], ("everything",)),
    Case(
        "serve-without-vendor",
        lambda r: ["sandbox", "serve", "--org", str(r / "sandbox.yaml")],
        ("--vendor",),
    ),
    Case(
        "serve-missing-org",
        lambda r: ["sandbox", "serve", "--vendor", "ispring", "--org", str(r / "nope.yaml")],
        ("nope.yaml",),
    ),
    Case("generate-negative-users", lambda r: ["sandbox", "generate", "--users", "-5"], ("--users",)),
]


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path / "quickstart")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_misuse_exits_1_with_a_message_and_writes_nothing(case: Case, quickstart: Path) -> None:
    args = case.args(quickstart)
    result = enrollctl(None, *args, env=dict(case.env))
    assert_clean_failure(result, *case.needles)
    assert sandbox_writes(quickstart) == []


def test_apply_answered_with_anything_but_yes_writes_nothing(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_plan, "stdin_is_terminal", lambda: True)
    for answer in ("no\n", "y\n", "YES please\n", "\n"):
        result = enrollctl(quickstart, "apply", input=answer)
        assert result.exit_code == 1, result.output
        assert "Apply cancelled: nothing was written." in result.output
        assert "Traceback" not in result.output
    assert sandbox_writes(quickstart) == []


def test_apply_of_a_url_provider_without_its_credential_names_the_variable(quickstart: Path) -> None:
    config = quickstart / "enrollctl.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "sandbox: sandbox.yaml", "url: http://127.0.0.1:9\n    token_env: ENROLLCTL_TEST_UNSET_TOKEN"
        ),
        encoding="utf-8",
    )
    result = enrollctl(quickstart, "apply", "--auto-approve")
    assert_clean_failure(result, "ENROLLCTL_TEST_UNSET_TOKEN", "not set")


def test_a_plan_for_another_repository_is_refused(quickstart: Path, tmp_path: Path) -> None:
    other = copy_example("litmos", tmp_path / "litmos")
    saved = _plan_file(other)
    result = enrollctl(quickstart, "apply", saved)
    assert_clean_failure(result)
    assert "academy" in result.output or "other manifests" in result.output
    assert json.loads(Path(saved).read_text(encoding="utf-8"))["format_version"] == 1
    assert sandbox_writes(quickstart) == []
