"""The run's waits (retry back-offs, Retry-After, rate limits) go through the sleep a caller injects into
`main` (click's `obj`, a `Runtime`): the provider builder and the GitHub client get it, nothing is patched."""

from __future__ import annotations

import http.server
from pathlib import Path

from reconciler.cli.app import Runtime
from tests.support.bad import enrollctl, url_repository
from tests.support.hostile import hostile_server, send


def _throttled(handler: http.server.BaseHTTPRequestHandler) -> None:
    send(handler, 503, b"busy", Retry_After="7")


def test_vendor_retries_wait_with_the_injected_sleep(tmp_path: Path) -> None:
    waits: list[float] = []
    for vendor in ("ispring", "litmos"):
        with hostile_server(_throttled) as url:
            repo = url_repository(vendor, tmp_path / vendor, url)
            result = enrollctl(repo, "plan", runtime=Runtime(sleep=waits.append))
        assert result.exit_code == 1 and "still throttled after 4 attempts" in result.output, result.output
        assert waits == [7.0, 7.0, 7.0], vendor  # the Retry-After, before each of the 3 retries
        waits.clear()


def test_github_retries_wait_with_the_injected_sleep(tmp_path: Path) -> None:
    waits: list[float] = []
    body = tmp_path / "body.md"
    body.write_text("plan\n", encoding="utf-8")
    with hostile_server(_throttled) as url:
        env = {"GITHUB_TOKEN": "t0ken", "GITHUB_API_URL": url}
        args = ("github", "comment", "--repo", "acme/training", "--pr", "1", "--body-file", str(body))
        result = enrollctl(None, *args, env=env, runtime=Runtime(sleep=waits.append))
    assert result.exit_code == 1, result.output
    assert waits == [7.0, 7.0]  # GitHub calls try 3 times
