"""The HTML status report without a browser: self-contained, and its numbers are the JSON format's."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from lxml import html

from reconciler.core.model import Completion
from reconciler.core.status import StatusReport, provider_status
from reconciler.render.report import render_status_html
from reconciler.render.status import render_status_markdown, render_status_text, status_data
from tests.support.builders import NOW, Org, course, enrollment, expanded, policy, snapshot


def _report() -> StatusReport:
    org = Org()
    ann, bob = org.user("ann", dept="Acme/Sales"), org.user("bob", dept="Acme/Ops")
    org.user("<cy>", dept="Acme/Ops")  # markup in a login is text, never markup
    sec = org.course("Security & <Privacy>")
    pol = policy("sec", everyone=True, assign=[course("Security & <Privacy>")])
    snap = snapshot(
        org,
        [enrollment(ann, sec, completion=Completion.COMPLETED), enrollment(bob, sec, due=NOW.replace(day=1))],
    )
    parts = provider_status(expanded([pol], snap).desired, snap, now=NOW)
    return StatusReport(created_at=NOW, expiring_days=30, policies=parts, accounts={"lms": "https://x"})


def test_the_page_has_no_scripts_or_fetches_and_escapes_names() -> None:
    page = render_status_html(_report(), people=True)
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "&lt;cy&gt;" in page and "Security &amp; &lt;Privacy&gt;" in page
    assert page.count("<svg") == 3


def test_table_cells_and_totals_are_the_json_counts() -> None:
    report = _report()
    data = status_data(report)
    dom = html.fromstring(render_status_html(report))
    counts = data["policies"][0]["items"][0]["counts"]
    for cell in dom.xpath("//td[@data-key]"):
        assert int(cell.text_content()) == counts[cell.get("data-key")]
    for cell in dom.xpath("//*[@data-total]"):
        assert int(cell.text_content()) == data["totals"][cell.get("data-total")]
    assert counts["overdue"] == 1 and counts["completed"] == 1


def _with_expiry(report: StatusReport, expires: dt.datetime) -> StatusReport:
    """The report with ann's completion valid until `expires` (flagged expiring, as core flags it)."""
    policy = report.policies[0]
    item = policy.items[0]
    learners = tuple(
        replace(x, expires_at=expires, expiring=True) if x.login == "ann" else x for x in item.learners
    )
    return replace(report, policies=(replace(policy, items=(replace(item, learners=learners),)),))


def test_a_past_expiry_reads_expired_and_a_coming_one_expiring_in_every_format() -> None:
    past = _with_expiry(_report(), NOW - dt.timedelta(days=3))
    coming = _with_expiry(_report(), NOW + dt.timedelta(days=3))
    day = lambda moment: moment.date().isoformat()  # noqa: E731
    for render in (render_status_text, render_status_markdown):
        assert f"expired {day(NOW - dt.timedelta(days=3))}" in render(past, people=True)
        assert f"expiring {day(NOW + dt.timedelta(days=3))}" in render(coming, people=True)
    assert f"expired {day(NOW - dt.timedelta(days=3))}" in render_status_html(past, people=True)
