"""Litmos error answers as recorded (vendor-docs/litmos-recorded): `{"Detail": …}` JSON and `text/html` 500
pages, served by the emulator and read by the provider over real HTTP.

A user sees the server's `Detail` (redacted), or for an HTML page a short excerpt of its text naming the
call and status, never the markup. A read answered 500 is read again under the client's read-retry policy
(the request's own attempts, then `read_parsed`'s rounds); a write is never sent twice.
"""

from __future__ import annotations

import pytest

from reconciler.core.plan import OutcomeStatus
from reconciler.errors import AuthError, ProviderError
from reconciler.providers.base import Credentials
from reconciler.providers.litmos.body import USERS
from reconciler.providers.litmos.profiles import _profile
from reconciler.providers.litmos.provider import create
from reconciler.sandbox.faults import Faults
from reconciler.transport.http import MALFORMED_READ_ATTEMPTS, RetryPolicy
from tests.support.litmos_provider import KEY, Sandbox, add, by_login, by_title, sandbox

UNLIMITED = 1_000_000  # requests a minute: the emulator's own limit stays out of these tests


def html_errors(rates: dict[str, float], seed: int = 0) -> Sandbox:
    """The emulator answering 500 with a `text/html` page at `rates` (switches error_rates, html_errors)."""
    faults = Faults(seed=seed, rate_limit_per_minute=UNLIMITED, error_rates=rates, html_errors=True)
    return sandbox(faults=faults)


def served(box: Sandbox, method: str, path: str) -> list[int]:
    """Statuses the emulator logged for calls to `path` (below /v1.svc)."""
    return [e.status for e in box.store.request_log("litmos") if (e.method, e.path) == (method, path)]


def assert_no_markup(text: str) -> None:
    for raw in ("<html", "<HEAD", "<P", "xmlns", "Padding", "xxxxxxxx"):
        assert raw not in text, f"{raw!r} of the raw page leaked into: {text}"


def test_a_json_error_shows_its_detail_not_the_body() -> None:
    box = sandbox()
    with pytest.raises(ProviderError) as caught:
        box.provider.api.pages("/teams/NOPE/users", call="GET /teams/{id}/users", shape=USERS)
    error = caught.value
    assert (error.status, error.call, error.message) == (404, "GET /teams/{id}/users", "Team not found: NOPE")
    assert str(error) == "academy GET /teams/{id}/users: Team not found: NOPE (HTTP 404)"


def test_a_json_error_detail_is_redacted() -> None:
    box = sandbox()
    # the emulator echoes the unknown user key in its Detail: here, the API key itself
    with pytest.raises(ProviderError) as caught:
        box.provider.api.pages(f"/users/{KEY}/courses", call="GET /users/{id}/courses")
    assert caught.value.message == "User not found: ***" and KEY not in str(caught.value)


def test_a_refused_key_shows_the_detail() -> None:
    box = sandbox()
    client = box.provider.api.vendor.client
    wrong = create(box.provider.config, client, Credentials(api_key="not-the-key"), sleep=lambda _: None)
    with pytest.raises(AuthError) as caught:
        wrong.read_directory()
    assert caught.value.status == 403
    assert caught.value.message == "Litmos refused the API key or source: Forbidden: the apikey is not valid"


def test_an_html_500_on_a_read_is_retried_then_named_with_a_short_clean_excerpt() -> None:
    box = html_errors({"GET /teams": 1.0})
    with pytest.raises(ProviderError) as caught:
        box.directory()
    error = caught.value
    assert (error.status, error.call, error.retryable) == (500, "GET /teams", True)
    assert error.message == (
        "server error: an HTML page (text/html): 500 Internal Server Error Internal Server Error "
        "The server encountered an internal error."
    )
    assert len(error.message) < 260
    assert_no_markup(str(error))
    # the read-retry policy: the request's own attempts, in each of read_parsed's rounds
    expected = RetryPolicy().attempts * MALFORMED_READ_ATTEMPTS
    assert served(box, "GET", "/v1.svc/teams") == [500] * expected


def test_an_occasional_html_500_on_reads_is_read_again_and_the_directory_is_whole() -> None:
    clean = sandbox().directory()
    box = html_errors({"GET /*": 0.3}, seed=4)
    assert box.directory() == clean
    statuses = [e.status for e in box.store.request_log("litmos")]
    assert statuses.count(500) >= 3 and statuses[-1] == 200


def test_an_html_500_on_a_write_is_unknown_and_never_sent_again() -> None:
    directory = sandbox().directory()
    helen, course = by_login(directory)["helen@acme.example"], by_title(directory)["Security Awareness 2026"]
    box = html_errors({"POST /users/*/courses": 1.0})
    [batch] = box.provider.batches([add(helen, course)])
    [outcome] = box.provider.write(batch)
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.detail.startswith("server error after sending a write: an HTML page (text/html): 500 Int")
    assert_no_markup(outcome.detail)
    assert served(box, "POST", f"/v1.svc/users/{helen}/courses") == [500]


def test_a_profile_read_error_shows_its_detail_not_the_body() -> None:
    box = sandbox()
    with pytest.raises(ProviderError) as caught:
        _profile(box.provider.api, "NOPE")
    assert (caught.value.status, caught.value.message) == (404, "User not found: NOPE")
