"""A small GitHub REST client for the GitOps workflows: one sticky plan comment, one drift issue.

Workflows call it through `enrollctl github ...`, so they need no third-party actions. The token comes from
`GITHUB_TOKEN` and goes only into the `Authorization` header: every message is redacted, and pagination only
follows `Link` URLs on the API's own host, so the token is never sent anywhere else.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler import __version__
from reconciler.errors import (
    AuthError,
    ConfigError,
    PermissionDenied,
    ProtocolError,
    ProviderError,
    UsageError,
)
from reconciler.transport.http import RetryPolicy, Sleep, VendorClient, make_client
from reconciler.transport.redact import Redactor

TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105  (the variable's name, not a secret)
API_URL_ENV = "GITHUB_API_URL"
DEFAULT_API_URL = "https://api.github.com"
COMMENT_LIMIT = 65_536  # GitHub refuses issue and comment bodies longer than this
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments; a PR with more is not worth scanning further
DRIFT_LABEL = "enrollctl-drift"
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_WRITE_HINT = (
    "the token may not do this: give the workflow `permissions:` {scope}, and note that pull requests "
    "from forks get a read-only token"
)

Json = dict[str, Any]


@dataclass(frozen=True)
class Written:
    """What a write did: `created`, `updated`, `closed` or `unchanged`, and the page it concerns."""

    action: str
    number: int | None = None
    url: str = ""


def repository(value: str) -> str:
    """Check an `OWNER/NAME` argument and return it."""
    if not _REPO.match(value) or value.split("/")[1] in {".", ".."}:
        raise UsageError(f"--repo {value!r} is not OWNER/NAME")
    return value


def hidden_marker(text: str) -> str:
    """The HTML comment that identifies our comment or issue: `<!-- text -->`."""
    if "--" in text or ">" in text or "\n" in text:
        raise UsageError(f"marker {text!r} may not contain '--', '>' or a line break (it lives in <!-- -->)")
    return f"<!-- {text.strip()} -->"


def _utf16_length(text: str) -> int:
    # GitHub counts in UTF-16 code units (inferred from its JavaScript front end), so be safe for emoji
    return len(text.encode("utf-16-le")) // 2


def fit_body(marker: str, body: str, *, limit: int = COMMENT_LIMIT) -> str:
    """`marker` + `body`, cut at a line and with open code fences and <details> closed, under `limit`."""
    full = f"{marker}\n{body}"
    if _utf16_length(full) < limit:
        return full
    note = "\n\n_… truncated to fit GitHub's size limit: the workflow run has the full text._\n"
    room = limit - _utf16_length(marker) - _utf16_length(note) - 64  # 64: closing fences and tags
    kept = body[:room]
    while _utf16_length(kept) > room:
        kept = kept[: len(kept) - (_utf16_length(kept) - room)]
    kept = kept[: kept.rfind("\n")] if "\n" in kept else kept
    closing = ""
    if sum(1 for line in kept.splitlines() if line.lstrip().startswith("```")) % 2:
        closing += "\n```"
    closing += "\n</details>" * max(0, kept.count("<details>") - kept.count("</details>"))
    return f"{marker}\n{kept}{closing}{note}"


class GitHub:
    """The few GitHub REST calls the workflows need, with retries, redaction and clear errors."""

    def __init__(self, client: httpx.Client, token: str, *, sleep: Sleep = time.sleep) -> None:
        redactor = Redactor([token])
        client.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"enrollctl/{__version__}",
            }
        )
        self.vendor = VendorClient(
            client, provider="github", redactor=redactor, retry=RetryPolicy(attempts=3), sleep=sleep
        )
        self._host = urlsplit(str(client.base_url)).netloc

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Sleep = time.sleep,
    ) -> GitHub:
        """A client for `GITHUB_API_URL` (default api.github.com) authenticated by `GITHUB_TOKEN`."""
        token = env.get(TOKEN_ENV, "")
        if not token:
            raise ConfigError(
                f"{TOKEN_ENV} is not set",
                hint="in a workflow step add `env: {GITHUB_TOKEN: ${{ github.token }}}`",
            )
        base = env.get(API_URL_ENV) or DEFAULT_API_URL
        return cls(make_client(base.rstrip("/"), transport=transport), token, sleep=sleep)

    def close(self) -> None:
        """Close the HTTP client."""
        self.vendor.close()

    # --- plumbing -------------------------------------------------------------------------------------

    def _call(self, method: str, url: str, *, call: str, scope: str, **kwargs: Any) -> httpx.Response:
        response = self.vendor.request(
            method, url, call=call, idempotent=method in {"GET", "PATCH"}, **kwargs
        )
        if response.status_code >= 400:
            raise self._error(response, call, scope)
        return response

    def _error(self, response: httpx.Response, call: str, scope: str) -> ProviderError:
        status = response.status_code
        message = _api_message(response) or response.reason_phrase
        cls: type[ProviderError] = ProviderError
        hint = ""
        if status == 401:
            cls, hint = AuthError, f"{TOKEN_ENV} was refused: expired or not a token"
        elif status == 403:
            cls, hint = PermissionDenied, _WRITE_HINT.format(scope=scope)
        elif status == 404:
            hint = f"check --repo and the number, and that the token can see the repository ({scope})"
        return self.vendor.error(cls, message, call=call, status=status, hint=hint)

    def _json(self, response: httpx.Response, call: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self.vendor.error(
                ProtocolError, "the answer is not JSON", call=call, status=response.status_code
            ) from None

    def _pages(self, url: str, params: Mapping[str, str], *, call: str, scope: str) -> Iterator[Json]:
        """Every item of a paginated list, following `Link: rel="next"` on the API's own host only."""
        next_url: str | None = url
        query: Mapping[str, str] | None = params
        for _ in range(MAX_PAGES):  # beyond that, stop looking: a new comment is better than a stuck run
            if next_url is None:
                return
            response = self._call("GET", next_url, call=call, scope=scope, params=query)
            page = self._json(response, call)
            if not isinstance(page, list):
                raise self.vendor.error(ProtocolError, "expected a list", call=call, status=200)
            yield from (item for item in page if isinstance(item, dict))
            next_url, query = response.links.get("next", {}).get("url"), None
            if next_url is not None and urlsplit(next_url).netloc != self._host:
                raise self.vendor.error(
                    ProtocolError,
                    f"refusing to follow a next-page link to another host: {next_url}",
                    call=call,
                )

    # --- sticky comment -------------------------------------------------------------------------------

    def upsert_comment(self, repo: str, number: int, body: str, *, marker: str) -> Written:
        """Update the one comment on issue/PR `number` that holds `marker`, or create it."""
        scope, hidden = "`pull-requests: write`", hidden_marker(marker)
        text = fit_body(hidden, body)
        url = f"/repos/{repo}/issues/{number}/comments"
        comments = self._pages(url, {"per_page": str(PER_PAGE)}, call="list comments", scope=scope)
        existing = self._find(comments, hidden)
        if existing is None:
            made = self._json(
                self._call("POST", url, call="create comment", scope=scope, json={"body": text}),
                "create comment",
            )
            return Written("created", number, str(made.get("html_url", "")))
        if existing.get("body") == text:
            return Written("unchanged", number, str(existing.get("html_url", "")))
        comment_url = f"/repos/{repo}/issues/comments/{int(existing['id'])}"
        made = self._json(
            self._call("PATCH", comment_url, call="update comment", scope=scope, json={"body": text}),
            "update comment",
        )
        return Written("updated", number, str(made.get("html_url", "")))

    @staticmethod
    def _find(items: Iterator[Json], marker: str) -> Json | None:
        # any author: the token may be the workflow's bot or a person's; the marker is what identifies it
        return next((item for item in items if marker in str(item.get("body") or "")), None)

    # --- drift issue ----------------------------------------------------------------------------------

    def drift_issue(
        self, repo: str, body: str, *, drifted: bool, marker: str, title: str, label: str = DRIFT_LABEL
    ) -> Written:
        """Open or update the one open drift issue (label + marker) when `drifted`; close it otherwise."""
        scope, hidden = "`issues: write`", hidden_marker(marker)
        params = {"labels": label, "state": "open", "per_page": str(PER_PAGE)}
        listed = self._pages(f"/repos/{repo}/issues", params, call="list issues", scope=scope)
        # this endpoint lists pull requests too; a labelled pull request is not the drift issue
        existing = self._find((i for i in listed if "pull_request" not in i), hidden)
        text = fit_body(hidden, body)
        if drifted:
            return self._open_drift(repo, existing, text, title=title, label=label, scope=scope)
        if existing is None:
            return Written("unchanged")
        number = int(existing["number"])
        self._call(
            "POST",
            f"/repos/{repo}/issues/{number}/comments",
            call="comment issue",
            scope=scope,
            json={"body": text},
        )
        closed = self._json(
            self._call(
                "PATCH",
                f"/repos/{repo}/issues/{number}",
                call="close issue",
                scope=scope,
                json={"state": "closed", "state_reason": "completed"},
            ),
            "close issue",
        )
        return Written("closed", number, str(closed.get("html_url", "")))

    def _open_drift(
        self, repo: str, existing: Json | None, text: str, *, title: str, label: str, scope: str
    ) -> Written:
        if existing is None:
            # inferred: GitHub creates a label named in `labels` that does not exist yet (push access needed)
            made = self._json(
                self._call(
                    "POST",
                    f"/repos/{repo}/issues",
                    call="create issue",
                    scope=scope,
                    json={"title": title, "body": text, "labels": [label]},
                ),
                "create issue",
            )
            return Written("created", int(made["number"]), str(made.get("html_url", "")))
        number = int(existing["number"])
        made = self._json(
            self._call(
                "PATCH",
                f"/repos/{repo}/issues/{number}",
                call="update issue",
                scope=scope,
                json={"title": title, "body": text},
            ),
            "update issue",
        )
        return Written("updated", number, str(made.get("html_url", "")))

    # --- the plan a merged pull request was reviewed with ---------------------------------------------

    def reviewed_plan_run(self, repo: str, sha: str, workflow: str) -> tuple[int | None, int | None]:
        """The merged PR of commit `sha` and the last successful run of `workflow` on its head, if any."""
        scope = "`contents: read`, `pull-requests: read` and `actions: read`"
        pulls = self._json(
            self._call("GET", f"/repos/{repo}/commits/{sha}/pulls", call="commit pulls", scope=scope),
            "commit pulls",
        )
        merged = (
            [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
            if isinstance(pulls, list)
            else []
        )
        if not merged:
            return None, None
        # the PR merged AS this commit; a commit can also belong to other merged PRs (e.g. a PR's base)
        pull = next((p for p in merged if p.get("merge_commit_sha") == sha), merged[0])
        head = str(pull.get("head", {}).get("sha", ""))
        params = {"head_sha": head, "event": "pull_request", "status": "success", "per_page": "1"}
        runs = self._json(
            self._call(
                "GET",
                f"/repos/{repo}/actions/workflows/{workflow}/runs",
                call="workflow runs",
                scope=scope,
                params=params,
            ),
            "workflow runs",
        )
        found = runs.get("workflow_runs", []) if isinstance(runs, dict) else []
        return int(pull["number"]), (int(found[0]["id"]) if found else None)


def _api_message(response: httpx.Response) -> str:
    """GitHub's `message` field of an error answer (redacted by the caller's error builder)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message", "")) if isinstance(data, dict) else ""
