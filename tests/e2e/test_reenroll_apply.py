"""Apply's re-enrollments on iSpring (REST `Reenroll`) when answers are lost: a re-enrollment the server made
is confirmed by reading back and never sent again; one it never saw is sent again only after the read-back
shows the completion still there. examples/compliance, clock pinned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import run as apply
from reconciler.apply.run import ApplyIncomplete, ApplyResult
from reconciler.core.plan import ActionKind, OutcomeStatus, Plan, RunOptions
from reconciler.engine.build import build_provider, provider_builder
from reconciler.engine.workspace import load_workspace, make_plan
from reconciler.sandbox.store import compliance
from tests.support.e2e import copy_example, open_store

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ENV = {"ENROLLCTL_NOW": NOW.isoformat()}


@pytest.fixture
def compliance_repo(tmp_path: Path) -> Path:
    return copy_example("compliance", tmp_path / "compliance")


def _apply(root: Path, plan: Plan, faults: dict[str, Any] | None = None) -> ApplyResult:
    build = provider_builder(sandbox_faults=faults) if faults else build_provider
    workspace = load_workspace(root, ENV, build=build)
    try:
        return apply.run(
            plan,
            workspace.providers,
            root / ".enrollctl" / "journal",
            now=NOW,
            manifest_digest=workspace.digest,
        )
    finally:
        workspace.close()


def _reenroll_calls(root: Path) -> tuple[int, int, int]:
    """(Reenroll calls the emulator carried out, calls dropped before it saw them, attempts kept)."""
    store = open_store(root, "lms")
    try:
        log = [e for e in store.request_log() if e.action == "Reenroll"]
        carried_out = sum(1 for e in log if e.status == 200)
        dropped = sum(1 for e in log if e.detail == "fault: dropped connection")
        kept = sum(len(compliance.history(store, e.uuid)) for e in store.enrollments())
        return carried_out, dropped, kept
    finally:
        store.close()


def _plan(root: Path) -> Plan:
    plan, workspace = make_plan(root, now=NOW, options=RunOptions(), env=ENV)
    workspace.close()
    return plan


def _reenroll_outcome(result: ApplyResult) -> OutcomeStatus:
    (found,) = [o for o in result.outcomes if o.action.kind is ActionKind.REENROLL and o.provider == "lms"]
    return found.status


def test_a_reenroll_whose_answer_was_lost_is_confirmed_by_reading_back_not_resent(
    compliance_repo: Path,
) -> None:
    plan = _plan(compliance_repo)
    result = _apply(compliance_repo, plan, {"drop_after_commit_rates": {"Reenroll": 1.0}})
    assert _reenroll_outcome(result) is OutcomeStatus.DONE
    assert _reenroll_calls(compliance_repo) == (1, 0, 1)  # made once, one earlier attempt kept
    assert not _plan(compliance_repo).has_changes


def test_a_reenroll_the_server_never_saw_is_sent_again_only_after_reading_back(
    compliance_repo: Path,
) -> None:
    plan = _plan(compliance_repo)
    with pytest.raises(ApplyIncomplete) as failed:
        _apply(compliance_repo, plan, {"drop_rates": {"Reenroll": 1.0}})
    assert _reenroll_outcome(failed.value.result) is not OutcomeStatus.DONE
    carried_out, dropped, kept = _reenroll_calls(compliance_repo)
    assert (carried_out, kept) == (0, 0) and dropped >= 1
    resumed = _apply(compliance_repo, plan)  # the journal's unknown outcome: read back, still due, sent
    assert _reenroll_outcome(resumed) is OutcomeStatus.DONE
    assert _reenroll_calls(compliance_repo)[::2] == (1, 1)
    assert not _plan(compliance_repo).has_changes


def test_a_reenrollment_starts_on_the_runs_date_when_the_run_is_pinned(compliance_repo: Path) -> None:
    """ENROLLCTL_NOW pins the run (a rehearsal of scripted sandbox events): the new attempt's access date
    is that day, not the machine's, so a `within:` due counts from the day the plan was made for."""
    plan = _plan(compliance_repo)
    (lms,) = [part for part in plan.providers if part.provider == "lms"]
    (action,) = [a for a in lms.actions if a.kind is ActionKind.REENROLL]
    assert action.before is not None
    _apply(compliance_repo, plan)
    store = open_store(compliance_repo, "lms")
    try:
        (row,) = [e for e in store.enrollments() if e.uuid == action.before.id]
        assert row.terms.access_date.date() == NOW.date() != dt.datetime.now(dt.UTC).date()
    finally:
        store.close()
