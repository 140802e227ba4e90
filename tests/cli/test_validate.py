"""`enrollctl validate` and `enrollctl schema` through click's CliRunner, with real files."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli.app import EnrollctlGroup, main
from reconciler.errors import EXIT_ERROR, GuardTripped
from tests.manifest.test_bad import CASES, expected_of, materialize
from tests.support.paths import ROOT

QUICKSTART = str(ROOT / "examples" / "quickstart")


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args))


def test_validate_quickstart_offline_prints_a_one_line_summary() -> None:
    result = run("-C", QUICKSTART, "validate", "--offline")
    assert result.exit_code == 0, result.output
    assert result.output == "OK: 5 policies in 4 files, 1 provider\n"


def test_validate_quickstart_exits_0() -> None:
    result = run("-C", QUICKSTART, "validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 5 policies in 4 files, 1 provider")


@pytest.mark.parametrize("case", CASES)
def test_validate_bad_case_exits_1_with_positioned_messages(case: str, tmp_path: Path) -> None:
    root = materialize(case, tmp_path)
    result = run("-C", str(root), "validate", "--offline")
    assert result.exit_code == EXIT_ERROR
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Error: ")
    for want in expected_of(case):
        assert any(
            line.startswith(f"{want.file}:{want.line}:") and want.fragment in line for line in lines
        ), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("case", "secret"),
    [
        ("literal-secret-token", "eyJhbGciOiJIUzI1NiJ9"),
        ("literal-secret-api-key", "0123456789abcdef"),
        ("literal-secret-client-secret", "hunter2"),
        ("literal-secret-password", "hunter2"),
        ("url-with-credentials", "hunter2"),
    ],
)
def test_secrets_written_into_enrollctl_yaml_are_never_echoed(case: str, secret: str, tmp_path: Path) -> None:
    root = materialize(case, tmp_path)
    assert secret in (root / "enrollctl.yaml").read_text()
    result = run("-C", str(root), "validate", "--offline")
    assert result.exit_code == EXIT_ERROR
    assert "environment variable" in result.stderr
    assert secret not in result.output


def test_missing_repository_directory_is_a_usage_error_that_exits_1(tmp_path: Path) -> None:
    result = run("-C", str(tmp_path / "nowhere"), "validate")
    assert result.exit_code == EXIT_ERROR  # never 2: that means "plan has changes"
    assert "does not exist" in result.stderr


def test_directory_without_enrollctl_yaml_says_so(tmp_path: Path) -> None:
    result = run("-C", str(tmp_path), "validate")
    assert result.exit_code == EXIT_ERROR
    assert "enrollctl.yaml: not found in" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize("name", ["enrollctl", "policy"])
def test_schema_prints_json_schema(name: str) -> None:
    result = run("schema", name)
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_matches_the_file_editors_use() -> None:
    printed = run("schema", "policy").output
    assert printed == (ROOT / "schemas" / "policy.schema.json").read_text()


def test_unknown_schema_name_exits_1() -> None:
    result = run("schema", "nonsense")
    assert result.exit_code == EXIT_ERROR


# --- the one place errors are handled: every command of an EnrollctlGroup gets it for free ----------------


@click.group(cls=EnrollctlGroup)
@click.option("--debug", is_flag=True)
def probe(debug: bool) -> None:
    """A group like `main`, with one command that fails on purpose."""


@probe.command("fail")
@click.argument("kind")
def _fail(kind: str) -> None:
    if kind == "expected":
        raise GuardTripped(
            "plan removes 30 enrollments, more than max_removals 25", hint="raise max_removals"
        )
    raise KeyError("token=not-shown")


def run_probe(*args: str) -> click.testing.Result:
    return CliRunner().invoke(probe, list(args))


def test_main_is_an_enrollctl_group() -> None:
    assert isinstance(main, EnrollctlGroup)


def test_expected_error_prints_one_message_and_its_exit_code() -> None:
    result = run_probe("fail", "expected")
    assert result.exit_code == GuardTripped.exit_code
    assert (
        result.stderr
        == "Error: plan removes 30 enrollments, more than max_removals 25 (raise max_removals)\n"
    )


def test_unexpected_error_hides_details_without_debug() -> None:
    result = run_probe("fail", "boom")
    assert result.exit_code == EXIT_ERROR
    assert "internal error (KeyError)" in result.stderr
    assert "--debug" in result.stderr
    assert "not-shown" not in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = run_probe("--debug", "fail", "boom")
    assert result.exit_code == EXIT_ERROR
    assert "Traceback" in result.stderr


def test_usage_errors_exit_1_not_2() -> None:
    result = run_probe("fail")
    assert result.exit_code == EXIT_ERROR
    assert "Missing argument" in result.stderr
