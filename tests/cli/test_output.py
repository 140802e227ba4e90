"""Global output options through the CLI: -v/-vv, -q, --no-color / NO_COLOR, and progress on stderr."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import plan as cli_plan
from reconciler.cli import progress
from reconciler.cli.app import main
from reconciler.cli.output import PROGRESS, OutputHandler
from reconciler.cli.progress import Mode, ProgressDisplay
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS
from reconciler.transport.redact import Redactor, protect_third_party_logs
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"
NOW = {"ENROLLCTL_NOW": "2026-11-25T12:00:00+00:00"}
ANSI = "\x1b["
CANARY = "canary-5f1d9c2e-never-print-me"


def copy(example: str, tmp_path: Path) -> Path:
    root = tmp_path / example
    shutil.copytree(EXAMPLES / example, root, ignore=shutil.ignore_patterns(".enrollctl"))
    return root


def run(root: Path, *args: str, env: dict[str, str] | None = None, color: bool = False) -> Result:
    return CliRunner().invoke(main, _args(root, args), env={**NOW, **(env or {})}, color=color)


def _args(root: Path, args: tuple[str, ...]) -> list[str]:
    """Global options first, then `-C root`, then the command and its options."""
    split = next(i for i, a in enumerate(args) if not a.startswith("-"))
    return [*args[:split], "-C", str(root), *args[split:]]


@pytest.fixture
def progress_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Show progress from the first unit and every unit, so a fast sandbox apply shows it."""
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)
    monkeypatch.setattr(progress, "PLAIN_SHARE", 0.0)


# --- progress and --quiet ------------------------------------------------------------------------------


@pytest.mark.usefixtures("progress_at_once")
def test_apply_progress_in_a_log_is_plain_lines(tmp_path: Path) -> None:
    result = run(copy("quickstart", tmp_path), "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    written = [line for line in result.stderr.splitlines() if "enrollments written" in line]
    assert written and written[-1].startswith("apply: enrollments written ")
    assert "\r" not in result.stderr and ANSI not in result.stderr


@pytest.mark.usefixtures("progress_at_once")
def test_quiet_prints_no_progress_and_no_informational_lines(tmp_path: Path) -> None:
    root = copy("quickstart", tmp_path)
    result = run(root, "-q", "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "Apply finished:" in result.stdout  # the result itself is never suppressed
    planned = run(root, "--quiet", "plan", "--out", str(tmp_path / "plan.json"))
    assert planned.exit_code == 0 and planned.stderr == ""
    assert "No changes" in planned.stdout


def test_quiet_still_prints_errors(tmp_path: Path) -> None:
    root = copy("quickstart", tmp_path)
    (root / "policies" / "broken.yaml").write_text("kind: Policy\n")
    result = run(root, "-q", "plan")
    assert result.exit_code == 1
    assert "Error:" in result.stderr


def test_quiet_and_verbose_contradict(tmp_path: Path) -> None:
    result = run(copy("quickstart", tmp_path), "-q", "-v", "plan")
    assert result.exit_code == 1
    assert "--quiet and --verbose" in result.stderr


# --- -v / -vv ------------------------------------------------------------------------------------------


def test_verbose_shows_how_litmos_enrollments_are_read(tmp_path: Path) -> None:
    root = copy("litmos", tmp_path)
    plain = run(root, "plan")
    assert plain.exit_code == 0 and "reading enrollments" not in plain.stderr
    verbose = run(root, "-v", "plan")
    assert verbose.exit_code == 0, verbose.output
    assert "academy: reading enrollments per " in verbose.stderr
    assert " -> GET /users" not in verbose.stderr  # vendor calls are -vv


def test_very_verbose_logs_vendor_calls_without_the_api_key(tmp_path: Path) -> None:
    root = copy("litmos", tmp_path)
    config = root / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    sandbox: sandbox.yaml\n", "    sandbox: sandbox.yaml\n    api_key_env: KEY\n"
        )
    )
    key = SANDBOX_CREDENTIALS["litmos"]["api_key"]
    result = run(root, "-vv", "plan", env={"KEY": key})
    assert result.exit_code == 0, result.output
    assert "academy GET /users -> GET /users" in result.stderr
    assert key not in result.output


def test_very_verbose_never_prints_a_refused_canary_key(tmp_path: Path) -> None:
    root = copy("litmos", tmp_path)
    config = root / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    sandbox: sandbox.yaml\n", "    sandbox: sandbox.yaml\n    api_key_env: KEY\n"
        )
    )
    result = run(root, "-vv", "--debug", "plan", env={"KEY": CANARY})
    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert CANARY not in result.output


def test_the_handler_masks_secrets_in_messages_arguments_and_tracebacks() -> None:
    protect_third_party_logs(redactor := Redactor([CANARY]))
    stream = io.StringIO()
    handler = OutputHandler(ProgressDisplay(stream, Mode.PLAIN), logging.DEBUG)
    logger = logging.getLogger("enrollctl.test_cli_output")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.info("key %s", CANARY)
        try:
            raise ValueError(CANARY)
        except ValueError:
            logger.exception("failed")
        logger.info("tagged", extra={PROGRESS: (f"read {CANARY}", 1, 2, 10.0)})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert "read *** 1/2 (50%)" in stream.getvalue()
    assert "key ***" in stream.getvalue() and "ValueError: ***" in stream.getvalue()
    assert CANARY not in stream.getvalue()
    assert redactor(CANARY) == "***"


# --- colour --------------------------------------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_plan, "stdout_is_terminal", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.usefixtures("terminal")
def test_a_plan_on_a_terminal_is_coloured(tmp_path: Path) -> None:
    result = run(copy("quickstart", tmp_path), "plan", color=True)
    assert result.exit_code == 0 and ANSI in result.stdout


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--no-color", "plan"), {}),
        (("plan", "--no-color"), {}),
        (("plan",), {"NO_COLOR": "1"}),
        (("plan",), {"NO_COLOR": ""}),  # no-color.org: set at all means no colour
    ],
)
def test_no_color_in_any_form_disables_colour(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = run(copy("quickstart", tmp_path), *args, env=env, color=True)
    assert result.exit_code == 0, result.output
    assert ANSI not in result.output


@pytest.mark.usefixtures("terminal")
def test_show_honours_the_global_no_color(tmp_path: Path) -> None:
    root = copy("quickstart", tmp_path)
    saved = tmp_path / "plan.json"
    assert run(root, "plan", "--out", str(saved)).exit_code == 0
    assert ANSI in run(root, "show", str(saved), color=True).stdout
    assert ANSI not in run(root, "--no-color", "show", str(saved), color=True).output


def test_very_verbose_ispring_calls_never_show_the_client_secret_or_token(tmp_path: Path) -> None:
    root = copy("quickstart", tmp_path)
    config = root / "enrollctl.yaml"
    names = "    sandbox: sandbox.yaml\n    client_id_env: ID\n    client_secret_env: SECRET\n"
    config.write_text(config.read_text().replace("    sandbox: sandbox.yaml\n", names))
    creds = SANDBOX_CREDENTIALS["ispring"]
    result = run(root, "-vv", "plan", env={"ID": creds["client_id"], "SECRET": creds["client_secret"]})
    assert result.exit_code == 0, result.output
    assert "GetUsers" in result.stderr  # the calls are logged ...
    assert creds["client_secret"] not in result.output  # ... the secret is not
