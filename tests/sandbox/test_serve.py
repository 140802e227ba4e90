"""Serving the emulators over real HTTP on loopback, and opening sandboxes from organisation files."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.errors import ConfigError
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app, open_sandbox, serve
from tests.support.ispring_sandbox import CREDS, NS, SMALL_ORG

GET_GROUPS = (
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns="{ns}">'
    "<SOAP-ENV:Body>"
    "<GetGroupsRequest><credentials><token>{token}</token></credentials></GetGroupsRequest>"
    "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


@pytest.fixture
def org_file(tmp_path):
    path = tmp_path / "sandbox.yaml"
    path.write_text(SMALL_ORG)
    return str(path)


def test_served_ispring_answers_on_a_free_loopback_port_and_stops_quickly(org_file):
    store = open_sandbox(org_file, None)
    server, url = serve(build_app("ispring", store))
    try:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        body = GET_GROUPS.format(ns=NS, token=CREDS["token"])
        response = httpx.post(
            f"{url}/api/v2/soap/2.0", content=body, headers={"SOAPAction": "GetGroups"}, timeout=5
        )
        assert response.status_code == 200 and "New hires" in response.text
    finally:
        started = time.monotonic()
        server.close()
        assert time.monotonic() - started < 2.0
    assert not server.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/api/v2/soap/2.0", content=b"", timeout=1)


def test_served_litmos_answers(org_file):
    store = open_sandbox(org_file, None)
    server, url = serve(build_app("litmos", store))
    try:
        creds = SANDBOX_CREDENTIALS["litmos"]
        response = httpx.get(
            f"{url}/v1.svc/users",
            params={"source": creds["source"], "format": "json", "limit": 10},
            headers={"apikey": creds["api_key"]},
            timeout=5,
        )
        assert response.status_code == 200
        assert "helen@acme.example" in response.text
    finally:
        server.close()


def test_dropped_connection_closes_the_socket_without_an_answer(org_file):
    store = open_sandbox(org_file, None)
    server, url = serve(build_app("ispring", store, Faults(drop_rate=1.0)))
    try:
        with pytest.raises(httpx.TransportError):
            httpx.post(
                f"{url}/api/v2/soap/2.0", content=b"<x/>", headers={"SOAPAction": "GetGroups"}, timeout=5
            )
    finally:
        server.close()


def test_truncated_body_over_http_is_incomplete(org_file):
    store = open_sandbox(org_file, None)
    server, url = serve(build_app("ispring", store, Faults(truncate_rate=1.0)))
    try:
        body = GET_GROUPS.format(ns=NS, token=CREDS["token"])
        with pytest.raises(httpx.TransportError):  # fewer bytes than Content-Length, then the socket closes
            httpx.post(f"{url}/api/v2/soap/2.0", content=body, headers={"SOAPAction": "GetGroups"}, timeout=5)
    finally:
        server.close()


def test_sandbox_state_persists_in_its_database_file(org_file, tmp_path):
    db = str(tmp_path / "state" / "sandbox.db")
    first = open_sandbox(org_file, db)
    row = first.find_enrollment(
        first.get_user("helen@acme.example", by="login").uuid,  # type: ignore[union-attr]
        first.get_item("Anti-Bribery", by="title").uuid,  # type: ignore[union-attr]
    )
    assert row is not None
    first.delete_enrollment(row.uuid)
    first.close()
    again = open_sandbox(org_file, db)  # reused as it is, not seeded twice
    assert again.get_enrollment(row.uuid) is None
    assert again.count_users() == 6


def test_unknown_vendor_is_a_config_error(org_file):
    with pytest.raises(ConfigError):
        build_app("moodle", open_sandbox(org_file, None))


# --- the `enrollctl sandbox` commands ----------------------------------------------------------------------


def test_cli_generate_prints_a_loadable_deterministic_org():
    from click.testing import CliRunner

    from reconciler.cli.app import main
    from reconciler.sandbox.org.load import generate_org, parse_org

    result = CliRunner().invoke(
        main, ["sandbox", "generate", "--users", "20", "--departments", "4", "--seed", "9"]
    )
    assert result.exit_code == 0, result.output
    assert parse_org(result.output) == generate_org(20, 4, 5, 20, 3, 4, 9)


def test_cli_generate_block_is_expanded_on_load():
    from click.testing import CliRunner

    from reconciler.cli.app import main
    from reconciler.sandbox.org.load import expand_org, generate_org, parse_org

    result = CliRunner().invoke(main, ["sandbox", "generate", "--users", "20", "--seed", "9", "--block"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("generate:")
    assert expand_org(parse_org(result.output)).users == generate_org(20, 10, 5, 20, 3, 4, 9).users


def test_cli_serve_prints_url_and_credentials_and_stops_on_interrupt(org_file, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from reconciler.cli import sandbox as sandbox_cli
    from reconciler.cli.app import main
    from reconciler.sandbox import serve as serve_module

    urls: list[str] = []
    answers: list[int] = []

    def serve_and_remember(*args, **kwargs):
        server, url = serve(*args, **kwargs)
        urls.append(url)
        return server, url

    def one_request_then_ctrl_c() -> None:  # what the real wait returns after catching Ctrl-C
        answers.append(httpx.post(f"{urls[0]}/api/v3/token", data={}, timeout=5).status_code)

    monkeypatch.setattr(serve_module, "serve", serve_and_remember)  # the command imports it when run
    monkeypatch.setattr(sandbox_cli, "wait_for_interrupt", one_request_then_ctrl_c)
    runner = CliRunner()
    db = str(tmp_path / "served.db")
    result = runner.invoke(main, ["sandbox", "serve", "--vendor", "ispring", "--org", org_file, "--db", db])
    assert result.exit_code == 0, result.output
    assert answers == [400]  # the server answered (a token request without a grant type)
    assert f"at {urls[0]}" in result.output and CREDS["client_secret"] in result.output
    assert result.output.splitlines()[-1] == "stopped"

    log = runner.invoke(main, ["sandbox", "log", "--db", db])
    assert log.exit_code == 0
    assert log.output.split()[:4] == ["ispring", "token", "1", "400×1"]


def test_log_summary_lines():
    from reconciler.cli.sandbox import summary_lines

    lines = summary_lines([("ispring", "GetUsers", 200, 3), ("ispring", "GetUsers", 500, 1)])
    assert lines[0].split() == ["ispring", "GetUsers", "4", "200×3", "500×1"]
    assert lines[-1].split() == ["total", "4"]
    assert summary_lines([]) == ["no calls recorded"]


def test_concurrent_clients_are_served_consistently(org_file):
    from concurrent.futures import ThreadPoolExecutor

    from reconciler.sandbox.org.load import item_uuid, user_uuid

    store = open_sandbox(org_file, None)
    server, url = serve(build_app("ispring", store))
    logins = ["helen", "kevin", "paul", "olga", "ed", "ina"]
    courses = ["Security Awareness", "Anti-Bribery", "Forklift Safety"]

    def enroll(job: tuple[str, str]) -> int:
        login, course = job
        params = (
            f"<courseIds><id>{item_uuid(course)}</id></courseIds>"
            f"<learnerIds><id>{user_uuid(login + '@acme.example')}</id></learnerIds>"
            "<dueDateType>unlimited</dueDateType>"
        )
        body = GET_GROUPS.format(ns=NS, token=CREDS["token"]).replace(
            "GetGroupsRequest", "EnrollLearnersInCoursesRequest"
        )
        body = body.replace("</credentials>", "</credentials>" + params)
        headers = {"SOAPAction": "EnrollLearnersInCourses"}
        return httpx.post(f"{url}/api/v2/soap/2.0", content=body, headers=headers, timeout=10).status_code

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(enroll, [(login, course) for login in logins for course in courses]))
    finally:
        server.close()
    assert statuses == [200] * 18
    assert store.count_enrollments() == 19  # all 18 pairs exactly once, plus Paul's learning path
    assert len(store.request_log("ispring")) == 18


def test_the_cli_offers_every_vendor_the_sandbox_emulates() -> None:
    from reconciler.cli import sandbox as sandbox_cli
    from reconciler.sandbox.serve import VENDORS

    assert sandbox_cli.VENDORS == VENDORS
