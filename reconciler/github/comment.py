"""The bot's comments: composing the plan comment, finding our comment among a PR's, the drift issue.

A comment is ours when it holds our hidden marker line (`<!-- enrollctl-plan: . -->`), whoever posted it. The
plan comment carries a second hidden line naming the plan it shows, `<!-- enrollctl-plan-shown: run=123
digest=… -->`: the workflow run whose artifact `enrollctl-plan` holds that plan, and its approval digest. The
next run reads it back (`enrollctl github last-plan`), downloads that artifact and says what changed since.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.errors import UsageError
from reconciler.github.client import ISSUE_SCOPE, GitHub, Json

COMMENT_LIMIT = 65_536  # GitHub refuses issue and comment bodies longer than this
DRIFT_LABEL = "enrollctl-drift"
SHOWN_MARKER = "enrollctl-plan-shown"
_SHOWN = re.compile(rf"^<!-- {SHOWN_MARKER}: run=(\d{{1,20}}) digest=([0-9a-f]{{1,64}}) -->$", re.MULTILINE)


@dataclass(frozen=True)
class Written:
    """What a write did: `created`, `updated`, `closed` or `unchanged`, and the page it concerns."""

    action: str
    number: int | None = None
    url: str = ""


@dataclass(frozen=True)
class ShownPlan:
    """The plan a plan comment shows: the run whose artifact holds it, and its approval digest."""

    run_id: int
    digest: str


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


# --- the plan comment ----------------------------------------------------------------------------------


def review_block(digest: str, refused_by: tuple[str, ...]) -> str:
    """The digest of the plan shown and exactly how it gets applied (with an approval where it needs one)."""
    if not refused_by:
        return (
            f"**Plan `{digest}`**: merging applies exactly this plan (apply-on-merge runs "
            "`enrollctl apply plan.json` on this run's artifact `enrollctl-plan`)."
        )
    guards = ", ".join(f"`{name}`" for name in refused_by)
    return (
        f"**Plan `{digest}` is refused by {guards}.** To apply exactly this plan after review, a maintainer "
        f"(write, maintain or admin permission) comments `/enrollctl approve {digest}` on this pull request; "
        f"on merge, apply-on-merge then runs `enrollctl apply plan.json --approve {digest}`. A new push "
        "makes a new plan with a new digest, which needs its own approval."
    )


def since_block(summary: str, comparison_markdown: str) -> str:
    """The comparison with the plan the previous comment showed, folded under a one-line summary."""
    return (
        f"<details><summary>Since the last plan comment: {summary}</summary>\n\n"
        f"{comparison_markdown.rstrip()}\n\n</details>"
    )


def plan_comment(body: str, *, review: str = "", since: str = "", shown: ShownPlan | None = None) -> str:
    """The plan Markdown with `review` and `since` after its title, and the hidden line naming the plan."""
    head, _, rest = body.partition("\n\n")
    blocks = [head, *(b for b in (review, since) if b), rest.rstrip("\n")]
    text = "\n\n".join(b for b in blocks if b) + "\n"
    if shown is not None:
        text = f"{hidden_marker(f'{SHOWN_MARKER}: run={shown.run_id} digest={shown.digest}')}\n{text}"
    return text


def shown_plan(comment_body: str) -> ShownPlan | None:
    """The plan a plan comment says it shows (its hidden line), or None."""
    found = _SHOWN.search(comment_body)
    return ShownPlan(int(found.group(1)), found.group(2)) if found else None


# --- finding and writing ours --------------------------------------------------------------------------


def find_marked(items: Iterable[Json], marker: str) -> Json | None:
    """The first item whose body holds the hidden `marker` line."""
    # any author: the token may be the workflow's bot or a person's; the marker is what identifies it
    return next((item for item in items if marker in str(item.get("body") or "")), None)


def our_comment(github: GitHub, repo: str, number: int, *, marker: str) -> Json | None:
    """The comment on `number` that holds `marker`, if any."""
    return find_marked(github.comments(repo, number), hidden_marker(marker))


def upsert_comment(github: GitHub, repo: str, number: int, body: str, *, marker: str) -> Written:
    """Update the one comment on issue/PR `number` that holds `marker`, or create it."""
    text = fit_body(hidden_marker(marker), body)
    existing = our_comment(github, repo, number, marker=marker)
    if existing is None:
        made = github.create_comment(repo, number, text)
        return Written("created", number, str(made.get("html_url", "")))
    if existing.get("body") == text:
        return Written("unchanged", number, str(existing.get("html_url", "")))
    made = github.update_comment(repo, int(existing["id"]), text)
    return Written("updated", number, str(made.get("html_url", "")))


def drift_issue(
    github: GitHub, repo: str, body: str, *, drifted: bool, marker: str, title: str, label: str = DRIFT_LABEL
) -> Written:
    """Open or update the one open drift issue (label + marker) when `drifted`; close it otherwise."""
    hidden = hidden_marker(marker)
    existing = find_marked(github.open_issues(repo, label), hidden)
    text = fit_body(hidden, body)
    if drifted:
        if existing is None:
            made = github.create_issue(repo, title=title, body=text, label=label)
            return Written("created", int(made["number"]), str(made.get("html_url", "")))
        number = int(existing["number"])
        made = github.update_issue(repo, number, {"title": title, "body": text}, call="update issue")
        return Written("updated", number, str(made.get("html_url", "")))
    if existing is None:
        return Written("unchanged")
    number = int(existing["number"])
    github.create_comment(repo, number, text, call="comment issue", scope=ISSUE_SCOPE)
    fields = {"state": "closed", "state_reason": "completed"}
    closed = github.update_issue(repo, number, fields, call="close issue")
    return Written("closed", number, str(closed.get("html_url", "")))
