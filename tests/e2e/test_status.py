"""`enrollctl status` end to end on examples/compliance: both sandboxes, scripted completions, the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reconciler.manifest.schema import schema_text
from tests.support.e2e import copy_example, enrollctl


@pytest.fixture
def compliance(tmp_path: Path) -> Path:
    return copy_example("compliance", tmp_path / "compliance")


def _status(root: Path, *args: str, now: str = "2026-11-25T12:00:00+00:00") -> dict:
    result = enrollctl(root, "status", "--format", "json", *args, env={"ENROLLCTL_NOW": now})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(schema_text("status"))).validate(data)
    return data


def _item(data: dict, policy: str) -> dict:
    (found,) = [p for p in data["policies"] if p["name"] == policy]
    return found["items"][0]


def test_status_reports_what_the_sandbox_holds_per_policy(compliance: Path) -> None:
    data = _status(compliance, "--people")
    security = _item(data, "security-awareness")
    assert security["counts"] == {
        "targeted": 11, "assigned": 7, "not_assigned": 4, "not_started": 1, "in_progress": 1,
        "completed": 5, "unknown": 0, "overdue": 0, "expiring": 2,
    }  # fmt: skip
    helen = next(p for p in security["people"] if p["login"] == "helen@acme.example")
    # valid_days: 365 in sandbox.yaml, completed 2025-12-10: Litmos reports CompliantTill a year later
    assert (helen["expires_at"], helen["expiring"]) == ("2026-12-10T00:00:00Z", True)
    rosa = next(p for p in _item(data, "anti-bribery")["people"] if p["login"] == "rosa@acme.example")
    assert (rosa["state"], rosa["overdue"], rosa["due"]) == ("not_started", True, "2026-11-15T00:00:00Z")
    assert data["totals"]["targeted"] == sum(p["counts"]["targeted"] for p in data["policies"])


def test_scripted_completions_happen_when_the_clock_passes_them(compliance: Path) -> None:
    before = _status(compliance, "--people", now="2026-11-10T00:00:00+00:00")
    xena = next(p for p in _item(before, "security-awareness")["people"] if p["login"] == "xena@acme.example")
    assert xena["state"] == "not_started"
    after = _status(compliance, "--people", now="2026-11-21T00:00:00+00:00")
    xena = next(p for p in _item(after, "security-awareness")["people"] if p["login"] == "xena@acme.example")
    assert xena["state"] == "completed"


def test_status_after_apply_counts_everyone_as_assigned_and_plan_shows_no_changes(compliance: Path) -> None:
    planned = enrollctl(compliance, "plan").stdout
    assert "↻ kevin@acme.example  re-enroll (compliance expired 2026-10-01; every 12 months" in planned
    assert enrollctl(compliance, "apply", "--auto-approve").exit_code == 0
    assert "No changes" in enrollctl(compliance, "plan").stdout  # kevin was reset, not completed any more
    totals = _status(compliance)["totals"]
    assert (totals["not_assigned"], totals["assigned"]) == (0, totals["targeted"])
    assert "people" not in _status(compliance)["policies"][0]["items"][0]


def test_text_and_markdown_name_who_needs_attention(compliance: Path) -> None:
    text = enrollctl(compliance, "status", "--people").stdout
    assert "rosa@acme.example: not started, overdue since 2026-11-15" in text
    markdown = enrollctl(compliance, "status", "--format", "markdown", "--people").stdout
    assert "| anti-bribery | Anti-Bribery | 4 | 3 | 1 | 1 | 1 | 1 | 0 | 25% |" in markdown
    assert "<details><summary>security-awareness / Security Awareness: 8 need attention" in markdown


def test_an_unknown_policy_is_a_usage_error(compliance: Path) -> None:
    result = enrollctl(compliance, "status", "--policy", "nope")
    assert result.exit_code == 1
    assert "no such policy" in result.output


def test_attribute_and_join_date_targets_select_by_the_sandboxes_profiles(compliance: Path) -> None:
    data = _status(compliance, "--people")
    logins = {p["name"]: sorted(x["login"] for x in p["items"][0]["people"]) for p in data["policies"]}
    assert logins["forklift-safety"] == [
        "xena@acme.example",
        "yusuf@acme.example",
    ]  # job_title, any department
    assert logins["onboarding"] == ["chen@acme.example", "nadia@acme.example"]  # added within 60 days
    assert "nadia@acme.example" not in logins["anti-bribery"]  # a Sales Engineer
    plan = enrollctl(compliance, "plan").stdout
    assert "+ chen@acme.example  due 2026-12-04" in plan  # added 2026-11-20, due 14 days after
    assert "nadia" not in plan.split("Policy onboarding")[1].split("Policy")[0]  # her date already matches


def test_recur_on_the_ispring_soap_transport_is_a_validate_error(compliance: Path) -> None:
    config = compliance / "enrollctl.yaml"
    config.write_text(config.read_text().replace("    kind: ispring\n", "    kind: ispring\n    api: soap\n"))
    policy = compliance / "policies" / "onboarding.yaml"
    policy.write_text(
        policy.read_text().replace(
            "      due: 2026-12-31\n", "      due: 2026-12-31\n      recur: {every: 1 year}\n"
        )
    )
    result = enrollctl(compliance, "validate", "--offline")
    assert result.exit_code == 1
    assert "cannot start a completed course over through its API" in result.output
    assert "POST /enrollment/{id}/reenroll" in result.output
