"""Saved plans that must not be applied: edited, tampered with, cut short, not plans at all, or made for
another provider, account or manifest set. Each is refused by `apply FILE` (and `show FILE` where the
file is unreadable) with a message naming the file and what is wrong, exit 1, and no write to the LMS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.workspace import load_workspace
from reconciler.planfile import file as planfile
from reconciler.planfile.codec import enrollment_to_dict
from tests.support.bad import assert_clean_failure, copy_example, enrollctl, sandbox_writes

Plan = dict[str, Any]
Edit = Callable[[Plan, Path], Plan]  # the saved plan and its repository → the edited plan


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Plan]:
    """The quickstart repository and the plan it makes (adds, updates, a removal, a protected record)."""
    root = copy_example("quickstart", tmp_path / "quickstart")
    out = root / "plan.json"
    result = enrollctl(root, "plan", "--out", str(out))
    assert result.exit_code == 0, result.output
    return root, json.loads(out.read_text(encoding="utf-8"))


def _actions(plan: Plan) -> list[dict[str, Any]]:
    return list(plan["providers"][0]["actions"])


def _first(plan: Plan, kind: str) -> dict[str, Any]:
    return next(a for a in _actions(plan) if a["kind"] == kind)


def _set(path: str, value: Any) -> Edit:
    def edit(plan: Plan, _root: Path) -> Plan:
        *parents, last = path.split(".")
        node: Any = plan
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
        return plan

    return edit


def _edited_id(plan: Plan, _root: Path) -> Plan:
    _first(plan, "add")["id"] = "add:someone-else:" + _first(plan, "add")["item_id"]
    return plan


def _add_becomes_remove(plan: Plan, _root: Path) -> Plan:
    action = _first(plan, "add")
    action["kind"] = "remove"
    action["id"] = f"remove:{action['user_id']}:{action['item_id']}"
    return plan


def _protected_becomes_remove(plan: Plan, root: Path) -> Plan:
    """Turn a record the plan kept (it has progress) into a removal whose basis matches the LMS."""
    part = plan["providers"][0]
    kept = next(k for k in part["kept"] if k["reason"] == "has_progress")
    removal = dict(_first(plan, "remove"))
    removal.update(
        id=f"remove:{kept['user_id']}:{kept['item_id']}",
        user_id=kept["user_id"],
        user_login=kept["user_login"],
        item_id=kept["item_id"],
        item_title=kept["item_title"],
        before=_current_enrollment(root, kept["user_id"], kept["item_id"]),
    )
    part["actions"].append(removal)
    part["kept"].remove(kept)
    return plan


def _current_enrollment(root: Path, user_id: str, item_id: str) -> dict[str, Any]:
    """The enrollment as the LMS holds it now, in the plan file's form (what a forger would copy)."""
    workspace = load_workspace(root, {})
    try:
        provider = next(iter(workspace.providers.values()))
        held = provider.read_enrollments(provider.read_directory(), (item_id,))
    finally:
        workspace.close()
    return next(enrollment_to_dict(e) for e in held if e.user_id == user_id)


def _mass_removal(plan: Plan, _root: Path) -> Plan:
    """Every update turned into a removal of the enrollment it was based on: past the removal guard."""
    for action in _actions(plan):
        if action["kind"] == "update":
            action.update(
                kind="remove", terms=None, changes=[], id=f"remove:{action['user_id']}:{action['item_id']}"
            )
    plan["options"]["allow_remove_completed"] = True  # the protection override, forged too
    return plan


def _update_without_before(plan: Plan, _root: Path) -> Plan:
    _first(plan, "update")["before"] = None
    return plan


@dataclass(frozen=True)
class Case:
    name: str
    edit: Edit
    needles: tuple[str, ...]


