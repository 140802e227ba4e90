"""Bounds of the transport against hostile servers on 127.0.0.1: answer size, request and run deadlines,
Retry-After, redirects, and plain http to other hosts (docs/RELIABILITY.md, "Bounds")."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.errors import ConfigError, ProviderError, RateLimited
from reconciler.transport.bounds import MAX_RESPONSE_BYTES, set_run_timeout
from reconciler.transport.http import VendorClient, WriteOutcomeUnknown, make_client
from tests.support.bad import NO_WAIT, enrollctl, url_repository
from tests.support.hostile import hostile_server, send
from tests.support.paths import ROOT

MB = 1024 * 1024

# runs in a fresh interpreter so its memory high-water mark is its own
_MEASURE = r"""
import gzip, json, struct, sys, threading, time, zlib
sys.path.insert(0, "ROOT")
from tests.support.hostile import hostile_server
import httpx
from reconciler.errors import ProviderError
from reconciler.transport.http import VendorClient

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

def bomb():
    # 400 MiB of zeros, gzipped (~400 kB); after a full flush the compressor starts afresh, so every 16 MiB
    # block after the first compresses to the same bytes: compress two, repeat the second (0.3 s, not 1.2 s;
    # as dense as one stream, so a 64 KiB read decodes to ~67 MB as before)
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(16 * 1024 * 1024)
    first = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    assert z.compress(block) + z.flush(zlib.Z_FULL_FLUSH) == again
    crc = 0
    for _ in range(25):
        crc = zlib.crc32(block, crc)
    return first + again * 24 + z.flush()[:-8] + struct.pack("<II", crc, 400 * 1024 * 1024)

KIND = sys.argv[1]
BOMB = bomb() if KIND == "gzip-bomb" else b""

def answer(h):
    h.send_response(200)
    if KIND == "endless":
        h.send_header("Content-Type", "text/xml"); h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"<a>" + b"x" * 65536 + b"</a>"
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        while True:
            h.wfile.write(frame)
    elif KIND == "gzip-bomb":
        h.send_header("Content-Type", "text/xml"); h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(BOMB))); h.end_headers(); h.wfile.write(BOMB)
    else:  # a 240 MB JSON array, sent as it is generated
        h.send_header("Content-Type", "application/json"); h.send_header("Content-Length", str(240 * 2**20))
        h.end_headers()
        row = b'{"Id":"x","Name":"' + b"y" * 1000 + b'"},'
        sent = 0
        while sent < 240 * 2**20:
            h.wfile.write(row); sent += len(row)

with hostile_server(answer) as url:
    client = httpx.Client(base_url=url, timeout=30)
    vendor = VendorClient(client, provider="hostile")
    base = hwm()
    started = time.monotonic()
    try:
        vendor.request("GET", "/x", call="GetUsers", idempotent=True)
        error = ""
    except ProviderError as exc:
        error = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"error": error, "growth": hwm() - base, "seconds": time.monotonic() - started}))
