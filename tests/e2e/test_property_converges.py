"""Property: for random small organisations, enrollments and policies, plan → apply → plan has no changes,
and nothing outside the items of `prune: true` policies is ever removed (on the in-process iSpring sandbox).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.apply import run as apply
from reconciler.core.plan import ActionKind, Plan, RunOptions
from reconciler.engine.build import sandbox_db_path
from reconciler.engine.workspace import make_plan
from reconciler.sandbox.serve import open_sandbox

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
# the sandbox's clock is the plan's: a `within:` counts from the day the LMS gives the new enrollment, so an
# apply days after its plan may turn a `within:` that won by a day into a fixed date that wins the re-plan
# (the effective-date rule, docs/MANIFEST.md); this property is about one day's plan and apply
ENV = {"ENROLLCTL_NOW": NOW.isoformat()}
PATHS = ["Co", "Co/A", "Co/A/A1", "Co/B"]
GROUPS = ["G1", "G2"]
COURSES = ["C1", "C2", "C3"]
ITEMS = [("course", c) for c in COURSES] + [("learning_path", "P1")]
DUES: list[Any] = ["default", "unlimited", "2026-12-31", "2027-03-01", {"within": "30d"}, {"within": "2w"}]

users_st = st.lists(
    st.tuples(
        st.sampled_from(PATHS),
        st.sets(st.sampled_from(GROUPS)),
        st.sampled_from(["active", "active", "active", "blocked", "inactive"]),
    ),
    min_size=1,
    max_size=8,
)
enrollment_st = st.tuples(
    st.integers(0, 7),
    st.sampled_from(ITEMS),
    st.sampled_from(["not_started", "not_started", "not_started", "in_progress", "complete"]),
    st.sampled_from(["admin", "admin", "admin", "catalog"]),
    st.sampled_from([None, "2026-06-30", "2027-01-15"]),
)
target_st = st.one_of(
    st.just({"everyone": True}),
    st.builds(
        lambda p, r: {"departments": [{"path": p, "recursive": r}]}, st.sampled_from(PATHS), st.booleans()
    ),
    st.builds(lambda g: {"groups": [g]}, st.sampled_from(GROUPS)),
    st.builds(lambda i: {"users": [f"u{i}@x.example"]}, st.integers(0, 7)),
)
assign_st = st.lists(
    st.builds(
        lambda item, due, lock: {item[0]: item[1], "due": due, "lock_after_due": lock},
        st.sampled_from(ITEMS),
        st.sampled_from(DUES),
        st.booleans(),
    ),
    min_size=1,
    max_size=2,
    unique_by=lambda a: a.get("course", a.get("learning_path")),
)
policy_st = st.tuples(
    target_st, st.sampled_from([None, "Co/B", "G2"]), assign_st, st.sampled_from([True, True, False])
)


def _org(users: list[tuple[str, set[str], str]], enrollments: list[tuple[Any, ...]]) -> dict[str, Any]:
    seen: set[tuple[int, str]] = set()
    rows = []
    for drawn, (kind, title), status, origin, due in enrollments:
        index = drawn % len(users)
        if (index, title) in seen:
            continue
        seen.add((index, title))
        row: dict[str, Any] = {"user": f"u{index}@x.example", kind: title, "status": status, "origin": origin}
        row.update(
            {"progress": 100} if status == "complete" else {"progress": 30} if status == "in_progress" else {}
        )
        if due:
            row["due"] = due
        rows.append(row)
    return {
        "departments": [
            {"name": "Co", "children": [{"name": "A", "children": [{"name": "A1"}]}, {"name": "B"}]}
        ],
        "groups": GROUPS,
        "users": [
            {
                "login": f"u{i}@x.example",
                "first_name": "U",
                "last_name": str(i),
                "department": path,
                "groups": sorted(groups),
                "status": status,
            }
            for i, (path, groups, status) in enumerate(users)
        ],
        "courses": [{"title": c} for c in COURSES],
        "learning_paths": [{"title": "P1", "courses": ["C1"]}],
        "enrollments": rows,
    }


def _policy(index: int, policy: tuple[Any, ...]) -> dict[str, Any]:
    targets, exclude, assign, prune = policy
    targets = dict(targets)
    if exclude == "Co/B":
        targets["exclude"] = {"departments": ["Co/B"]}
    elif exclude == "G2":
        targets["exclude"] = {"groups": ["G2"]}
    return {
        "apiVersion": "enrollctl/v1",
        "kind": "Policy",
        "metadata": {"name": f"p{index}"},
        "spec": {"targets": targets, "assign": assign, "prune": prune},
    }


def _write_repository(root: Path, org: dict[str, Any], policies: list[dict[str, Any]]) -> None:
    (root / "policies").mkdir()
    (root / "sandbox.yaml").write_text(yaml.safe_dump(org), encoding="utf-8")
    config = {
        "version": 1,
        "policies": ["policies"],
        "providers": {"lms": {"kind": "ispring", "sandbox": "sandbox.yaml"}},
        "settings": {"user_statuses": ["active"], "max_removals": 1000, "max_removal_share": 1.0},
    }
    (root / "enrollctl.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "policies" / "all.yaml").write_text(yaml.safe_dump_all(policies), encoding="utf-8")


def _held(root: Path) -> set[tuple[str, str]]:
    store = open_sandbox(str(root / "sandbox.yaml"), str(sandbox_db_path(root, "lms")))
    try:
        return {(e.user_uuid, e.item_uuid) for e in store.enrollments()}
    finally:
        store.close()


def removal_titles_of(plan: Plan) -> set[str]:
    return {a.item_title for a in plan.actions if a.kind is ActionKind.REMOVE}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    users=users_st,
    enrollments=st.lists(enrollment_st, min_size=3, max_size=16),
    policies=st.lists(policy_st, min_size=1, max_size=3),
)
def test_plan_apply_plan_converges_and_prunes_only_pruned_items(
    users: list[tuple[str, set[str], str]],
    enrollments: list[tuple[Any, ...]],
    policies: list[tuple[Any, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_repository(root, _org(users, enrollments), [_policy(i, p) for i, p in enumerate(policies)])
        plan, workspace = make_plan(root, now=NOW, options=RunOptions(), env=ENV)
        try:
            before = _held(root)
            pruned = {a.item_id for a in plan.actions if a.kind is ActionKind.REMOVE}
            apply.run(
                plan,
                workspace.providers,
                root / ".enrollctl" / "journal",
                now=NOW,
                manifest_digest=workspace.digest,
                directories=workspace.directories,
            )
        finally:
            workspace.close()
        pruned_titles = {
            item
            for _, item in ITEMS
            if any(
                p[3] and any(a.get("course", a.get("learning_path")) == item for a in p[2]) for p in policies
            )
        }
        event(f"plan with {'some' if plan.has_changes else 'no'} changes")
        event(f"plan with {'some' if removal_titles_of(plan) else 'no'} removals")
        removal_titles = removal_titles_of(plan)
        assert removal_titles <= pruned_titles
        removed = before - _held(root)
        assert {item for _, item in removed} <= pruned
        again, second = make_plan(root, now=NOW, options=RunOptions(), env=ENV)
        second.close()
        assert not again.has_changes, [a.id for a in again.actions]
