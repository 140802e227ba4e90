"""`validate --offline` refuses what a vendor cannot store, without credentials or network (pre-commit)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli.app import main
from reconciler.core.model import ProviderConfig, ProviderKind
from reconciler.engine.build import offline_capabilities
from reconciler.errors import EXIT_ERROR
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"
DUE_POLICY = """\
apiVersion: enrollctl/v1
kind: Policy
metadata: {name: due-in-a-month}
spec:
  targets: {everyone: true}
  assign:
    - course: Anti-Bribery
      due: {within: 30d}
"""


def _copy(example: str, tmp_path: Path) -> Path:
    root = tmp_path / example
    shutil.copytree(EXAMPLES / example, root, ignore=shutil.ignore_patterns(".enrollctl"))
    return root


def _validate_offline(root: Path) -> Result:
    # no credentials in the environment: an offline check must not need them
    return CliRunner().invoke(main, ["-C", str(root), "validate", "--offline"], env={"LITMOS_API_KEY": ""})


def test_validate_offline_refuses_a_due_period_on_litmos(tmp_path: Path) -> None:
    root = _copy("litmos", tmp_path)
    (root / "policies" / "due.yaml").write_text(DUE_POLICY)
    result = _validate_offline(root)
    assert result.exit_code == EXIT_ERROR, result.output
    assert "policies/due.yaml:7:" in result.stderr
    assert "spec.assign[0].due" in result.stderr
    assert "(Litmos) cannot set a due date per assignment" in result.stderr


def test_validate_offline_accepts_the_litmos_example_as_is(tmp_path: Path) -> None:
    result = _validate_offline(_copy("litmos", tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")


def test_validate_offline_accepts_a_due_period_on_ispring(tmp_path: Path) -> None:
    root = _copy("quickstart", tmp_path)
    (root / "policies" / "due.yaml").write_text(DUE_POLICY.replace("Anti-Bribery", "Security Awareness 2026"))
    result = _validate_offline(root)
    assert result.exit_code == 0, result.output


def test_offline_capabilities_match_each_vendor() -> None:
    litmos = offline_capabilities(ProviderConfig(name="a", kind=ProviderKind.LITMOS))
    config = ProviderConfig(name="b", kind=ProviderKind.ISPRING, requests_per_minute=60)
    ispring = offline_capabilities(config)
    assert not litmos.due_dates and not litmos.access_dates
    assert ispring.due_dates and ispring.lock_after_due and ispring.requests_per_minute == 60
