"""The same org and policies through REST v3 and through SOAP: an identical plan and an identical final state.

examples/quickstart is planned, applied and planned again once with `api: rest` (the default) and once with
`api: soap`, each against its own fresh sandbox. Both converge; their plans (JSON, text) and the final
enrollments in the two stores are equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.e2e import copy_example, enrollctl, open_store


def _quickstart(tmp_path: Path, api: str | None) -> Path:
    root = copy_example("quickstart", tmp_path / (api or "default"))
    if api is not None:
        config = root / "enrollctl.yaml"
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("    sandbox: sandbox.yaml\n", f"    sandbox: sandbox.yaml\n    api: {api}\n")
        )
    return root


def _state(root: Path) -> list[tuple[object, ...]]:
    """Every enrollment's learner, item, terms and origin; a relative due date as its period, since the
    sandbox starts it from the wall clock of the write (the two runs write a second or so apart)."""
    store = open_store(root)
    try:
        return sorted(
            (
                r.user_uuid,
                r.item_uuid,
                r.terms.due_type,
                r.terms.due_period_hours if r.terms.due_type == "due_period" else str(r.terms.due_date),
                r.origin,
                r.terms.lock_after_due,
            )
            for r in store.enrollments()
        )
    finally:
        store.close()


def _converge(root: Path) -> tuple[dict[str, Any], str]:
    planned = enrollctl(root, "plan", "--format", "json")
    assert planned.exit_code == 0, planned.output
    text = enrollctl(root, "plan", "--no-color").stdout
    applied = enrollctl(root, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = enrollctl(root, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # 0: no changes left
    return json.loads(planned.stdout), text


def test_rest_and_soap_give_one_plan_and_one_final_state(tmp_path: Path) -> None:
    rest, soap = _quickstart(tmp_path, None), _quickstart(tmp_path, "soap")
    rest_plan, rest_text = _converge(rest)
    soap_plan, soap_text = _converge(soap)
    # the manifests differ by the `api:` line alone, so only the digests covering them may differ
    assert rest_plan.pop("manifest_digest") != soap_plan.pop("manifest_digest")
    for plan in (rest_plan, soap_plan):
        plan.get("verdict", {}).pop("approval_digest", None)
    assert rest_plan == soap_plan and rest_text == soap_text
    assert "1 removal," in str(rest_plan["guard"]), "the quickstart plan has work to do, a removal included"
    assert _state(rest) == _state(soap)
    rest_log = {e.path for e in open_store(rest).request_log()}
    assert "/enrollment" in rest_log and "/api/v2/soap/2.0" not in rest_log  # REST really was used
    assert "/api/v2/soap/2.0" in {e.path for e in open_store(soap).request_log()}
