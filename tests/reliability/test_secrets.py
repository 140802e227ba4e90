"""Secret hygiene: no credential, and no access token issued at runtime, ever appears in what enrollctl
writes — stdout, stderr, log records at DEBUG, plan files, journals, anything under the repository — and
none is ever sent in a URL.

Every command runs with `--debug` against emulators served over loopback HTTP that accept recognisable
canary credentials, first on the happy path, then through failures whose answers echo back everything the
client sent (headers, body, query): the refusals a vendor may answer with (401/403 quoting the token, a 500
dump, an HTML page, malformed XML), and wrong credentials.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from reconciler.cli import sandbox as sandbox_cli
from reconciler.core.model import ProviderConfig, ProviderKind
from reconciler.providers.base import Credentials
from reconciler.providers.ispring import provider as ispring_provider
from reconciler.providers.litmos.api import LitmosApi
from reconciler.transport.http import VendorClient
from reconciler.transport.redact import Redactor
from tests.support.bad import (
    CANARY,
    EXAMPLE_OF,
    EXAMPLES,
    ISPRING_ENV,
    ISPRING_TOKEN_ENV,
    LITMOS_ENV,
    NO_WAIT,
    Answer,
    Seen,
    Served,
    copy_example,
    enrollctl,
    served_sandbox,
    url_repository,
)

LOGGERS = ("", "enrollctl", "httpx", "httpcore")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[_Collect]:
    """Every log record of the run at DEBUG, formatted as a handler would write it."""
    handler = _Collect()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    logging.getLogger().addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@dataclass
class Run:
    """Everything one scenario made visible: outputs, and the repository it wrote into."""

    root: Path
    served: Served
    spare_token: tuple[bool, ...]  # the echo rules' variants: with and without a real token first
    outputs: list[str] = field(default_factory=list)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = enrollctl(self.root, "--debug", *args, env=env, runtime=NO_WAIT)
        self.outputs.append(f"$ enrollctl {' '.join(args)}\n{result.output}")
        assert result.exit_code in (0, 1), result.output  # never a usage error from our own command lines
        return result


def _echo(status: int, content_type: str, wrap: str = "{}", *, spare_token: bool = False) -> object:
    """A rule answering every call with `status` and a body quoting what the client sent, secrets first
    (a vendor echoing the key or token it refused), so even a short excerpt of the body holds them."""

    def rule(seen: Seen) -> Answer | None:
        if spare_token and seen.action == "token":
            return None  # a real token is issued, then echoed back by the call that uses it
        sent = seen.body.decode("utf-8", "replace")
        token = re.search(r"<(?:\w+:)?token>([^<]*)<", sent)
        quoted = [
            seen.headers.get("apikey", ""),
            seen.headers.get("authorization", ""),
            token.group(1) if token else "",
            sent[:300],
            f"{seen.method} {seen.path}?{seen.query}",
        ]
        dump = " | ".join(q for q in quoted if q)
        return status, [("Content-Type", content_type)], wrap.format(dump).encode()

    return rule


SOAP_FAULT = (
    '<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
    "<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>client</faultcode>"
    "<faultstring>Invalid credentials in request: {}</faultstring>"
    "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
ECHOES = {
    "401-echo": (401, "text/plain", "{}"),
    "403-echo": (403, "application/json", '{{"Message": "Forbidden for key {}"}}'),
    "500-dump": (500, "text/plain", "Internal error while handling\n{}"),
    "soap-fault-echo": (500, "text/xml", SOAP_FAULT),
    "html-200-echo": (200, "text/html", "<html><body><pre>{}</pre></body></html>"),
    "malformed-xml-echo": (200, "text/xml", "<Users><User><Id>{}"),
    "malformed-json-echo": (200, "application/json", '[{{"Id": "{}'),
}
# Only the client-credentials scenario fetches tokens; in the others no call is a token call, so an echo
# rule that spares token calls is the rule that does not, and running it again repeats the same exchanges.
SPARE_TOKEN = {"ispring-client": (False, True), "ispring-token": (False,), "litmos": (False,)}
SCENARIOS = list(SPARE_TOKEN)


@pytest.fixture(params=SCENARIOS)
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    scenario = str(request.param)
    vendor = scenario.split("-")[0]
    org = EXAMPLES / EXAMPLE_OF[vendor][0] / "sandbox.yaml"
    with served_sandbox(vendor, org, tmp_path / "vendor-side.sqlite") as served:
        root = url_repository(vendor, tmp_path / "repo", served.url, token=scenario == "ispring-token")
        yield Run(root, served, SPARE_TOKEN[scenario])


def _commands(run: Run) -> None:
    """Every command on the happy path, then again through failures."""
    plan = str(run.root / "plan.json")
    run.cli("validate")
    run.cli("validate", "--offline")
    run.cli("plan", "--format", "text")
    run.cli("plan", "--format", "markdown", "--out", str(run.root / "plan.md.json"))
    run.cli("plan", "--format", "json", "--out", plan)
    for fmt in ("text", "markdown", "json"):
        run.cli("show", plan, "--format", fmt)
    run.cli("explain", "helen@acme.example")
    run.cli("explain", "helen@acme.example", "--format", "json")
    assert run.cli("apply", plan).exit_code == 0
    run.cli("apply", plan)  # a re-apply reads the journal
    run.cli("apply", "--auto-approve")
    run.cli("export", "--out", "exported", "--force")
    for name, (status, content_type, wrap) in ECHOES.items():
        for spare_token in run.spare_token:
            echo = _echo(status, content_type, wrap, spare_token=spare_token)
            run.served.recorder.rules[:] = [echo]  # type: ignore[list-item]
            for args in (
                ("validate",),
                ("plan", "--out", str(run.root / f"{name}.json")),
                ("apply", "--auto-approve"),
            ):
                assert run.cli(*args).exit_code == 1, name
    run.served.recorder.rules.clear()
    wrong = {k: f"{v}-wrong" for k, v in {**ISPRING_ENV, **ISPRING_TOKEN_ENV, **LITMOS_ENV}.items()}
    wrong["ISPRING_CLIENT_ID"] = ISPRING_ENV["ISPRING_CLIENT_ID"]
    assert run.cli("plan", env=wrong).exit_code == 1
    assert run.cli("apply", "--auto-approve", env=wrong).exit_code == 1


def _runtime_tokens(served: Served) -> list[str]:
    """The access tokens the iSpring emulator issued to enrollctl during the run."""
    rows = served.store._rows("SELECT token FROM tokens")  # the vendor side's own record
    return [str(token) for (token,) in rows]


def _leaks(haystack: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in haystack]


def test_no_secret_appears_in_any_output_log_or_file_or_url(run: Run, logs: _Collect) -> None:
    _commands(run)
    secrets = [CANARY, *_runtime_tokens(run.served)]
    assert len(run.outputs) > 20
    # sparing token calls changes an echo only where tokens are fetched
    assert any(s.action == "token" for s in run.served.recorder.seen) == (True in run.spare_token)
    assert logs.lines, "the run logged nothing at DEBUG: the log check would prove nothing"
    for texts in (run.outputs, logs.lines):
        # one search per secret; the culprits are named only on failure (an assert's message is lazy)
        assert _leaks("\n".join(texts), secrets) == [], [t for t in texts if _leaks(t, secrets)]
    files = [p for p in run.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files), "no journal was written"
    for path in files:
        content = path.read_bytes().decode("utf-8", "replace")
        assert _leaks(content, secrets) == [], path
    # and nothing secret travelled in a URL, where proxies and servers log it
    seen = run.served.recorder.seen
    for request in seen:
        url = f"{request.path}?{request.query}"
        assert _leaks(url, secrets) == [], url
        assert "apikey" not in request.query.lower(), url
        assert "token" not in request.query.lower(), url


@pytest.mark.parametrize("run", ["litmos"], indirect=True)
def test_the_litmos_key_travels_in_the_apikey_header_of_every_call(run: Run) -> None:
    assert run.cli("plan").exit_code == 0
    assert run.cli("apply", "--auto-approve").exit_code == 0
    seen = run.served.recorder.seen
    assert seen, "no call reached the server"
    assert [r.action for r in seen if not r.headers.get("apikey", "").startswith(CANARY)] == []


def test_the_sandbox_commands_print_no_canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_example("quickstart", tmp_path / "quickstart")
    outputs = [
        enrollctl(root, "--debug", "sandbox", "reset").output,
        enrollctl(root, "--debug", "apply", "--auto-approve").output,
        enrollctl(root, "--debug", "sandbox", "generate", "--users", "3").output,
        enrollctl(None, "sandbox", "log", "--db", str(root / ".enrollctl" / "sandbox-lms.sqlite")).output,
    ]
    monkeypatch.setattr(sandbox_cli, "wait_for_interrupt", lambda: None)
    served = enrollctl(None, "sandbox", "serve", "--vendor", "litmos", "--org", str(root / "sandbox.yaml"))
    assert served.exit_code == 0, served.output
    outputs.append(served.output)
    for text in outputs:
        assert CANARY not in text, text


def test_ispring_request_and_response_bodies_logged_at_debug_are_redacted(
    tmp_path: Path, logs: _Collect
) -> None:
    """With body logging on (a client option), token requests, answers and every call are dumped masked."""
    with served_sandbox(
        "ispring", EXAMPLES / EXAMPLE_OF["ispring"][0] / "sandbox.yaml", tmp_path / "v.sqlite"
    ) as served:
        client = httpx.Client(base_url=served.url, timeout=10)
        try:
            config = ProviderConfig(name="lms", kind=ProviderKind.ISPRING, url=served.url)
            creds = Credentials(
                client_id=ISPRING_ENV["ISPRING_CLIENT_ID"], client_secret=ISPRING_ENV["ISPRING_CLIENT_SECRET"]
            )
            provider = ispring_provider.create(config, client, creds, log_bodies=True)
            assert provider.read_directory().users
        finally:
            client.close()
        tokens = _runtime_tokens(served)
    _assert_bodies_logged_masked(logs, tokens)


def test_litmos_request_and_response_bodies_logged_at_debug_are_redacted(
    tmp_path: Path, logs: _Collect
) -> None:
    """With body logging on, every call and its answer are dumped with the API key masked."""
    with served_sandbox(
        "litmos", EXAMPLES / EXAMPLE_OF["litmos"][0] / "sandbox.yaml", tmp_path / "v.sqlite"
    ) as served:
        client = httpx.Client(base_url=served.url, timeout=10)
        try:
            key = LITMOS_ENV["LITMOS_API_KEY"]
            vendor_client = VendorClient(
                client, provider="academy", redactor=Redactor([key]), log_bodies=True
            )
            assert LitmosApi(vendor_client, api_key=key, source="enrollctl").pages(
                "/users", call="GET /users"
            )
        finally:
            client.close()
        tokens = _runtime_tokens(served)
    _assert_bodies_logged_masked(logs, tokens)


def _assert_bodies_logged_masked(logs: _Collect, tokens: list[str]) -> None:
    assert [line for line in logs.lines if "body" in line], "no body was logged"
    for line in logs.lines:
        assert _leaks(line, [CANARY, *tokens]) == [], line


def test_plan_files_and_journals_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """Plans and journals name learners: personal data, so no other local user may read them."""
    root = copy_example("quickstart", tmp_path / "quickstart")
    plan = root / "plan.json"
    plan.write_text("an older file, readable by everyone\n", encoding="utf-8")
    plan.chmod(0o644)
    assert enrollctl(root, "plan", "--out", str(plan)).exit_code == 0
    assert enrollctl(root, "apply", str(plan)).exit_code == 0
    journals = list((root / ".enrollctl" / "journal").glob("*.jsonl"))
    assert journals
    for path in (plan, *journals):
        assert path.stat().st_mode & 0o077 == 0, f"{path} is {oct(path.stat().st_mode & 0o777)}"


GITHUB_TOKEN = f"{CANARY}-github-token"


@pytest.mark.parametrize(
    ("status", "content_type", "wrap"),
    [
        (401, "application/json", '{{"message": "Bad credentials: {}"}}'),
        (403, "application/json", '{{"message": "Resource not accessible by token {}"}}'),
        (404, "application/json", '{{"message": "Not Found", "echo": "{}"}}'),
        (422, "application/json", '{{"message": "Validation Failed for {}"}}'),
        (500, "text/plain", "Internal error handling {}"),
        (200, "text/html", "<html><body>{}</body></html>"),
    ],
    ids=["401", "403", "404", "422", "500", "html-200"],
)
def test_the_github_token_never_leaks_from_the_github_commands(
    status: int, content_type: str, wrap: str, tmp_path: Path, logs: _Collect
) -> None:
    """`enrollctl github ...` against an API that echoes the `Authorization` header back in every answer."""
    from reconciler.sandbox.serve import serve

    sent: list[str] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        sent.append(f"{environ.get('PATH_INFO')}?{environ.get('QUERY_STRING')}")
        body = wrap.format(authorization).encode()
        start_response(f"{status} X", [("Content-Type", content_type), ("Content-Length", str(len(body)))])  # type: ignore[operator]
        return [body]

    server, url = serve(app)  # type: ignore[arg-type]
    body = tmp_path / "body.md"
    body.write_text("plan body\n", encoding="utf-8")
    env = {"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": url}
    try:
        outputs = [
            enrollctl(None, "--debug", "github", *args, env=env, runtime=NO_WAIT).output
            for args in (
                ["comment", "--repo", "acme/lms", "--pr", "7", "--body-file", str(body)],
                ["drift-issue", "--repo", "acme/lms", "--body-file", str(body), "--state", "open"],
                ["reviewed-plan", "--repo", "acme/lms", "--sha", "0" * 40],
            )
        ]
    finally:
        server.close()
    assert sent, "no request reached the echoing API"
    for text in [*outputs, *logs.lines, *sent]:
        assert CANARY not in text, text
