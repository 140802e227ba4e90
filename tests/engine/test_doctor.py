"""`enrollctl doctor` against the sandbox: green where everything works, a precise diagnosis per failure.

Every test talks real HTTP (in-process WSGI) to the emulators, built the way `plan` builds them; failures
are injected with the sandbox's fault switches (`sandbox/faults.py`) or by the credentials themselves.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.doctor import Check, DoctorReport, Need, ProviderDiagnosis, Verdict
from reconciler.core.model import UserStatus
from reconciler.engine.build import build_provider, provider_builder
from reconciler.engine.doctor import run_doctor
from reconciler.engine.recording import Pseudonyms
from reconciler.engine.workspace import read_snapshot
from reconciler.manifest.load import load_config
from reconciler.providers.base import Exchange
from reconciler.providers.probing import HTML_MEANING
from reconciler.render.doctor import render_doctor_json, render_doctor_text
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS
from tests.support.e2e import copy_example, open_store
from tests.support.hostile import hostile_server

ISPRING = SANDBOX_CREDENTIALS["ispring"]
DEPARTMENT_ADMIN = {
    "DA_ID": ISPRING["department_admin_client_id"],
    "DA_SECRET": ISPRING["department_admin_client_secret"],
}
REST_READS = ["GET /departments", "GET /groups", "GET /users", "GET /contents", "GET /enrollments"]
SOAP_READS = [
    "GetDepartments",
    "GetGroups",
    "GetUsers",
    "ListContent",
    "ListEnrollments",
    "ListLearnersResults",
]
LITMOS_READS = [
    "GET /users",
    "GET /teams",
    "GET /teams/{id}/teams",
    "GET /teams/{id}/users",
    "GET /courses",
    "GET /learningpaths",
    "GET /courses/{id}/users",
    "GET /learningpaths/{id}/users",
    "POST /users/courses",
    "GET /users/{id}",
]


def repository(tmp_path: Path, variant: str) -> Path:
    """A sandbox repository: `rest` and `soap` (iSpring quickstart), `litmos` (the Litmos example), with
    credentials named through DA_ID/DA_SECRET (iSpring) or LK (Litmos) for the tests that change them."""
    example = "litmos" if variant == "litmos" else "quickstart"
    root = copy_example(example, tmp_path / variant)
    config = root / "enrollctl.yaml"
    extra = {"rest": "", "soap": "\n    api: soap", "litmos": ""}[variant]
    text = config.read_text().replace("    sandbox: sandbox.yaml", f"    sandbox: sandbox.yaml{extra}")
    config.write_text(text)
    return root


def with_credentials(root: Path) -> None:
    """Make the sandbox provider take its credentials from DA_ID/DA_SECRET or LK."""
    config = root / "enrollctl.yaml"
    litmos = "kind: litmos" in config.read_text()
    names = (
        "\n    api_key_env: LK" if litmos else "\n    client_id_env: DA_ID\n    client_secret_env: DA_SECRET"
    )
    config.write_text(
        config.read_text().replace("    sandbox: sandbox.yaml", f"    sandbox: sandbox.yaml{names}")
    )


def doctor(
    root: Path, env: dict[str, str] | None = None, faults: dict[str, Any] | None = None, **kw: Any
) -> DoctorReport:
    build = provider_builder(sandbox_faults=faults) if faults else build_provider
    return run_doctor(root, env or {}, build=build, **kw)


def only(report: DoctorReport) -> ProviderDiagnosis:
    (diagnosis,) = report.providers
    return diagnosis


def check(diagnosis: ProviderDiagnosis, call: str) -> Check:
    return next(c for c in diagnosis.checks if c.call == call)


def logged(root: Path, provider: str) -> list[tuple[str, str]]:
    store = open_store(root, provider)
    try:
        return [(e.method, e.action) for e in store.request_log()]
    finally:
        store.close()


# --- green on the sandbox -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "reads"),
    [("rest", [*REST_READS, "GET /learners/results"]), ("soap", SOAP_READS), ("litmos", LITMOS_READS)],
)
def test_every_read_is_ok_on_the_sandbox_and_no_write_is_sent(
    tmp_path: Path, variant: str, reads: list[str]
) -> None:
    root = repository(tmp_path, variant)
    report = doctor(root)
    diagnosis = only(report)
    assert report.ready and diagnosis.ready
    assert [c.call for c in diagnosis.checks if c.verdict is Verdict.OK] == (
        ["POST /api/v3/token", *reads] if variant != "litmos" else reads
    )
    assert all(c.seconds is not None and c.status == 200 for c in diagnosis.checks if c.verdict is Verdict.OK)
    writes = [c for c in diagnosis.checks if c.verdict is Verdict.NOT_PROBED]
    assert writes and all(c.needs == (Need.APPLY,) and c.detail == "doctor is read-only" for c in writes)
    assert not diagnosis.scope.limited
    provider = "academy" if variant == "litmos" else "lms"
    sent = logged(root, provider)
    assert sent  # the probes reached the emulator...
    write_actions = {"EnrollLearnersInCourses", "ChangeEnrollment", "Unenroll"}
    assert not [a for m, a in sent if a in write_actions or m in ("DELETE", "PUT")]  # ...and wrote nothing
    assert not [a for m, a in sent if m == "POST" and variant == "litmos" and a != "POST /users/courses"]


def test_listings_are_probed_with_one_row(tmp_path: Path) -> None:
    root = repository(tmp_path, "rest")
    diagnosis = only(doctor(root))
    for call in ("GET /users", "GET /enrollments", "GET /learners/results"):
        assert (
            check(diagnosis, call).detail
            == "1 "
            + {
                "GET /users": "user",
                "GET /enrollments": "enrollment",
                "GET /learners/results": "result",
            }[call]
            + " on the first page (pageSize=1)"
        )


# --- failures, each diagnosed precisely -----------------------------------------------------------------


@pytest.mark.parametrize("variant", ["rest", "soap"])
def test_bad_ispring_credentials_are_refused_at_the_token_and_nothing_else_is_tried(
    tmp_path: Path, variant: str
) -> None:
    root = repository(tmp_path, variant)
    with_credentials(root)
    report = doctor(root, {"DA_ID": ISPRING["client_id"], "DA_SECRET": "not-the-secret"})
    diagnosis = only(report)
    token = check(diagnosis, "POST /api/v3/token")
    assert token.verdict is Verdict.REFUSED and token.status == 401
    assert token.detail == "Authorization failed" and "wrong credentials" in token.meaning
    reads = REST_READS if variant == "rest" else SOAP_READS
    assert all(check(diagnosis, c).verdict is Verdict.SKIPPED for c in reads)
    assert not report.ready


def test_a_bad_litmos_key_is_refused_with_what_litmos_means_by_403(tmp_path: Path) -> None:
    root = repository(tmp_path, "litmos")
    with_credentials(root)
    diagnosis = only(doctor(root, {"LK": "not-the-key"}))
    users = check(diagnosis, "GET /users")
    assert users.verdict is Verdict.REFUSED and users.status == 403
    assert "apikey is not valid" in users.detail and "wrong API key" in users.meaning
    assert not diagnosis.ready


@pytest.mark.parametrize("variant", ["rest", "soap"])
def test_a_department_administrators_key_is_diagnosed_as_a_department_scope(
    tmp_path: Path, variant: str
) -> None:
    root = repository(tmp_path, variant)
    with_credentials(root)
    report = doctor(root, DEPARTMENT_ADMIN)
    scope = only(report).scope
    assert scope.limited and scope.departments == ("Engineering",)
    assert scope.detail.startswith("department administrator: 3 departments under Engineering")
    assert "'Permission denied'" in scope.detail  # the vendor's documented refusal outside the scope
    assert "prune" in scope.meaning and "invisible" in scope.meaning
    assert report.ready  # plan and apply work, inside the scope


def test_an_account_without_getusers_v2_is_probed_and_read_with_v1_statuses(tmp_path: Path) -> None:
    root = repository(tmp_path, "soap")
    report = doctor(root, faults={"ispring_users_v1": True})
    users = check(only(report), "GetUsers")
    assert report.ready and users.verdict is Verdict.OK  # the refused v2 call is not a failed check
    assert [a for _, a in logged(root, "lms") if a.startswith("GetUsers")] == ["GetUsersV2", "GetUsers"]

    config = load_config(str(root)).providers["lms"]
    provider, close = provider_builder(sandbox_faults={"ispring_users_v1": True})(config, root, {})
    try:
        directory = read_snapshot(provider, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC)).snapshot.directory
    finally:
        close()
    statuses = {u.login: u.status for u in directory.users}
    # v1 reports one status (3) for inactive and employment ended: both are read as inactive
    assert statuses["jonas@acme.example"] is UserStatus.INACTIVE
    assert statuses["helen@acme.example"] is UserStatus.ACTIVE


@pytest.mark.parametrize(
    ("variant", "call", "action"), [("rest", "GET /users", "ListUsers"), ("soap", "GetUsers", "GetUsers")]
)
def test_an_account_wide_read_refused_while_one_departments_works_is_a_department_scope(
    tmp_path: Path, variant: str, call: str, action: str
) -> None:
    root = repository(tmp_path, variant)
    report = doctor(root, faults={"forbid_unscoped": [action]})
    diagnosis = only(report)
    users = check(diagnosis, call)
    assert users.verdict is Verdict.REFUSED and users.detail == "Permission denied"
    assert "department administrator" in users.meaning
    assert diagnosis.scope.limited and diagnosis.scope.departments == ("Acme",)
    assert diagnosis.scope.detail.startswith(
        f"department administrator: the account-wide {call} is refused ("
    )
    assert diagnosis.scope.detail.endswith("the same call for department 'Acme' works")
    assert "plan cannot run with this key" in diagnosis.scope.meaning
    assert not report.ready


def test_the_provider_declares_the_scope_its_department_list_shows(tmp_path: Path) -> None:
    root = repository(tmp_path, "rest")
    with_credentials(root)
    config = load_config(str(root)).providers["lms"]
    admin, close_admin = build_provider(
        config, root, {"DA_ID": ISPRING["client_id"], "DA_SECRET": ISPRING["client_secret"]}
    )
    scoped, close_scoped = build_provider(config, root, DEPARTMENT_ADMIN)
    try:
        now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
        whole = read_snapshot(admin, now=now).snapshot
        limited = read_snapshot(scoped, now=now).snapshot
    finally:
        close_admin()
        close_scoped()
    engineering = {
        d.id for d in whole.directory.departments if d.name in ("Engineering", "Platform", "Contractors")
    }
    assert whole.scope_department_ids is None
    assert limited.scope_department_ids == engineering
    assert {u.department_id for u in limited.directory.users} <= engineering


@pytest.mark.parametrize(
    ("variant", "call", "action"),
    [
        ("rest", "GET /users", "ListUsers"),
        ("soap", "GetUsers", "GetUsers"),
        ("litmos", "GET /users", "GET /users"),
    ],
)
def test_an_html_500_page_is_named_as_such(tmp_path: Path, variant: str, call: str, action: str) -> None:
    root = repository(tmp_path, variant)
    report = doctor(root, faults={"error_rates": {action: 1.0}, "html_errors": True})
    found = check(only(report), call)
    assert found.verdict is Verdict.REFUSED and found.status == 500
    assert found.detail == "HTML page '500 Internal Server Error'" and found.meaning == HTML_MEANING
    assert not report.ready


def test_a_failed_profile_read_is_a_caveat_for_where_targets_not_a_blocker(tmp_path: Path) -> None:
    """Litmos `GET /users/{id}` is read only for `where:`/`joined_within:` targets: its failure leaves
    doctor ready (exit 0) but says which policies cannot be planned; any other failed read blocks."""
    root = repository(tmp_path, "litmos")
    report = doctor(root, faults={"error_rates": {"GET /users/*": 1.0}})  # Litmos faults match raw paths
    found = check(only(report), "GET /users/{id}")
    assert found.verdict is Verdict.REFUSED and found.needs == (Need.PROFILES,)
    assert found.limiting and not found.blocking and report.ready
    assert "policies with `where:` or `joined_within:` cannot be planned" in render_doctor_text(report)
    blocked = doctor(root, faults={"error_rates": {"GET /courses": 1.0}})
    assert check(only(blocked), "GET /courses").blocking and not blocked.ready


@pytest.mark.parametrize(
    ("variant", "action", "names", "call", "expected"),
    [
        (
            "soap",
            "GetDepartments",
            {"department": "division"},
            "GetDepartments",
            "expected <department> records or <departments> of them, got <division",
        ),
        (
            "rest",
            "ListDepartments",
            {"departments": "divisions"},
            "GET /departments",
            "expected a JSON object with a 'departments' list, got keys ['divisions', 'nextPageToken']",
        ),
        (
            "soap",
            "ListEnrollments",
            {"enrollment": "assignment"},
            "ListEnrollments",
            "got <enrollments, enrollments/assignment",
        ),
        ("litmos", "GET /courses", {"Id": "CourseId"}, "GET /courses", "Litmos sent a Course without an Id"),
    ],
)
def test_a_renamed_element_is_an_unexpected_shape_naming_what_was_expected_and_what_came(
    tmp_path: Path, variant: str, action: str, names: dict[str, str], call: str, expected: str
) -> None:
    root = repository(tmp_path, variant)
    report = doctor(root, faults={"renames": {action: names}})
    found = check(only(report), call)
    assert found.verdict is Verdict.UNEXPECTED and found.status == 200
    assert expected in found.detail and "plan would stop here" in found.meaning
    assert not report.ready


def test_throttling_is_reported_with_the_headers_the_vendor_sent(tmp_path: Path) -> None:
    root = repository(tmp_path, "rest")
    # the first call (the token) passes; the second of every two is refused with 429 and Retry-After
    report = doctor(root, faults={"burst": {"every": 2, "length": 1, "status": 429, "retry_after": 7}})
    diagnosis = only(report)
    departments = check(diagnosis, "GET /departments")
    assert departments.verdict is Verdict.REFUSED and departments.status == 429
    assert "rate limit" in departments.meaning and ("retry-after", "7") in departments.rate_limit
    assert diagnosis.rate_limit.throttled >= 1 and ("retry-after", "7") in diagnosis.rate_limit.headers


def test_an_address_where_nothing_listens_is_unreachable(tmp_path: Path) -> None:
    root = repository(tmp_path, "rest")
    config = root / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    sandbox: sandbox.yaml",
            "    url: http://127.0.0.1:9\n    client_id_env: DA_ID\n    client_secret_env: DA_SECRET",
        )
    )
    waits: list[float] = []  # the connection is retried; its back-offs are noted, not waited out
    build = partial(build_provider, sleep=waits.append)
    report = run_doctor(root, {"DA_ID": "id", "DA_SECRET": "secret"}, build=build)
    token = check(only(report), "POST /api/v3/token")
    assert token.verdict is Verdict.UNREACHABLE and token.status is None
    assert "cannot connect" in token.detail and "nothing listens" in token.meaning
    assert not report.ready


def test_a_server_echoing_the_key_never_gets_it_into_the_report_or_the_recording(tmp_path: Path) -> None:
    key = "litmos-key-echoed-back-1234"

    def echo(handler: http.server.BaseHTTPRequestHandler) -> None:
        body = json.dumps({"Detail": f"the apikey {handler.headers.get('apikey')} is not valid"}).encode()
        handler.send_response(403)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    root = repository(tmp_path, "litmos")
    config = root / "enrollctl.yaml"
    with hostile_server(echo) as url:
        config.write_text(
            config.read_text().replace(
                "    sandbox: sandbox.yaml", f"    url: {url}/v1.svc\n    api_key_env: LK"
            )
        )
        report = run_doctor(root, {"LK": key}, record_to=tmp_path / "recorded")
    users = check(only(report), "GET /users")
    assert users.verdict is Verdict.REFUSED and users.detail == "the apikey *** is not valid"
    recorded = "".join(f.read_text(encoding="utf-8") for f in (tmp_path / "recorded").rglob("*.json"))
    assert "the apikey *** is not valid" in recorded
    assert (
        key not in recorded
        and key not in render_doctor_json(report)
        and key not in render_doctor_text(report)
    )


# --- the recording --------------------------------------------------------------------------------------


def _personal_values(root: Path, provider: str) -> set[str]:
    store = open_store(root, provider)
    try:
        users = store.users()
    finally:
        store.close()
    values = {v for u in users for v in (u.login, u.email, u.first_name, u.last_name) if v}
    assert len(values) > 40  # the org's people, not an empty list
    return values


@pytest.mark.parametrize("variant", ["rest", "soap", "litmos"])
def test_the_recording_holds_no_secret_and_no_personal_value(tmp_path: Path, variant: str) -> None:
    root = repository(tmp_path, variant)
    provider = "academy" if variant == "litmos" else "lms"
    record = tmp_path / "recorded"
    report = doctor(root, record_to=record)
    files = sorted(record.glob(f"{provider}/*.json"))
    assert report.recorded == len(files) > 5
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    secrets = [
        v
        for k, v in SANDBOX_CREDENTIALS[variant if variant == "litmos" else "ispring"].items()
        if k != "source"
    ]
    assert not [s for s in secrets if s in text]
    people = _personal_values(root, provider)
    leaked = [p for p in people if re.search(rf"(?<![\w.@-]){re.escape(p)}(?![\w@-])", text)]
    assert not leaked
    assert "@example.invalid" in text  # replaced, not dropped: the records keep their shape
    for header in re.findall(r'"(?:authorization|apikey): ([^"]*)"', text):
        assert header == "***"
    assert not re.search(r'access_token\\": \\"(?!\*\*\*)', text)


def test_placeholders_are_stable_and_catch_escaped_forms() -> None:
    people = Pseudonyms()
    body = b'{"userProfiles": [{"fields": {"login": "jos\\u00e9@acme.example", "first_name": "Jos\\u00e9"}}]}'
    litmos = b'[{"Id": "u", "UserName": "mary", "FullName": "Mary Ann O\'Brien", "PhoneWork": "+44 20 7946"}]'
    people.collect(
        Exchange("GET", "http://x/users?logins[]=jos%C3%A9%40acme.example", (), b"", 200, (), body)
    )
    people.collect(Exchange("GET", "http://x/users", (), b"", 200, (), litmos))
    query = " http://x/users?logins[]=jos%C3%A9%40acme.example"
    text = people.replace(body.decode() + query + " " + litmos.decode() + " Josephine maryland")
    assert (
        "acme.example" not in text
        and "Jos\\u00e9" not in text
        and "O'Brien" not in text
        and "7946" not in text
    )
    assert text.count("person1@example.invalid") == 2  # the body and the query: one placeholder for one value
    assert text.endswith(" Josephine maryland")  # whole values only, never inside other words
