"""Property: with `recur: {every: 12 months}` on both vendors (iSpring over REST, Litmos), a completion a year
old or older is re-enrolled exactly once, a newer one or an unfinished enrollment never is, and plan → apply
→ plan shows no changes; each re-enrollment leaves the earlier attempt in the sandbox's history."""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.apply import run as apply
from reconciler.core.plan import ActionKind, RunOptions
from reconciler.engine.build import sandbox_db_path
from reconciler.engine.workspace import make_plan
from reconciler.sandbox.serve import open_sandbox
from reconciler.sandbox.store import compliance

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ENV = {"ENROLLCTL_NOW": NOW.isoformat()}  # the sandboxes' clock is the plan's
PROVIDERS = {"lms": "ispring", "academy": "litmos"}

# per learner: days since completion (None: not finished), with the period's edges drawn often
learner_st = st.one_of(
    st.none(),
    st.integers(1, 800),
    st.sampled_from([364, 365, 366, 1, 800]),
)


def _plus_a_year(day: dt.date) -> dt.date:
    """The expectation, built without enrollctl: the same day a year on (29 February → 28 February)."""
    last = calendar.monthrange(day.year + 1, day.month)[1]
    return day.replace(year=day.year + 1, day=min(day.day, last))


def _repository(root: Path, learners: list[int | None]) -> None:
    rows: list[dict[str, Any]] = []
    for index, days in enumerate(learners):
        row: dict[str, Any] = {"user": f"u{index}@x.example", "course": "Safety"}
        if days is None:
            row.update(status="in_progress", progress=50)
        else:
            row.update(status="passed", completed=(NOW.date() - dt.timedelta(days=days)).isoformat())
        rows.append(row)
    org = {
        "departments": [{"name": "Co"}],
        "users": [{"login": f"u{i}@x.example", "department": "Co"} for i in range(len(learners))],
        "courses": [{"title": "Safety"}],
        "enrollments": rows,
    }
    (root / "sandbox.yaml").write_text(yaml.safe_dump(org), encoding="utf-8")
    config = {
        "version": 1,
        "policies": ["policies"],
        "providers": {name: {"kind": kind, "sandbox": "sandbox.yaml"} for name, kind in PROVIDERS.items()},
    }
    (root / "enrollctl.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "policies").mkdir()
    policies = [
        {
            "apiVersion": "enrollctl/v1",
            "kind": "Policy",
            "metadata": {"name": f"safety-{name}"},
            "spec": {
                "provider": name,
                "targets": {"everyone": True},
                "assign": [{"course": "Safety", "recur": {"every": "12 months"}}],
            },
        }
        for name in PROVIDERS
    ]
    (root / "policies" / "safety.yaml").write_text(yaml.safe_dump_all(policies), encoding="utf-8")


def _histories(root: Path, provider: str) -> dict[str, int]:
    """Earlier attempts the sandbox keeps, per learner login."""
    store = open_sandbox(str(root / "sandbox.yaml"), str(sandbox_db_path(root, provider)))
    try:
        logins = {u.uuid: u.login for u in store.users()}
        return {logins[e.user_uuid]: len(compliance.history(store, e.uuid)) for e in store.enrollments()}
    finally:
        store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learners=st.lists(learner_st, min_size=1, max_size=6))
def test_due_completions_are_reenrolled_once_on_both_vendors_and_the_next_plan_is_empty(
    learners: list[int | None],
) -> None:
    due = {
        f"u{i}@x.example"
        for i, days in enumerate(learners)
        if days is not None and _plus_a_year(NOW.date() - dt.timedelta(days=days)) <= NOW.date()
    }
    event(f"{len(due)} of {len(learners)} due")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _repository(root, learners)
        plan, workspace = make_plan(root, now=NOW, options=RunOptions(), env=ENV)
        try:
            for part in plan.providers:
                reenrolled = {a.user_login for a in part.actions if a.kind is ActionKind.REENROLL}
                assert reenrolled == due, part.provider
                assert len(part.actions) == len(due), [a.id for a in part.actions]
            result = apply.run(
                plan,
                workspace.providers,
                root / ".enrollctl" / "journal",
                now=NOW,
                manifest_digest=workspace.digest,
                directories=workspace.directories,
            )
            assert result.failed == 0, result
        finally:
            workspace.close()
        again, second = make_plan(root, now=NOW, options=RunOptions(), env=ENV)
        second.close()
        assert not again.has_changes, [a.id for a in again.actions]
        for provider in PROVIDERS:
            kept = _histories(root, provider)
            assert kept == {f"u{i}@x.example": int(f"u{i}@x.example" in due) for i in range(len(learners))}
