"""A list that never ends (fresh rows or fresh page tokens on every page) stops at MAX_LIST_PAGES with an
error naming the call, instead of reading forever (issue 17, item 2)."""

from __future__ import annotations

import http.server
import itertools
import json
import re
from pathlib import Path

import pytest

from reconciler.transport import bounds
from tests.support.bad import enrollctl, url_repository
from tests.support.hostile import hostile_server, send

PAGES = 3
_counter = itertools.count()


def _fresh_litmos_rows(handler: http.server.BaseHTTPRequestHandler) -> None:
    # every page a full page of users never seen before: the list looks endless
    rows = [{"Id": f"u{next(_counter)}", "UserName": "x", "Active": True} for _ in range(1000)]
    send(handler, 200, json.dumps(rows).encode(), Content_Type="application/json")


def _fresh_ispring_tokens(handler: http.server.BaseHTTPRequestHandler) -> None:
    if handler.path.endswith("/api/v3/token"):
        body = {"access_token": "t", "expires_in": 3600, "token_type": "bearer"}
        send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")
        return
    n = next(_counter)
    body = {"departments": [{"departmentId": f"d{n}", "name": f"D{n}"}], "nextPageToken": f"token-{n}"}
    send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")


@pytest.mark.parametrize(
    ("vendor", "answer"), [("litmos", _fresh_litmos_rows), ("ispring", _fresh_ispring_tokens)]
)
def test_an_endless_list_stops_at_the_page_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vendor: str, answer: object
) -> None:
    monkeypatch.setattr(bounds, "MAX_LIST_PAGES", PAGES)
    with hostile_server(answer) as url:  # type: ignore[arg-type]
        repo = url_repository(vendor, tmp_path / "repo", url)
        result = enrollctl(repo, "plan")
    assert result.exit_code == 1, result.output
    assert re.search(rf"did not end after {PAGES} pages \(limit {PAGES}\)", result.output), result.output
