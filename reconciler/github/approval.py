"""Approving a refused plan in the pull request: a comment `/enrollctl approve <digest>` by a maintainer.

apply-on-merge asks `find_approval` for the plan it is about to apply. An approval counts only when
- a line of a comment on the merged pull request is exactly `/enrollctl approve <digest>`;
- the digest is this plan's approval digest (`planfile.codec.approval_digest`): an approval of an earlier
  push's plan, or of a re-plan whose actions changed, names another digest and is ignored;
- its author has `write` or `admin` permission on the repository, asked of the API at apply time (GitHub
  reports the maintain role as `write`); bots and comments holding an enrollctl marker (our own plan
  comment quotes the command) never count.
Every comment that looks like an approval but does not count is returned with the reason, for the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.github.client import GitHub, Json

COMMAND = re.compile(r"^[ \t]*/enrollctl[ \t]+approve[ \t]+([0-9A-Fa-f]{1,64})[ \t]*$", re.MULTILINE)
APPROVING = frozenset({"admin", "write"})  # write covers the maintain role and write-based custom roles


@dataclass(frozen=True)
class Approval:
    """A comment that approves exactly this plan, by someone allowed to."""

    digest: str
    login: str
    url: str


@dataclass(frozen=True)
class Ignored:
    """An approval comment that does not count, and why."""

    login: str
    digest: str
    url: str
    reason: str


@dataclass(frozen=True)
class Request:
    """One `/enrollctl approve` line in a comment."""

    login: str
    digest: str
    url: str
    bot: bool


def requests(comments: Iterable[Json]) -> list[Request]:
    """Every approval line in `comments`, oldest first; comments holding an enrollctl marker are ours."""
    found: list[Request] = []
    for comment in comments:
        body = str(comment.get("body") or "")
        if "<!-- enrollctl-" in body:
            continue
        user = comment.get("user") if isinstance(comment.get("user"), dict) else {}
        login = str(user.get("login", "")) if isinstance(user, dict) else ""
        bot = isinstance(user, dict) and user.get("type") == "Bot"
        url = str(comment.get("html_url", ""))
        found.extend(Request(login, m.group(1).lower(), url, bot) for m in COMMAND.finditer(body))
    return found


def find_approval(
    github: GitHub, repo: str, number: int, digest: str
) -> tuple[Approval | None, list[Ignored]]:
    """The first approval of exactly `digest` on pull request `number` by a maintainer; what was ignored."""
    permissions: dict[str, str] = {}
    ignored: list[Ignored] = []
    for request in requests(github.comments(repo, number, scope="`pull-requests: read`")):
        if request.digest != digest:
            reason = f"approves another plan ({request.digest}), not this one ({digest})"
        elif request.bot or not request.login:
            reason = "posted by a bot: only people with write, maintain or admin permission approve"
        else:
            if request.login not in permissions:
                permissions[request.login] = github.permission(repo, request.login)
            permission = permissions[request.login]
            if permission in APPROVING:
                return Approval(digest, request.login, request.url), ignored
            reason = f"{request.login} has {permission} permission; approving needs write, maintain or admin"
        ignored.append(Ignored(request.login, request.digest, request.url, reason))
    return None, ignored
