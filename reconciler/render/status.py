"""Renderers of a `StatusReport`: text for people, Markdown for issues and PRs, JSON for machines.

Pure functions of the report. Counts come first; lists of people only when asked (`people=True`), and then
only of those who need attention (not assigned, not started, in progress, unknown, overdue, expiring) in
text and Markdown; JSON lists everyone. JSON follows `schemas/status.schema.json` (`format_version`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from reconciler.core.status import (
    COUNT_KEYS,
    STATUS_FORMAT_VERSION,
    ItemStatus,
    LearnerState,
    LearnerStatus,
    StatusReport,
)

COLUMNS = (
    ("targeted", "targeted"),
    ("assigned", "assigned"),
    ("not_started", "not started"),
    ("in_progress", "in progress"),
    ("completed", "completed"),
    ("overdue", "overdue"),
    ("expiring", "expiring"),
)


def _stamp(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).date().isoformat() if moment is not None else ""


def _percent(counts: dict[str, int]) -> str:
    return f"{100 * counts['completed'] / counts['targeted']:.0f}%" if counts["targeted"] else "-"


def needs_attention(learner: LearnerStatus) -> bool:
    """Anyone not (validly) completed, or overdue, or whose completion is about to expire."""
    return learner.state is not LearnerState.COMPLETED or learner.overdue or learner.expiring


def _flags(learner: LearnerStatus, now: dt.datetime) -> str:
    parts = [learner.state.value.replace("_", " ")]
    if learner.overdue:
        parts.append(f"overdue since {_day(learner.due)}")
    elif learner.due is not None and learner.state is not LearnerState.COMPLETED:
        parts.append(f"due {_day(learner.due)}")
    if learner.completed_at is not None:
        parts.append(f"completed {_day(learner.completed_at)}")
    if learner.expires_at is not None:
        verb = "expired" if learner.expires_at <= now else "expiring" if learner.expiring else "valid until"
        parts.append(f"{verb} {_day(learner.expires_at)}")
    return ", ".join(parts)


# --- text ----------------------------------------------------------------------------------------------


def render_status_text(report: StatusReport, *, people: bool = False) -> str:
    """Counts per policy and item, totals last; with `people`, who needs attention under each item."""
    lines = [
        f"Compliance status at {_stamp(report.created_at)} (expiring = within {report.expiring_days} days)"
    ]
    if not report.policies:
        return "\n".join([*lines, "", "No policy manages any item.", ""])
    for policy in report.policies:
        lines += ["", f"policy {policy.name} ({policy.provider}): {_count_text(policy.counts)}"]
        for item in policy.items:
            lines.append(f"  {item.kind.value.replace('_', ' ')} {item.title}: {_count_text(item.counts)}")
            if people:
                lines += [
                    f"    {x.login}: {_flags(x, report.created_at)}"
                    for x in item.learners
                    if needs_attention(x)
                ]
    lines += ["", f"Total: {_count_text(report.counts)}", ""]
    return "\n".join(lines)


def _count_text(counts: dict[str, int]) -> str:
    shown = ", ".join(f"{counts[key]} {label}" for key, label in COLUMNS[1:] if counts[key])
    missing = f", {counts['not_assigned']} not assigned" if counts["not_assigned"] else ""
    unknown = f", {counts['unknown']} unknown" if counts["unknown"] else ""
    detail = f"{shown or 'none assigned'}{missing}{unknown}"
    return f"{counts['targeted']} targeted, {_percent(counts)} complete ({detail})"


# --- Markdown ------------------------------------------------------------------------------------------


def render_status_markdown(report: StatusReport, *, people: bool = False) -> str:
    """A summary table per policy and item; with `people`, who needs attention in `<details>`."""
    header = "| policy | item | " + " | ".join(label for _, label in COLUMNS) + " | complete |"
    rule = "|---|---|" + "---:|" * (len(COLUMNS) + 1)
    lines = [
        "## Compliance status",
        "",
        f"Read {_stamp(report.created_at)}; expiring = within {report.expiring_days} days.",
        "",
        header,
        rule,
    ]
    for policy in report.policies:
        for item in policy.items:
            cells = " | ".join(str(item.counts[key]) for key, _ in COLUMNS)
            lines.append(f"| {_md(policy.name)} | {_md(item.title)} | {cells} | {_percent(item.counts)} |")
    total = report.counts
    cells = " | ".join(f"**{total[key]}**" for key, _ in COLUMNS)
    lines.append(f"| **total** | | {cells} | **{_percent(total)}** |")
    if people:
        for policy in report.policies:
            for item in policy.items:
                lines += _people_details(policy.name, item, report.created_at)
    return "\n".join(lines) + "\n"


def _people_details(policy: str, item: ItemStatus, now: dt.datetime) -> list[str]:
    who = [x for x in item.learners if needs_attention(x)]
    if not who:
        return []
    return [
        "",
        f"<details><summary>{_md(policy)} / {_md(item.title)}: {len(who)} need attention</summary>",
        "",
        *(f"- `{_md(x.login)}` ({_md(x.department) or 'no department'}): {_flags(x, now)}" for x in who),
        "",
        "</details>",
    ]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


# --- JSON ----------------------------------------------------------------------------------------------


def status_data(report: StatusReport, *, people: bool = False) -> dict[str, Any]:
    """The report as plain data in the order of `schemas/status.schema.json`."""
    return {
        "format_version": STATUS_FORMAT_VERSION,
        "created_at": _stamp(report.created_at),
        "expiring_within_days": report.expiring_days,
        "accounts": dict(sorted(report.accounts.items())),
        "totals": _counts(report.counts),
        "policies": [
            {
                "name": policy.name,
                "provider": policy.provider,
                "counts": _counts(policy.counts),
                "items": [_item_data(item, people) for item in policy.items],
            }
            for policy in report.policies
        ],
    }


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {key: counts[key] for key in COUNT_KEYS}


def _item_data(item: ItemStatus, people: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.item_id,
        "title": item.title,
        "kind": item.kind.value,
        "counts": _counts(item.counts),
    }
    if people:
        data["people"] = [_learner_data(x) for x in item.learners]
    return data


def _learner_data(learner: LearnerStatus) -> dict[str, Any]:
    return {
        "user_id": learner.user_id,
        "login": learner.login,
        "department": learner.department,
        "state": learner.state.value,
        "due": _stamp(learner.due),
        "completed_at": _stamp(learner.completed_at),
        "expires_at": _stamp(learner.expires_at),
        "overdue": learner.overdue,
        "expiring": learner.expiring,
    }


def render_status_json(report: StatusReport, *, people: bool = False) -> str:
    """The report as JSON text (stable key order, two-space indent, trailing newline)."""
    return json.dumps(status_data(report, people=people), indent=2, ensure_ascii=False) + "\n"
