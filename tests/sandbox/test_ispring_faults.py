"""Every fault switch, seen through the iSpring emulator in-process."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from reconciler.errors import ConfigError
from reconciler.sandbox.faults import Burst, Faults, faults_from_dict, load_faults
from tests.support.ispring_sandbox import CREDS, make_sandbox


def test_faults_load_from_yaml(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text(
        "seed: 3\nlatency_ms: 20\nerror_rates: {GetUsers: 0.5}\nburst: {every: 5, length: 2, status: 429}\n"
    )
    faults = load_faults(str(path))
    assert faults == Faults(seed=3, latency_ms=20, error_rates={"GetUsers": 0.5}, burst=Burst(5, 2, 429))


def test_unknown_or_out_of_range_switches_are_config_errors():
    with pytest.raises(ConfigError, match="unknown fault switches"):
        faults_from_dict({"latency": 3})
    with pytest.raises(ConfigError, match="between 0 and 1"):
        faults_from_dict({"drop_rate": 2})
    with pytest.raises(ConfigError, match="429 or 503"):
        faults_from_dict({"rate_limit_status": 418})


def test_error_rate_applies_to_the_named_method_only():
    sandbox = make_sandbox(faults=Faults(error_rates={"getgroups": 1.0}))
    token = sandbox.token()
    assert sandbox.call("GetGroups", token=token).response.status_code == 500
    assert sandbox.call("GetDepartments", token=token).response.status_code == 200
    assert sandbox.store.request_log()[-2].detail == "fault: Internal Server Error"


def test_error_rate_is_reproducible_with_a_seed():
    def statuses(seed: int) -> list[int]:
        sandbox = make_sandbox(faults=Faults(seed=seed, error_rates={"*": 0.5}))
        return [sandbox.call("GetGroups", token=CREDS["token"]).response.status_code for _ in range(30)]

    assert statuses(7) == statuses(7)
    assert set(statuses(7)) == {500, 200}


def test_bursts_refuse_with_retry_after():
    sandbox = make_sandbox(faults=Faults(burst=Burst(every=4, length=2, status=503, retry_after=7)))
    token = "static"
    responses = [sandbox.call("GetGroups", token=token).response for _ in range(8)]
    assert [r.status_code for r in responses] == [500, 500, 503, 503] * 2  # 500: the unknown token's fault
    assert responses[2].headers["Retry-After"] == "7"


def test_rate_limit_per_client_is_503_by_default_with_retry_after():
    sandbox = make_sandbox(faults=Faults(rate_limit_per_minute=3))
    token = sandbox.token()  # the token request counts too
    codes = [sandbox.call("GetGroups", token=token).response for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 503]
    assert int(codes[-1].headers["Retry-After"]) >= 1


def test_rate_limit_can_answer_429():
    sandbox = make_sandbox(faults=Faults(rate_limit_per_minute=1, rate_limit_status=429))
    token = sandbox.store.get_meta("schema_version") or ""
    sandbox.call("GetGroups", token=token)
    assert sandbox.call("GetGroups", token=token).response.status_code == 429


def test_dropped_connection_is_a_transport_error_in_process():
    sandbox = make_sandbox(faults=Faults(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        sandbox.call("GetGroups", token="t")
    assert sandbox.store.request_log()[-1].detail == "fault: dropped connection"


def test_truncated_body_is_not_well_formed():
    sandbox = make_sandbox(faults=Faults(truncate_rate=1.0))
    reply = sandbox.call("GetGroups", token="t")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(reply.response.content)


def test_latency_and_jitter_sleep_before_answering():
    slept: list[float] = []
    sandbox = make_sandbox(faults=Faults(latency_ms=200, jitter_ms=100), sleep=slept.append)
    sandbox.call("GetGroups", token="t")
    assert len(slept) == 1 and 0.2 <= slept[0] <= 0.3


def test_page_tokens_expire_when_switched_on():
    sandbox = make_sandbox(faults=Faults(page_token_ttl_seconds=60))
    token = sandbox.token()
    first = sandbox.call("ListLearnersResults", "<pageSize>1</pageSize>", token)
    page_token = first.one("nextPageToken")
    assert page_token
    again = f"<pageSize>1</pageSize><pageToken>{page_token}</pageToken>"
    assert sandbox.call("ListLearnersResults", again, token).fault is None
    sandbox.clock.advance(61)
    assert sandbox.call("ListLearnersResults", again, token).fault == "Wrong parameters"


def test_token_lifetime_is_a_switch():
    sandbox = make_sandbox(faults=Faults(token_ttl_seconds=5))
    response = sandbox.http.post(
        "/api/v3/token",
        data={
            "client_id": "sandbox-ispring-client",
            "client_secret": "sandbox-ispring-secret",
            "grant_type": "client_credentials",
        },
    )
    assert response.json()["expires_in"] == 5
    sandbox.clock.advance(6)
    assert sandbox.call("GetGroups", token=response.json()["access_token"]).fault == "Authorization failed"


def test_every_call_is_in_the_request_log():
    sandbox = make_sandbox(faults=Faults(burst=Burst(every=2, length=1)))
    for _ in range(4):
        sandbox.call("GetGroups", token="t")
    assert [e.status for e in sandbox.store.request_log()] == [500, 503, 500, 503]
    assert sandbox.store.request_summary() == [
        ("ispring", "GetGroups", 500, 2),
        ("ispring", "GetGroups", 503, 2),
    ]
