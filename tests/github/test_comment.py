"""Composing the plan comment and reading back which plan it shows; recognising approval lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.github.approval import requests
from reconciler.github.comment import ShownPlan, plan_comment, review_block, shown_plan

BODY = "### enrollctl plan: 1 to add\n\n| table |\n\n---\nPlanned for abc.\n"


def test_the_review_and_the_comparison_come_right_after_the_title() -> None:
    text = plan_comment(BODY, review="REVIEW", since="SINCE", shown=ShownPlan(77, "ab12"))
    assert text.splitlines()[:6] == [
        "<!-- enrollctl-plan-shown: run=77 digest=ab12 -->",
        "### enrollctl plan: 1 to add",
        "",
        "REVIEW",
        "",
        "SINCE",
    ]
    assert text.endswith("Planned for abc.\n")


@given(st.integers(min_value=1, max_value=10**15), st.text("0123456789abcdef", min_size=16, max_size=16))
def test_the_shown_plan_reads_back_as_written(run_id: int, digest: str) -> None:
    assert shown_plan(plan_comment(BODY, shown=ShownPlan(run_id, digest))) == ShownPlan(run_id, digest)


def test_a_comment_without_the_hidden_line_shows_no_plan() -> None:
    assert shown_plan(plan_comment(BODY)) is None
    assert shown_plan("see run=77 digest=ab12") is None


def test_a_refused_plan_says_how_to_approve_exactly_it() -> None:
    text = review_block("ab12cd34ab12cd34", ("max_removals",))
    assert "refused by `max_removals`" in text
    assert "`/enrollctl approve ab12cd34ab12cd34`" in text
    assert "`enrollctl apply plan.json --approve ab12cd34ab12cd34`" in text
    assert "/enrollctl approve" not in review_block("ab12cd34ab12cd34", ())


def _comment(body: str, login: str = "mia", kind: str = "User") -> dict[str, object]:
    return {"body": body, "user": {"login": login, "type": kind}, "html_url": "u"}


def test_only_a_line_that_is_exactly_the_command_requests_an_approval() -> None:
    found = requests(
        [
            _comment("LGTM\n/enrollctl approve AB12CD34AB12CD34\n"),
            _comment("please run `/enrollctl approve ab12cd34ab12cd34` after review"),
            _comment("/enrollctl approve ab12cd34ab12cd34 and also this"),
            _comment("<!-- enrollctl-plan: . -->\n/enrollctl approve ab12cd34ab12cd34"),
            _comment("/enrollctl approve ab12cd34ab12cd34", login="bot[bot]", kind="Bot"),
        ]
    )
    assert [(r.login, r.digest, r.bot) for r in found] == [
        ("mia", "ab12cd34ab12cd34", False),
        ("bot[bot]", "ab12cd34ab12cd34", True),
    ]
