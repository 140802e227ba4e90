"""A fake GitHub REST API, served over real HTTP, for the workflow steps that talk to GitHub.

It keeps issue comments and collaborator permissions in memory and answers the calls `enrollctl github`
makes the way docs.github.com describes them: comments paginated with `Link: rel="next"`, new comments
authored by the workflow's bot, `GET .../collaborators/{user}/permission` answering `admin`, `write` or
`read` (maintain reported as `write`), and 404 for someone who is not a collaborator. Requests without the
expected token get 401. Every request is recorded for assertions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from reconciler.sandbox.serve import serve

TOKEN = "ghs_fakeWorkflowToken0000000000000000000"  # a test value
REPO = "acme/training-policies"
BOT = "github-actions[bot]"

Start = Callable[[str, list[tuple[str, str]]], object]


@dataclass
class FakeGitHub:
    """In-memory repository state: comments per issue number, and each user's permission."""

    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin | write | read
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    per_page: int = 100
    url: str = ""
    _next_id: int = 1000

    def comment(self, number: int, login: str, body: str, *, bot: bool = False) -> dict[str, Any]:
        """Post a comment as `login` (what a person or a bot does in the web interface)."""
        self._next_id += 1
        made = {
            "id": self._next_id,
            "body": body,
            "user": {"login": login, "type": "Bot" if bot else "User"},
            "html_url": f"https://github.com/{REPO}/pull/{number}#issuecomment-{self._next_id}",
        }
        self.comments.setdefault(number, []).append(made)
        return made

    def bodies(self, number: int) -> list[str]:
        return [str(c["body"]) for c in self.comments.get(number, [])]

    # --- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        method, path = str(environ["REQUEST_METHOD"]), str(environ.get("PATH_INFO", ""))
        self.requests.append((method, path))
        if environ.get("HTTP_AUTHORIZATION") != f"Bearer {TOKEN}":
            return _answer(start, 401, {"message": "Bad credentials"})
        query = {k: v[0] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length)) if length else None
        prefix = f"/repos/{REPO}"
        if not path.startswith(prefix):
            return _answer(start, 404, {"message": "Not Found"})
        rest = path[len(prefix) :]
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            if method == "GET":
                return self._list(start, int(m.group(1)), int(query.get("page", "1")), path)
            if method == "POST" and isinstance(body, dict):
                return _answer(start, 201, self.comment(int(m.group(1)), BOT, str(body["body"]), bot=True))
        if (m := re.fullmatch(r"/issues/comments/(\d+)", rest)) and method == "PATCH":
            for found in (c for cs in self.comments.values() for c in cs if c["id"] == int(m.group(1))):
                found["body"] = str(body["body"]) if isinstance(body, dict) else ""
                return _answer(start, 200, found)
        if (m := re.fullmatch(r"/collaborators/([^/]+)/permission", rest)) and method == "GET":
            login = m.group(1).replace("%5B", "[").replace("%5D", "]")
            if login not in self.permissions:
                return _answer(start, 404, {"message": f"{login} is not a user"})
            permission = self.permissions[login]
            role = permission  # the full role name; `permission` is the legacy base role
            legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
            return _answer(start, 200, {"permission": legacy, "role_name": role, "user": {"login": login}})
        return _answer(start, 404, {"message": "Not Found"})

    def _list(self, start: Start, number: int, page: int, path: str) -> Iterable[bytes]:
        items = self.comments.get(number, [])
        chunk = items[(page - 1) * self.per_page : page * self.per_page]
        headers = []
        if page * self.per_page < len(items):
            headers.append(
                ("Link", f'<{self.url}{path}?per_page={self.per_page}&page={page + 1}>; rel="next"')
            )
        return _answer(start, 200, chunk, headers)


def _answer(
    start: Start, status: int, data: object, headers: list[tuple[str, str]] | None = None
) -> list[bytes]:
    body = json.dumps(data).encode()
    reason = {200: "OK", 201: "Created", 401: "Unauthorized", 404: "Not Found"}[status]
    start(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *(headers or [])],
    )
    return [body]


@contextmanager
def fake_github(**permissions: str) -> Iterator[FakeGitHub]:
    """A running fake GitHub whose users have these permissions (`login=permission`)."""
    fake = FakeGitHub(permissions=dict(permissions))
    server, url = serve(fake, poll_interval=0.01)  # type: ignore[arg-type]
    fake.url = url
    try:
        yield fake
    finally:
        server.close()


def github_env(fake: FakeGitHub) -> dict[str, str]:
    """What a workflow step gives `enrollctl github ...`: the token and the API's address."""
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.url}
