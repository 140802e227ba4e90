"""Manifests that parse but name things the LMS does not have (or has twice): `validate`, `plan` and
`apply` each stop with the reference's file:line, what is unknown or ambiguous, candidates, exit 1, and
no write to the sandbox.

The manifest corpus of tests/data/bad/ covers what fails before any LMS is asked; these fail only when the
names are resolved against the sandbox's directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.bad import assert_clean_failure, copy_example, enrollctl, sandbox_writes

HEADER = "apiVersion: enrollctl/v1\nkind: Policy\nmetadata:\n  name: bad-reference\nspec:\n"


@dataclass(frozen=True)
class Case:
    """A policy body (under `spec:`) whose line 7 holds the bad reference, and what the error must say."""

    name: str
    example: str
    spec: str
    needles: tuple[str, ...]
    org_extra: str = ""  # appended to the copy's sandbox.yaml (to make a name ambiguous)


def _spec(targets: str, assign: str) -> str:
    return f"  targets:\n{targets}  assign:\n{assign}"


SALES = "    departments: [Acme/Sales]\n"
SECURITY = "    - course: Security Awareness 2026\n"
CASES = [
    Case(
        "unknown-department",
        "quickstart",
        _spec("    departments: [Acme/Sails]\n", SECURITY),
        ("unknown department", "Acme/Sails", "Acme/Sales"),
    ),
    Case(
        "unknown-sub-department",
        "quickstart",
        _spec("    departments: [Acme/Sales/APAC]\n", SECURITY),
        ("unknown department", "Acme/Sales/APAC"),
    ),
    Case(
        "department-id-unknown",
        "quickstart",
        _spec("    departments: [{id: 00000000-0000-5000-8000-000000000000}]\n", SECURITY),
        ("department", "00000000-0000-5000-8000-000000000000"),
    ),
    Case(
        "unknown-group",
        "quickstart",
        _spec("    groups: [New hire]\n", SECURITY),
        ("unknown group", "New hire", "New hires"),
    ),
    Case(
        "unknown-excluded-group",
        "quickstart",
        _spec(SALES + "    exclude:\n      groups: [Contractor]\n", SECURITY),
        ("unknown group", "Contractor"),
    ),
    Case(
        "unknown-course",
        "quickstart",
        _spec(SALES, "    - course: Anti-Bribery 2025\n"),
        ("unknown course", "Anti-Bribery 2025", "Anti-Bribery"),
    ),
    Case(
        "course-id-unknown",
        "quickstart",
        _spec(SALES, "    - course: {id: 11111111-1111-5111-8111-111111111111}\n"),
        ("course", "11111111-1111-5111-8111-111111111111"),
    ),
    Case(
        "unknown-learning-path",
        "quickstart",
        _spec(SALES, "    - learning_path: Onboardng\n"),
        ("unknown learning path", "Onboardng", "Onboarding"),
    ),
    Case(
        "learning-path-named-as-course",
        "quickstart",
        _spec(SALES, "    - course: Onboarding\n"),
        ("unknown course", "Onboarding"),
    ),
    Case(
        "unknown-team-litmos",
        "litmos",
        _spec("    departments: [Acme/Marketing]\n", SECURITY),
        ("unknown department", "Acme/Marketing"),
    ),
    Case(
        "unknown-course-litmos",
        "litmos",
        _spec(SALES, "    - course: Security Awareness 2025\n"),
        ("unknown course", "Security Awareness 2025"),
    ),
    Case(
        # Litmos groups are teams, by name: a group named like two sub-teams matches both
        "ambiguous-group-litmos",
        "litmos",
        _spec("    groups: [EMEA]\n", SECURITY),
        ("group name", "EMEA", "ambiguous", "{id:"),
        org_extra="EMEA",
    ),
]


def _repository(case: Case, tmp_path: Path) -> Path:
    root = copy_example(case.example, tmp_path / case.example)
    (root / "policies" / "bad-reference.yaml").write_text(HEADER + case.spec, encoding="utf-8")
    if case.org_extra:
        org = root / "sandbox.yaml"
        text = org.read_text(encoding="utf-8")
        # a second team of that name under another department
        text = text.replace(
            "{name: Operations, children: [{name: Warehouse}]}",
            (f"{{name: Operations, children: [{{name: Warehouse}}, {{name: {case.org_extra}}}]}}"),
        )
        org.write_text(text, encoding="utf-8")
    return root


PROVIDER = {"quickstart": ("lms", "ispring"), "litmos": ("academy", "litmos")}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_name_the_lms_does_not_resolve_stops_every_command_without_writing(
    case: Case, tmp_path: Path
) -> None:
    root = _repository(case, tmp_path)
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = enrollctl(root, *command)
        assert_clean_failure(result, "policies/bad-reference.yaml:", "bad-reference", *case.needles)
    provider, vendor = PROVIDER[case.example]
    assert sandbox_writes(root, provider, vendor) == []


def test_every_bad_reference_is_reported_in_one_run(tmp_path: Path) -> None:
    root = copy_example("quickstart", tmp_path / "quickstart")
    spec = _spec(
        "    departments: [Acme/Sails]\n    groups: [New hire]\n",
        "    - course: Anti-Bribery 2025\n    - learning_path: Onboardng\n",
    )
    (root / "policies" / "bad-reference.yaml").write_text(HEADER + spec, encoding="utf-8")
    result = enrollctl(root, "validate")
    assert_clean_failure(result, "4 problems", "Acme/Sails", "New hire", "Anti-Bribery 2025", "Onboardng")
    for line in (7, 8, 10, 11):
        assert f"policies/bad-reference.yaml:{line}:" in result.output
