"""`-C DIR` works like `git -C DIR`: relative paths in options are taken from DIR (issue 14, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.app import main
from reconciler.sandbox.store.database import Store
from tests.support.e2e import FIXED_NOW


def test_relative_out_is_written_inside_the_directory_given_to_c(
    quickstart: Path, sandbox_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner()
    env = {"ENROLLCTL_NOW": FIXED_NOW}
    planned = runner.invoke(main, ["-C", str(quickstart), "plan", "--out", "p.json"], env=env)
    assert planned.exit_code == 0, planned.output
    assert (quickstart / "p.json").is_file()
    assert not (elsewhere / "p.json").exists()
    assert Path.cwd() == elsewhere, "the caller's directory is restored"
    shown = runner.invoke(main, ["-C", str(quickstart), "show", "p.json", "--format", "json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["providers"]
