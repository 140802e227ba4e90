"""Nothing a server sends back leaks a secret or a terminal escape sequence into enrollctl's output, in any
encoding, with --debug and -vv too (docs/SECURITY.md, "What a malicious or broken vendor response can do")."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from reconciler.render.describe import clean
from reconciler.transport.terminal import safe_text
from tests.support.bad import NO_WAIT, enrollctl, url_repository
from tests.support.hostile import hostile_server, send

CLIENT_ID = "canary-client-id"
SECRET = "Cn/ry&k+y é漢😀 x9Q"  # `/`, `&`, `+`, a space and non-ASCII, so every encoding differs
ESCAPES = "\x1b]0;pwned-title\x07\x1b[2J\x1b[31mRED\x9b1m\x9d0;c1-title\x9c"


def _encodings(secret: str) -> list[str]:
    raw = secret.encode()
    blob = base64.b64encode
    return [
        secret,
        quote(secret, safe=""),
        quote(secret, safe="").lower(),
        quote_plus(secret),
        quote(secret),
        blob(raw).decode(),
        blob(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        blob(f"{CLIENT_ID}:{secret}".encode()).decode(),
        *(blob(b"x" * n + raw + b"tail").decode() for n in range(3)),
        json.dumps(secret),
        json.dumps(secret).replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in secret),
        html.escape(secret),
        secret.replace("&", "&#38;"),
        secret.replace("&", "&#x26;"),
    ]


ECHO = " | ".join(f"[{form}]" for form in _encodings(SECRET))


def _fault(string: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        f"<faultcode>s:Server</faultcode><faultstring>{html.escape(string)}</faultstring>"
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


ANSWERS = {
    "json-500": lambda h: send(
        h, 500, json.dumps({"error": ECHO + ESCAPES}).encode(), Content_Type="application/json"
    ),
    "text-401": lambda h: send(h, 401, (ECHO + ESCAPES).encode(), Content_Type="text/plain"),
    "soap-fault": lambda h: send(h, 500, _fault(ESCAPES + ECHO)),
    "redirect": lambda h: send(h, 302, b"", Location=f"https://x.example/?q={quote(SECRET)}{quote(ESCAPES)}"),
}


def _leaks(output: str) -> list[str]:
    found = [form for form in _encodings(SECRET) if form in output]
    found += [c for c in ("\x1b", "\x07", "\x9b", "\x9d", "\x9c") if c in output]
    return found


@pytest.mark.parametrize("flags", [["--debug"], ["-vv"], ["--debug", "-vv"]])
@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_secret_and_escapes_echoed_by_the_server_never_reach_the_output(
    tmp_path: Path, answer: str, flags: list[str]
) -> None:
    with hostile_server(ANSWERS[answer]) as url:
        repo = url_repository("ispring", tmp_path / "repo", url)
        env = {"ISPRING_CLIENT_ID": CLIENT_ID, "ISPRING_CLIENT_SECRET": SECRET}
        # every hostile answer is a server error retried with backoff; what is said is the point, not timing
        result = enrollctl(repo, *flags, "plan", env=env, runtime=NO_WAIT)
    assert result.exit_code == 1, result.output
    assert _leaks(result.output) == [], result.output[-3000:]


def test_a_huge_fault_string_is_cut_to_its_excerpt(tmp_path: Path) -> None:
    huge = _fault("x" * 10_000_000)
    with hostile_server(lambda h: send(h, 500, huge)) as url:
        repo = url_repository("ispring", tmp_path / "repo", url)
        env = {"ISPRING_CLIENT_ID": CLIENT_ID, "ISPRING_CLIENT_SECRET": SECRET}
        result = enrollctl(repo, "plan", env=env, runtime=NO_WAIT)
    assert result.exit_code == 1
    assert "x" * 201 not in result.output and "cut at 200 characters" in result.output
    assert len(result.output) < 5000


def test_plan_text_fields_and_the_shared_sanitiser_drop_osc_csi_and_c1() -> None:
    for shown in (clean(f"Course {ESCAPES}"), safe_text(f"Course {ESCAPES}\nnext", newlines=True)):
        assert not any(c in shown for c in ("\x1b", "\x07", "\x9b", "\x9d", "\x9c")), shown
    assert safe_text(f"a{ESCAPES}b") == "aREDb"
