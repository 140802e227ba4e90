"""The GitHub REST calls the GitOps workflows make: comments, issues, a user's permission, workflow runs.

Workflows call them through `enrollctl github ...`, so they need no third-party actions; what a comment
says and which one is ours is `github.comment`'s business. The token comes from `GITHUB_TOKEN` and goes only
into the `Authorization` header: every message is redacted, and pagination only follows `Link` URLs on the
API's own host, so the token is never sent anywhere else.

Hand-written on purpose, on the same `transport.http.VendorClient` the LMS providers use (retries with
`Retry-After`, redaction, call statistics, `httpx` transports the tests replay recordings through). PyGithub
would bring requests, urllib3, PyJWT, PyNaCl and cryptography (nine packages) and its own retry and logging;
githubkit would bring pydantic and its generated schema packages. Either would replace about sixty lines of
paging and error mapping here, and neither would let the replays and the token redaction stay as they are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from reconciler import version
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
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments; a PR with more is not worth scanning further
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
PR_SCOPE = "`pull-requests: write`"
ISSUE_SCOPE = "`issues: write`"
_WRITE_HINT = (
    "the token may not do this: give the workflow `permissions:` {scope}, and note that pull requests "
    "from forks get a read-only token"
)

Json = dict[str, Any]


def repository(value: str) -> str:
    """Check an `OWNER/NAME` argument and return it."""
    if not _REPO.match(value) or value.split("/")[1] in {".", ".."}:
        raise UsageError(f"--repo {value!r} is not OWNER/NAME")
    return value


class GitHub:
    """The few GitHub REST calls the workflows need, with retries, redaction and clear errors."""

    def __init__(self, client: httpx.Client, token: str, *, sleep: Sleep = time.sleep) -> None:
        redactor = Redactor([token])
        client.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"enrollctl/{version()}",
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

    # --- comments and issues -------------------------------------------------------------------------

    def comments(self, repo: str, number: int, *, scope: str = PR_SCOPE) -> Iterator[Json]:
        """Every comment on issue or pull request `number`, oldest first (all pages)."""
        url = f"/repos/{repo}/issues/{number}/comments"
        return self._pages(url, {"per_page": str(PER_PAGE)}, call="list comments", scope=scope)

    def create_comment(
        self, repo: str, number: int, body: str, *, call: str = "create comment", scope: str = PR_SCOPE
    ) -> Json:
        """Add a comment to issue or pull request `number`."""
        url = f"/repos/{repo}/issues/{number}/comments"
        return self._object(self._call("POST", url, call=call, scope=scope, json={"body": body}), call)

    def update_comment(self, repo: str, comment_id: int, body: str, *, scope: str = PR_SCOPE) -> Json:
        """Replace the body of comment `comment_id`."""
        url = f"/repos/{repo}/issues/comments/{comment_id}"
        response = self._call("PATCH", url, call="update comment", scope=scope, json={"body": body})
        return self._object(response, "update comment")

    def open_issues(self, repo: str, label: str) -> Iterator[Json]:
        """The open issues labelled `label` (this endpoint lists pull requests too; they are left out)."""
        params = {"labels": label, "state": "open", "per_page": str(PER_PAGE)}
        listed = self._pages(f"/repos/{repo}/issues", params, call="list issues", scope=ISSUE_SCOPE)
        return (item for item in listed if "pull_request" not in item)

    def create_issue(self, repo: str, *, title: str, body: str, label: str) -> Json:
        """Open an issue; GitHub creates a label named in `labels` that does not exist yet (inferred; push
        access needed)."""
        data = {"title": title, "body": body, "labels": [label]}
        url = f"/repos/{repo}/issues"
        response = self._call("POST", url, call="create issue", scope=ISSUE_SCOPE, json=data)
        return self._object(response, "create issue")

    def update_issue(self, repo: str, number: int, fields: Mapping[str, str], *, call: str) -> Json:
        """Change an issue's title, body or state."""
        url = f"/repos/{repo}/issues/{number}"
        return self._object(self._call("PATCH", url, call=call, scope=ISSUE_SCOPE, json=dict(fields)), call)

    def permission(self, repo: str, login: str) -> str:
        """`admin`, `write`, `read` or `none`: what `login` may do in `repo` (GitHub maps the maintain role
        to `write` and triage to `read`); `none` for someone who is not a collaborator."""
        scope = "`metadata: read` (every workflow token has it)"
        url = f"/repos/{repo}/collaborators/{quote(login, safe='')}/permission"
        response = self.vendor.request("GET", url, call="user permission", idempotent=True)
        if response.status_code == 404:
            return "none"  # not a collaborator (the API answers 404 for them)
        if response.status_code >= 400:
            raise self._error(response, "user permission", scope)
        return str(self._object(response, "user permission").get("permission", "none"))

    def _object(self, response: httpx.Response, call: str) -> Json:
        data = self._json(response, call)
        if not isinstance(data, dict):
            status = response.status_code
            raise self.vendor.error(ProtocolError, "expected an object", call=call, status=status)
        return data

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
