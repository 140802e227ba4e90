"""`enrollctl export`: the files it writes, and that `plan` right after an export shows no changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from reconciler.manifest.yamlpos import parse_yaml
from reconciler.sandbox.org.load import generate_org
from reconciler.sandbox.org.yaml import dump_org_json
from tests.support.e2e import copy_example, enrollctl
from tests.support.paths import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "policy.schema.json").read_text())


def _export_then_plan(repo: Path, *export_args: str) -> str:
    """Export into policies/exported of a repository without other policies, then plan; the plan's text."""
    shutil.rmtree(repo / "policies", ignore_errors=True)
    exported = enrollctl(repo, "export", *export_args)
    assert exported.exit_code == 0, exported.output
    planned = enrollctl(repo, "plan", "--detailed-exitcode", "--no-color")
    assert planned.exit_code == 0, planned.output
    return planned.stdout


def _exported_files(repo: Path) -> list[Path]:
    return sorted((repo / "policies" / "exported").rglob("*.yaml"))


def test_export_of_the_initial_quickstart_sandbox_plans_no_changes(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    assert "No changes" in _export_then_plan(repo)


def test_export_after_applying_the_quickstart_plans_no_changes(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    assert enrollctl(repo, "apply", "--auto-approve").exit_code == 0
    output = _export_then_plan(repo)
    assert "No changes" in output
    security = (repo / "policies" / "exported" / "security-awareness-2026.yaml").read_text()
    assert "Acme/Sales" in security, "whole departments are exported as departments, not as logins"


@pytest.mark.slow
def test_export_of_a_generated_5000_user_organisation_plans_no_changes(tmp_path: Path) -> None:
    # 5,000 users and few items: the round trip runs the real CLI, sandbox and loader in a few seconds
    repo = tmp_path / "big"
    repo.mkdir()
    org = generate_org(5000, departments=40, groups=8, courses=3, learning_paths=1, enrollments_per_user=1)
    (repo / "org.json").write_text(dump_org_json(org))
    (repo / "enrollctl.yaml").write_text(
        "version: 1\npolicies: [policies]\nproviders:\n  lms: {kind: ispring, sandbox: org.json}\n"
    )
    assert "No changes" in _export_then_plan(repo)


def test_exported_files_validate_against_the_policy_schema(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    assert enrollctl(repo, "apply", "--auto-approve").exit_code == 0
    _export_then_plan(repo)
    files = _exported_files(repo)
    assert files
    for path in files:
        text = path.read_text()
        assert text.startswith("# yaml-language-server: $schema=")
        assert "# Exported by `enrollctl export` at 2026-11-25T12:00:00Z" in text
        for document in parse_yaml(text.encode(), path.name):  # dates stay text, as enrollctl reads them
            jsonschema.validate(document.data, SCHEMA)
            assert "prune" not in document.data["spec"]


def test_export_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    out = repo / "policies" / "exported"
    out.mkdir(parents=True)
    (out / "anti-bribery.yaml").write_text("# mine\n")
    refused = enrollctl(repo, "export")
    assert refused.exit_code == 1 and "exist already" in refused.output and "--force" in refused.output
    assert (out / "anti-bribery.yaml").read_text() == "# mine\n"
    assert [p.name for p in out.iterdir()] == ["anti-bribery.yaml"], "nothing is written when one file exists"
    assert enrollctl(repo, "export", "--force").exit_code == 0
    assert "Exported by" in (out / "anti-bribery.yaml").read_text()


def test_export_writes_only_inside_out(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    before = {p for p in tmp_path.rglob("*") if ".enrollctl" not in p.parts}
    result = enrollctl(repo, "export", "--out", "elsewhere/adopted")
    assert result.exit_code == 0, result.output
    after = {p for p in tmp_path.rglob("*") if ".enrollctl" not in p.parts}
    out = repo / "elsewhere" / "adopted"
    assert all(p == out or out in p.parents or p == out.parent for p in after - before)
    assert "does not include" in result.stderr, "a hint says enrollctl.yaml does not read the export yet"


def test_export_policy_names_do_not_clash_with_existing_policies(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    assert enrollctl(repo, "export").exit_code == 0
    validated = enrollctl(repo, "validate", "--offline")
    assert validated.exit_code == 0, validated.output


def test_export_of_an_unknown_provider_names_the_known_ones(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path / "qs")
    result = enrollctl(repo, "export", "--provider", "nope")
    assert result.exit_code == 1 and "lms" in result.output


@pytest.mark.parametrize("example", ["litmos", "multi"])
def test_export_of_the_other_examples_plans_no_changes(tmp_path: Path, example: str) -> None:
    for name in ("quickstart", "litmos", "multi"):  # multi uses the other two's organisation files
        copy_example(name, tmp_path / name)
    repo = tmp_path / example
    assert "No changes" in _export_then_plan(repo)
