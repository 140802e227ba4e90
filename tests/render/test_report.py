"""The HTML status report without a browser: self-contained, and its numbers are the JSON format's."""

from __future__ import annotations

from lxml import html

from reconciler.core.model import Completion
from reconciler.core.status import StatusReport, provider_status
from reconciler.render.report import render_status_html
from reconciler.render.status import status_data
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