EDITS = [
    Case("edited-action-id", _edited_id, ("plan.json", "does not match")),
    Case("format-version-2", _set("format_version", 2), ("plan.json", "format_version 2")),
    Case("format-version-string", _set("format_version", "1"), ("plan.json", "format_version")),
    Case("format-version-true", _set("format_version", True), ("plan.json", "format_version")),
    Case(
        "format-version-missing",
        lambda p, _root: {k: v for k, v in p.items() if k != "format_version"},
        ("no format_version",),
    ),
    Case("other-provider", _set("providers.0.provider", "elsewhere"), ("elsewhere",)),
    Case("other-vendor", _set("providers.0.kind", "litmos"), ("litmos",)),
    Case("other-account", _set("providers.0.account", "https://evil.example"), ("account",)),
    Case("other-manifests", _set("manifest_digest", "sha256:" + "0" * 64), ("other manifests",)),
    Case("unknown-action-kind", _set("providers.0.actions.0.kind", "purge"), ("plan.json", "kind")),
    Case(
        "action-without-user",
        lambda p, _root: (_actions(p)[0].pop("user_id"), p)[1],
        ("plan.json", "user_id"),
    ),
    Case("terms-not-an-object", _set("providers.0.actions.0.terms", "soon"), ("plan.json", "terms")),
    Case("not-an-object", lambda p, _root: [p], ("plan.json", "JSON object")),
    Case("add-becomes-remove", _add_becomes_remove, ("has no `before`",)),  # the user is not enrolled
    Case("update-without-before", _update_without_before, ("has no `before`",)),
    Case("add-without-terms", _set("providers.0.actions.0.terms", None), ("has no `terms`",)),
    Case("protected-becomes-remove", _protected_becomes_remove, ("progress",)),
    Case("mass-removal", _mass_removal, ("max_removal",)),
]


@pytest.mark.parametrize("case", EDITS, ids=[c.name for c in EDITS])
def test_an_edited_plan_is_refused_without_writing(case: Case, saved: tuple[Path, Plan]) -> None:
    root, plan = saved
    path = root / "plan.json"
    edited = case.edit(plan, root)
    path.write_text(json.dumps(edited), encoding="utf-8")
    result = enrollctl(root, "apply", str(path))
    assert_clean_failure(result, *case.needles)
    assert _writes(root) == []


RAW = [
    ("empty", b"", ("plan.json", "empty")),
    ("whitespace", b"  \n\t\n", ("plan.json", "empty")),
    ("not-json", b"add alice to Security Awareness\n", ("plan.json", "not valid JSON")),
    ("yaml-not-json", b"format_version: 1\nproviders: []\n", ("plan.json", "not valid JSON")),
    ("binary", bytes(range(256)) * 4, ("plan.json", "not UTF-8")),
    ("utf16", '{"format_version": 1}'.encode("utf-16"), ("plan.json", "UTF-8")),
    ("json-null", b"null", ("plan.json", "JSON object")),
    ("json-number", b"42", ("plan.json", "JSON object")),
]


@pytest.mark.parametrize(("name", "content", "needles"), RAW, ids=[r[0] for r in RAW])
def test_a_file_that_is_not_a_plan_is_refused_by_apply_and_show(
    name: str, content: bytes, needles: tuple[str, ...], saved: tuple[Path, Plan]
) -> None:
    root, _ = saved
    path = root / "plan.json"
    path.write_bytes(content)
    for command in ("apply", "show"):
        assert_clean_failure(enrollctl(root, command, str(path)), *needles)
    assert _writes(root) == []


def test_a_truncated_plan_is_called_truncated(saved: tuple[Path, Plan]) -> None:
    root, _ = saved
    path = root / "plan.json"
    text = path.read_text(encoding="utf-8")
    for cut in (len(text) // 3, len(text) // 2, len(text) - 2):
        path.write_text(text[:cut], encoding="utf-8")
        assert_clean_failure(enrollctl(root, "apply", str(path)), "plan.json", "truncated")
    assert _writes(root) == []


def test_a_plan_made_before_a_manifest_edit_is_refused(saved: tuple[Path, Plan]) -> None:
    root, _ = saved
    policy = root / "policies" / "anti-bribery.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("30d", "31d"), encoding="utf-8")
    result = enrollctl(root, "apply", str(root / "plan.json"))
    assert_clean_failure(result, "other manifests")
    assert _writes(root) == []


def test_a_huge_file_is_refused_before_it_is_parsed(
    saved: tuple[Path, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = saved
    path = root / "plan.json"
    path.write_bytes(b'{"format_version": 1, "pad": "' + b"x" * 200_000 + b'"}')
    # the real limit is 2 GiB; the same check with a small one keeps the test fast
    monkeypatch.setitem(planfile.load_plan.__kwdefaults__, "max_bytes", 100_000)
    for command in ("apply", "show"):
        assert_clean_failure(enrollctl(root, command, str(path)), "plan.json", "larger than")
    assert _writes(root) == []


def _writes(root: Path) -> list[str]:
    return sandbox_writes(root)
