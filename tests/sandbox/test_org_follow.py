"""A sandbox follows its organisation file: joiners, leavers, moves and new content reach the state; every
enrollment and its progress stays; scripted events fire at their date, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.sandbox.org.load import user_uuid
from reconciler.sandbox.store.records import EnrollmentQuery
from tests.support.e2e import copy_example, enrollctl, open_store

JOINER = "  - {login: nora@acme.example, first_name: Nora, department: Acme/Sales, status: active}\n"


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    """The quickstart, applied once, so its sandbox holds enrollments with progress."""
    root = copy_example("quickstart", tmp_path / "repo")
    assert enrollctl(root, "apply", "--auto-approve").exit_code == 0
    return root


def _edit(root: Path, old: str, new: str) -> None:
    org = root / "sandbox.yaml"
    text = org.read_text(encoding="utf-8")
    assert old in text
    org.write_text(text.replace(old, new, 1), encoding="utf-8")


def _adds(result_stdout: str) -> set[str]:
    plan = json.loads(result_stdout)
    return {a["user_login"] for p in plan["providers"] for a in p["actions"] if a["kind"] == "add"}


def _enrollments_of(root: Path, login: str) -> list[tuple[str, str, float]]:
    store = open_store(root)
    try:
        rows = store.enrollments(EnrollmentQuery(user_uuids=frozenset({user_uuid(login)})))
        return sorted((e.item_uuid, e.progress.status, e.progress.progress) for e in rows)
    finally:
        store.close()


def test_a_joiner_added_to_the_file_is_an_add_in_the_next_plan(applied: Path) -> None:
    _edit(
        applied, "groups: [New hires, Managers]\nusers:\n", "groups: [New hires, Managers]\nusers:\n" + JOINER
    )
    result = enrollctl(applied, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "nora@acme.example" in _adds(result.stdout)
    assert "1 joiner" in result.stderr and "every enrollment and its progress kept" in result.stderr
    assert len([line for line in result.stderr.splitlines() if "Sandbox" in line]) == 1
    again = enrollctl(applied, "plan", "--format", "json")
    assert "Sandbox" not in again.stderr  # said once: the state follows the file now


def _status(root: Path, login: str) -> str:
    store = open_store(root)
    try:
        user = store.get_user(user_uuid(login))
        assert user is not None
        return user.status
    finally:
        store.close()


def test_a_leaver_keeps_every_enrollment_and_its_progress(applied: Path) -> None:
    before = _enrollments_of(applied, "hugo@acme.example")
    assert any(progress > 0 for _, _, progress in before)
    _edit(
        applied,
        "Martin, department: Acme/Engineering/Contractors, status: active",
        "Martin, department: Acme/Engineering/Contractors, status: employment_ended",
    )
    result = enrollctl(applied, "plan")
    assert "1 leaver" in result.stderr, result.output
    assert _status(applied, "hugo@acme.example") == "employment_ended"
    assert _enrollments_of(applied, "hugo@acme.example") == before


def test_a_user_gone_from_the_file_is_a_leaver_not_a_deletion(applied: Path) -> None:
    before = _enrollments_of(applied, "rosa@acme.example")
    assert before  # enrolled by the apply
    _edit(
        applied,
        "  - {login: rosa@acme.example, first_name: Rosa, last_name: Garcia, "
        "department: Acme/Sales/Americas, status: active}\n",
        "",
    )
    result = enrollctl(applied, "plan")
    assert "1 leaver" in result.stderr, result.output
    assert _status(applied, "rosa@acme.example") == "employment_ended"
    assert _enrollments_of(applied, "rosa@acme.example") == before


def test_a_moved_user_changes_department(applied: Path) -> None:
    before = _enrollments_of(applied, "marco@acme.example")
    _edit(
        applied,
        "login: marco@acme.example, first_name: Marco, last_name: Rossi, department: Acme/Sales/EMEA",
        "login: marco@acme.example, first_name: Marco, last_name: Rossi, department: Acme/Operations",
    )
    result = enrollctl(applied, "plan")
    assert "1 move" in result.stderr
    store = open_store(applied)
    try:
        user = store.get_user(user_uuid("marco@acme.example"))
        department = store.get_department("Acme/Operations", by="path")
        assert user is not None and department is not None and user.department_uuid == department.uuid
    finally:
        store.close()
    assert _enrollments_of(applied, "marco@acme.example") == before


def test_a_new_course_appears_without_a_reset(applied: Path) -> None:
    _edit(applied, "courses:\n", "courses:\n  - {title: Export Control}\n")
    result = enrollctl(applied, "plan")
    assert "1 new course" in result.stderr
    store = open_store(applied)
    try:
        assert any(i.title == "Export Control" for i in store.items())
    finally:
        store.close()


EVENTS = """
events:
  - {at: 2026-12-01, hire: {login: nora@acme.example, first_name: Nora, department: Acme/Sales}}
  - {at: 2027-01-15, leave: helen@acme.example}
  - {at: 2027-01-15, move: {login: marco@acme.example, department: Acme/Operations}}
