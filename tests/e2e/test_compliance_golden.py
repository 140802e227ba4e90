"""Golden plans of examples/compliance: re-enrollments on both vendors (iSpring's reenroll over REST, Litmos'
reset) beside adds and changes, with the clock pinned; `pytest --update-golden` rewrites them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox.store import compliance
from tests.support.e2e import copy_example, enrollctl, open_store, write_calls

NOW = {"ENROLLCTL_NOW": "2026-11-25T12:00:00+00:00"}


@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "compliance/plan.txt"), ("markdown", "compliance/plan.md")]
)
def test_the_compliance_plan_reenrolls_on_both_vendors(
    tmp_path: Path, golden: Callable[[str, str], None], fmt: str, name: str
) -> None:
    root = copy_example("compliance", tmp_path / "compliance")
    result = enrollctl(root, "plan", "--format", fmt, "--no-color", env=NOW)
    assert result.exit_code == 0, result.output
    golden(name, result.stdout)
    # the property behind the golden file: each vendor's due completion is re-enrolled, nobody else
    if fmt == "text":
        lms, academy = result.stdout.split("Provider academy")
        assert "↻ yusuf@acme.example  re-enroll (completed 2026-03-10; every 6 months" in lms
        assert "↻ kevin@acme.example  re-enroll (compliance expired 2026-10-01" in academy
        assert "2 to re-enroll" in academy


def test_applying_it_reenrolls_each_once_and_the_next_plan_is_empty(tmp_path: Path) -> None:
    root = copy_example("compliance", tmp_path / "compliance")
    applied = enrollctl(root, "apply", "--auto-approve", env=NOW)
    assert applied.exit_code == 0, applied.output
    assert "0 failed" in applied.stdout
    assert "lms: reenroll 1 enrollment in 1 call" in applied.output
    assert "academy: reenroll 1 enrollment in 1 call" in applied.output
    assert "No changes" in enrollctl(root, "plan", env=NOW).stdout
    for provider, action in (("lms", "Reenroll"), ("academy", "PUT /users/{user}/courses/{course}/reset")):
        store = open_store(root, provider)
        try:
            assert write_calls(store, (action,)) == [action]  # once, never re-sent
            kept = [e for e in store.enrollments() if compliance.history(store, e.uuid)]
            assert len(kept) == 1 and kept[0].progress.status == "not_started"
        finally:
            store.close()
