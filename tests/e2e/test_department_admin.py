"""A department administrator's key plans and applies only inside its departments.

The sandbox's department-administrator key is scoped to the first department below the root: Engineering.
Its directory starts at `Engineering`, yet manifests may name departments by their full path from the real
root (`Acme/Engineering/Platform`).
"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.sandbox.serve import SANDBOX_CREDENTIALS
from tests.support.e2e import copy_example, enrollctl, open_store

POLICY = """\
apiVersion: enrollctl/v1
kind: Policy
metadata: {name: everyone-security}
spec:
  targets: {everyone: true}
  assign:
    - {course: Security Awareness 2026, due: 2026-12-31}
  prune: true
---
apiVersion: enrollctl/v1
kind: Policy
metadata: {name: platform-secure-coding}
spec:
  # the full path from the real root: the administrator cannot see `Acme`, only `Engineering` below it
  targets: {departments: [Acme/Engineering/Platform]}
  assign:
    - {course: Secure Coding}
"""
ENV = {
    "DEPT_ADMIN_ID": SANDBOX_CREDENTIALS["ispring"]["department_admin_client_id"],
    "DEPT_ADMIN_SECRET": SANDBOX_CREDENTIALS["ispring"]["department_admin_client_secret"],
}


def _department_admin_repository(tmp_path: Path) -> Path:
    root = copy_example("quickstart", tmp_path / "scoped")
    for policy in (root / "policies").glob("*.yaml"):
        policy.unlink()
    (root / "policies" / "security.yaml").write_text(POLICY)
    config = (root / "enrollctl.yaml").read_text()
    config = config.replace(
        "    sandbox: sandbox.yaml\n",
        "    sandbox: sandbox.yaml\n"
        "    client_id_env: DEPT_ADMIN_ID\n"
        "    client_secret_env: DEPT_ADMIN_SECRET\n",
    )
    (root / "enrollctl.yaml").write_text(config.replace("max_removal_share: 0.25", "max_removal_share: 1.0"))
    return root


def _enrollments_outside_engineering(root: Path) -> set[tuple[str, str, object]]:
    store = open_store(root)
    try:
        inside = store.department_subtree([d.uuid for d in store.departments() if d.name == "Engineering"])
        users = {u.uuid for u in store.users() if u.department_uuid not in inside}
        return {(e.user_uuid, e.item_uuid, e.terms) for e in store.enrollments() if e.user_uuid in users}
    finally:
        store.close()


def test_department_admin_token_plans_and_applies_only_its_scope(tmp_path: Path) -> None:
    root = _department_admin_repository(tmp_path)
    outside_before = _enrollments_outside_engineering(root)
    planned = enrollctl(root, "plan", "--format", "json", env=ENV)
    assert planned.exit_code == 0, planned.output
    actions = [a for p in json.loads(planned.stdout)["providers"] for a in p["actions"]]
    assert actions, "the everyone policy has work inside Engineering"
    assert all(a["department"].startswith("Engineering") for a in actions), actions
    secure_coding = {a["department"] for a in actions if a["item_title"] == "Secure Coding"}
    assert secure_coding == {"Engineering/Platform"}, actions
    applied = enrollctl(root, "apply", "--auto-approve", env=ENV)
    assert applied.exit_code == 0, applied.output
    assert enrollctl(root, "plan", "--detailed-exitcode", env=ENV).exit_code == 0
    assert _enrollments_outside_engineering(root) == outside_before


def test_a_department_outside_the_scope_is_unknown_with_a_hint_naming_the_scope(tmp_path: Path) -> None:
    root = _department_admin_repository(tmp_path)
    policy = (root / "policies" / "security.yaml").read_text()
    (root / "policies" / "security.yaml").write_text(
        policy.replace("Acme/Engineering/Platform", "Acme/Sales")
    )
    planned = enrollctl(root, "plan", env=ENV)
    assert planned.exit_code != 0
    assert "unknown department 'Acme/Sales'" in planned.output
    assert "credentials are a department administrator's" in planned.output, planned.output
    # the same policy with an account administrator's key: unknown only because it is
    (root / "policies" / "security.yaml").write_text(
        policy.replace("Acme/Engineering/Platform", "Acme/Nowhere")
    )
    config = (root / "enrollctl.yaml").read_text()
    config = config.replace(
        "    client_id_env: DEPT_ADMIN_ID\n    client_secret_env: DEPT_ADMIN_SECRET\n", ""
    )
    (root / "enrollctl.yaml").write_text(config)
    whole = enrollctl(root, "plan")
    assert "unknown department 'Acme/Nowhere'" in whole.output
    assert "department administrator" not in whole.output