"""


def test_events_fire_at_their_date_and_only_once(applied: Path) -> None:
    (applied / "sandbox.yaml").write_text((applied / "sandbox.yaml").read_text() + EVENTS, encoding="utf-8")
    early = enrollctl(applied, "plan", "--format", "json", env={"ENROLLCTL_NOW": "2026-11-30T00:00:00+00:00"})
    assert early.exit_code == 0, early.output
    assert "nora@acme.example" not in _adds(early.stdout) and "fired" not in early.stderr

    hired = enrollctl(applied, "plan", "--format", "json", env={"ENROLLCTL_NOW": "2026-12-02T00:00:00+00:00"})
    assert "fired 1 event due by 2026-12-02 (hire nora@acme.example)" in hired.stderr
    assert "nora@acme.example" in _adds(hired.stdout)
    again = enrollctl(applied, "plan", env={"ENROLLCTL_NOW": "2026-12-03T00:00:00+00:00"})
    assert "fired" not in again.stderr

    quarter = enrollctl(applied, "plan", env={"ENROLLCTL_NOW": "2027-03-31T00:00:00+00:00"})
    assert "fired 2 events" in quarter.stderr
    helen_before = _enrollments_of(applied, "helen@acme.example")
    store = open_store(applied)
    try:
        helen = store.get_user(user_uuid("helen@acme.example"))
        marco = store.get_user(user_uuid("marco@acme.example"))
        operations = store.get_department("Acme/Operations", by="path")
        assert helen is not None and helen.status == "employment_ended"
        assert marco is not None and operations is not None and marco.department_uuid == operations.uuid
    finally:
        store.close()
    assert helen_before  # her enrollments stay
    assert (
        "fired" not in enrollctl(applied, "plan", env={"ENROLLCTL_NOW": "2027-04-01T00:00:00+00:00"}).stderr
    )


def test_an_event_naming_an_unknown_department_is_an_error(applied: Path) -> None:
    bad = "\nevents:\n  - {at: 2026-01-01, move: {login: marco@acme.example, department: Acme/Nowhere}}\n"
    (applied / "sandbox.yaml").write_text((applied / "sandbox.yaml").read_text() + bad, encoding="utf-8")
    result = enrollctl(applied, "plan")
    assert result.exit_code == 1
    assert "move marco@acme.example" in result.stderr and "unknown department 'Acme/Nowhere'" in result.stderr


def test_reset_starts_over_from_the_file(applied: Path) -> None:
    _edit(
        applied, "groups: [New hires, Managers]\nusers:\n", "groups: [New hires, Managers]\nusers:\n" + JOINER
    )
    assert enrollctl(applied, "sandbox", "reset").exit_code == 0
    result = enrollctl(applied, "plan")
    assert "Sandbox" not in result.stderr  # freshly seeded from the file: nothing to follow