"""


def _measure(kind: str) -> dict[str, object]:
    script = _MEASURE.replace("ROOT", str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script, kind], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"BOUNDS {kind}: {result}")
    return result


@pytest.mark.slow  # benchmark-shaped: measures memory in subprocesses
@pytest.mark.parametrize("kind", ["endless", "gzip-bomb", "large-json"])
def test_oversize_answer_fails_at_the_cap_with_bounded_memory(kind: str) -> None:
    result = _measure(kind)
    # AnswerTooLarge is the ProtocolError a read never retries
    assert str(result["error"]).startswith("AnswerTooLarge: hostile GetUsers: answer larger than the limit")
    assert f"{MAX_RESPONSE_BYTES:,} bytes" in str(result["error"])
    assert int(str(result["growth"])) <= 256 * MB


def _vendor(url: str, **kwargs: object) -> VendorClient:
    sleeps: list[float] = []
    vendor = VendorClient(
        httpx.Client(base_url=url, timeout=30),
        provider="hostile",
        sleep=sleeps.append,
        **kwargs,  # type: ignore[arg-type]
    )
    vendor.sleeps = sleeps  # type: ignore[attr-defined]
    return vendor


def _trickle(handler: object) -> None:
    """One byte every 50 ms: a read never waits long (the client's read timeout is 30 s), but the 1,000
    bytes take 50 s, far beyond each deadline below."""
    h = handler  # type: ignore[assignment]
    h.send_response(200)  # type: ignore[attr-defined]
    h.send_header("Content-Length", "1000")  # type: ignore[attr-defined]
    h.end_headers()  # type: ignore[attr-defined]
    for _ in range(1000):
        h.wfile.write(b"x")  # type: ignore[attr-defined]
        h.wfile.flush()  # type: ignore[attr-defined]
        time.sleep(0.05)


def test_a_trickling_server_fails_at_the_request_deadline() -> None:
    with hostile_server(_trickle) as url:
        vendor = _vendor(url, deadline=0.6)
        started = time.monotonic()
        with pytest.raises(ProviderError, match=r"GetUsers: no complete answer within the 0\.6 s request"):
            vendor.request("GET", "/x", call="GetUsers", idempotent=True)
        elapsed = time.monotonic() - started
    print(f"BOUNDS trickle, 0.6 s deadline: failed after {elapsed:.2f} s")
    assert 0.6 <= elapsed < 1.6


def test_a_trickled_write_is_an_unknown_outcome_not_a_resend() -> None:
    calls = []

    def answer(h: object) -> None:
        calls.append(1)
        _trickle(h)

    with hostile_server(answer) as url:
        vendor = _vendor(url, deadline=0.3)
        with pytest.raises(WriteOutcomeUnknown, match=r"within the 0\.3 s request deadline"):
            vendor.request("POST", "/x", call="Enroll", idempotent=False, content=b"<x/>")
    assert len(calls) == 1


def test_the_run_timeout_bounds_every_call() -> None:
    restore = set_run_timeout(0.5)
    try:
        with hostile_server(_trickle) as url:
            vendor = _vendor(url)
            started = time.monotonic()
            with pytest.raises(ProviderError, match=r"within the run timeout --timeout 0\.5s"):
                vendor.request("GET", "/x", call="GetUsers", idempotent=True)
            assert time.monotonic() - started < 1.5
    finally:
        restore()


def test_retry_after_beyond_the_cap_fails_at_once_saying_what_the_server_asked() -> None:
    with hostile_server(lambda h: send(h, 503, b"busy", Retry_After="290")) as url:
        vendor = _vendor(url)
        started = time.monotonic()
        with pytest.raises(RateLimited, match=r"asked to wait 290 s .*Retry-After: 290.* at most 60 s"):
            vendor.request("GET", "/x", call="GetUsers", idempotent=True)
        assert time.monotonic() - started < 2.0
        assert vendor.sleeps == []  # type: ignore[attr-defined]


def test_a_long_wait_is_announced_before_it_starts(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([(503, "45"), (200, "")])

    def answer(h: object) -> None:
        status, wait = next(answers)
        send(h, status, b"<ok/>", **({"Retry_After": wait} if wait else {}))  # type: ignore[arg-type]

    with hostile_server(answer) as url, caplog.at_level(logging.WARNING, logger="enrollctl.http"):
        vendor = _vendor(url)
        assert vendor.request("GET", "/x", call="GetUsers", idempotent=True).status_code == 200
    assert vendor.sleeps == [45.0]  # type: ignore[attr-defined]
    assert "hostile GetUsers: waiting 45 s before retrying" in caplog.text


def test_a_redirect_is_reported_as_a_redirect_and_not_followed() -> None:
    seen: list[str] = []

    def answer(h: object) -> None:
        seen.append(h.path)  # type: ignore[attr-defined]
        send(h, 301, b"moved", Location="https://elsewhere.example/api")  # type: ignore[arg-type]

    with hostile_server(answer) as url:
        vendor = _vendor(url)
        with pytest.raises(ProviderError, match=r"redirects to https://elsewhere.example/api") as caught:
            vendor.request("GET", "/x", call="GetUsers", idempotent=True)
    assert caught.value.status == 301
    assert "malformed" not in str(caught.value)
    assert seen == ["/x"]


def _no_network(self: object, request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a connection was attempted to {request.url}")


def test_plain_http_to_another_host_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", _no_network)
    with pytest.raises(ConfigError, match=r"refusing plain http:// to 192\.0\.2\.1"):
        make_client("http://192.0.2.1/v1.svc", provider="academy")
    make_client("http://127.0.0.5:1", provider="academy").close()  # loopback is fine
    make_client("http://[::1]:1", provider="academy").close()
    repo = url_repository("litmos", tmp_path / "repo", "http://192.0.2.1/v1.svc")
    for command in (["validate", "--offline"], ["plan"]):
        result = enrollctl(repo, *command)
        assert result.exit_code == 1, result.output
        assert "providers.academy.url: refusing plain http:// to 192.0.2.1" in result.output


def test_insecure_http_opt_in_warns_on_every_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse(self: object, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("not in tests", request=request)  # nothing leaves this machine

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    repo = url_repository("litmos", tmp_path / "repo", "http://192.0.2.1/v1.svc")
    config = repo / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "url: http://192.0.2.1/v1.svc", "url: http://192.0.2.1/v1.svc\n    insecure_http: true"
        )
    )
    assert enrollctl(repo, "validate", "--offline").exit_code == 0
    result = enrollctl(repo, "plan", runtime=NO_WAIT)  # the refused connection is retried without waiting
    assert "plain http:// to 192.0.2.1 (insecure_http: true)" in result.output
