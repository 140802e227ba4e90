"""SOAP by the book: SOAP 1.1's envelope namespace is sent and accepted, the pages' https spelling is
accepted, and any other envelope namespace gets a `VersionMismatch` fault, as from a SOAP 1.1 server."""

from __future__ import annotations

import httpx
import pytest

from reconciler.core.model import ProviderConfig, ProviderKind
from reconciler.errors import ProviderError
from reconciler.providers.base import Credentials
from reconciler.providers.ispring import provider as ispring
from tests.support.ispring_sandbox import CREDS, ENV_DOCS, ENV_STD, make_sandbox


@pytest.mark.parametrize("envelope", [ENV_STD, ENV_DOCS], ids=["standard", "vendor-pages-https"])
def test_both_spellings_of_the_soap_1_1_envelope_are_answered(envelope: str) -> None:
    reply = make_sandbox().call("GetGroups", envelope=envelope)
    assert reply.response.status_code == 200 and reply.fault is None
    assert reply.root.nsmap["SOAP-ENV"] == envelope  # answered in the namespace asked in


@pytest.mark.parametrize(
    "envelope",
    ["http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope", "urn:nonsense"],
    ids=["soap-1.2", "no-trailing-slash", "other"],
)
def test_any_other_envelope_namespace_is_a_version_mismatch_fault(envelope: str) -> None:
    reply = make_sandbox().call("GetGroups", envelope=envelope)
    assert reply.response.status_code == 500
    assert reply.one("faultcode") == "SOAP-ENV:VersionMismatch"
    assert reply.root.nsmap["SOAP-ENV"] == ENV_STD  # the fault itself is a SOAP 1.1 envelope


def test_the_provider_sends_the_standard_envelope_and_the_documented_payload_namespace() -> None:
    sandbox = make_sandbox()
    sent: list[bytes] = []

    def record(request: httpx.Request) -> None:
        sent.append(request.read())

    client = httpx.Client(
        transport=sandbox.http._transport,
        base_url=str(sandbox.http.base_url),
        event_hooks={"request": [record]},
    )
    config = ProviderConfig("lms", ProviderKind.ISPRING, api="soap")
    p = ispring.create(
        config, client, Credentials(client_id=CREDS["client_id"], client_secret=CREDS["client_secret"])
    )
    assert p.read_directory().groups
    envelopes = [body for body in sent if b"Envelope" in body]
    assert envelopes and all(
        b'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"' in b for b in envelopes
    )
    assert all(b'xmlns="https://ispringlearn.com/go/services/api/soap"' in b for b in envelopes)


def test_a_version_mismatch_fault_is_a_provider_error_naming_the_call() -> None:
    from reconciler.providers.ispring import soap

    sandbox = make_sandbox()
    original = soap.ENVELOPE_NS
    soap.ENVELOPE_NS = "http://www.w3.org/2003/05/soap-envelope"
    try:
        config = ProviderConfig("lms", ProviderKind.ISPRING, api="soap")
        creds = Credentials(client_id=CREDS["client_id"], client_secret=CREDS["client_secret"])
        with pytest.raises(ProviderError) as caught:
            ispring.create(config, sandbox.http, creds).read_directory()
    finally:
        soap.ENVELOPE_NS = original
    assert caught.value.call == "GetDepartments" and "Version Mismatch" in str(caught.value)
