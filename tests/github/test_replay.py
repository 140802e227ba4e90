"""Replays recorded GitHub API interactions (tests/data/github/*.json) through an httpx.MockTransport.

Each recording is a list of request/response pairs. The replay answers requests strictly in order and fails
the test when a request differs from the recording (method, path, query, JSON body), when one is missing,
or when one is sent that was not recorded. Tokens are never recorded; the replay checks the header instead.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.github.client import GitHub
from tests.support.paths import TESTS

DATA = TESTS / "data" / "github"
TOKEN = "ghs_Z8yXrecordedReplayToken000000000000"  # what the replay expects in `Authorization`


class Replay:
    """An httpx transport that plays one recording back and checks every request against it."""

    def __init__(self, name: str) -> None:
        recording = json.loads((DATA / name).read_text(encoding="utf-8"))
        self.api = httpx.URL(recording["api"])
        self.pending: list[dict[str, Any]] = list(recording["interactions"])
        self.seen: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        assert self.pending, f"unexpected request: {request.method} {request.url}"
        interaction = self.pending.pop(0)
        recorded, answer = interaction["request"], interaction["response"]
        assert request.url.host == self.api.host, f"request left the API host: {request.url}"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert (request.method, request.url.path) == (recorded["method"], recorded["path"])
        assert dict(request.url.params) == recorded["query"]
        body = json.loads(request.content) if request.content else None
        assert body == recorded["json"]
        return httpx.Response(
            answer["status"], headers=answer["headers"], content=json.dumps(answer["json"]).encode()
        )

    def github(self) -> GitHub:
        """A client that talks to this replay."""
        client = httpx.Client(base_url=str(self.api), transport=self.transport)
        return GitHub(client, TOKEN, sleep=lambda _seconds: None)

    def assert_done(self) -> None:
        """Every recorded request was made."""
        assert not self.pending, f"{len(self.pending)} recorded requests were not made"


def test_replay_refuses_a_request_that_differs_from_the_recording() -> None:
    replay = Replay("comment_first_push.json")
    client = httpx.Client(
        base_url=str(replay.api), transport=replay.transport, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with pytest.raises(AssertionError):
        client.get("/repos/acme/training-policies/issues/43/comments", params={"per_page": "100"})


def test_replay_notices_a_missing_request() -> None:
    replay = Replay("comment_first_push.json")
    with pytest.raises(AssertionError):
        replay.assert_done()
