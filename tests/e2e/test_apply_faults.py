"""Apply against the sandbox with injected faults, then resume: converged, and no write sent twice."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import run as apply
from reconciler.apply.run import ApplyIncomplete
from reconciler.core.plan import Plan, RunOptions
from reconciler.engine.build import build_provider, provider_builder
from reconciler.engine.workspace import load_workspace, make_plan
from tests.support.bad import NO_WAIT
from tests.support.e2e import assert_no_write_twice

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def _apply(root: Path, plan: Plan, faults: dict[str, Any] | None = None) -> None:
    # retry back-offs return at once (NO_WAIT): the outcome depends on what is sent, not on how long it waits
    build = (
        provider_builder(sandbox_faults=faults, sleep=NO_WAIT.sleep)
        if faults
        else partial(build_provider, sleep=NO_WAIT.sleep)
    )
    workspace = load_workspace(root, {}, build=build)
    try:
        apply.run(
            plan,
            workspace.providers,
            root / ".enrollctl" / "journal",
            now=NOW,
            manifest_digest=workspace.digest,
        )
    finally:
        workspace.close()


def _resume_converges_without_repeating_writes(root: Path, plan: Plan) -> None:
    _apply(root, plan)
    assert_no_write_twice(root, plan)
    again, workspace = make_plan(root, now=NOW, options=RunOptions(), env={})
    workspace.close()
    assert not again.has_changes, [a.id for a in again.actions]


def test_apply_with_every_update_refused_fails_then_resume_converges_without_repeating_writes(
    quickstart: Path,
) -> None:
    plan, workspace = make_plan(quickstart, now=NOW, options=RunOptions(), env={})
    workspace.close()
    with pytest.raises(ApplyIncomplete) as failed:  # every update refused with HTTP 500 cannot succeed
        _apply(quickstart, plan, {"error_rates": {"ChangeEnrollment": 1.0}})
    assert failed.value.result.failed > 0
    _resume_converges_without_repeating_writes(quickstart, plan)


def test_apply_over_dropped_connections_then_resume_converges_without_repeating_writes(
    quickstart: Path,
) -> None:
    plan, workspace = make_plan(quickstart, now=NOW, options=RunOptions(), env={})
    workspace.close()
    # a lost write is read back and sent again within the run (3 sends at most), so it may converge at once
    try:
        _apply(quickstart, plan, {"drop_rate": 0.5, "seed": 3})  # dropped before the server answers
    except ApplyIncomplete as incomplete:  # the one failure the contract allows: some actions failed
        assert incomplete.result.failed > 0
    _resume_converges_without_repeating_writes(quickstart, plan)
