"""The terminal plan: terraform-like, grouped by policy and item, colour on request, long lists summarised."""

from __future__ import annotations

import dataclasses
import typing
import unicodedata
from collections import Counter

import pytest
from hypothesis import assume, given, settings

from reconciler.core.model import Completion
from reconciler.core.plan import KeptReason, Plan
from reconciler.render.describe import describe
from reconciler.render.summary import descriptions as summary_descriptions
from reconciler.render.text import FULL_HINT, NO_CHANGES, render_text
from tests.support import render_builders as b
from tests.support.plan_strategies import plans

Golden = typing.Callable[[str, str], None]
SAMPLES: dict[str, typing.Callable[[], Plan]] = {
    "small_mixed": b.small_mixed_plan,
    "empty": b.empty_plan,
    "kept_identity": b.kept_identity_plan,
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_text_golden(name: str, golden: Golden) -> None:
    golden(f"plans/{name}.txt", render_text(SAMPLES[name]()))


@pytest.mark.parametrize("name", ["small_mixed", "kept_identity"])
def test_text_golden_in_colour(name: str, golden: Golden) -> None:
    golden(f"plans/{name}.color.txt", render_text(SAMPLES[name](), color=True))


def test_large_plan_golden_is_summarised(golden: Golden) -> None:
    golden("plans/large_2000.txt", render_text(b.large_plan(2_000)))


def test_no_changes_says_the_lms_matches() -> None:
    text = render_text(b.empty_plan())
    assert text.rstrip().endswith(NO_CHANGES)
    assert "Plan:" not in text


def test_plan_without_providers_says_no_changes() -> None:
    assert render_text(b.plan(guard={})) == NO_CHANGES + "\n"


def test_totals_line_counts_every_provider() -> None:
    text = render_text(b.kept_identity_plan())
    assert "Plan: 1 to add, 0 to change, 1 to remove, 5 kept." in text
    assert "Applying it makes about 2 API calls and sends 1 learner notification." in text


def test_actions_are_grouped_by_policy_then_item_with_signs() -> None:
    lines = render_text(b.small_mixed_plan()).splitlines()
    order = [line.strip() for line in lines if line.strip().startswith(("Policy", "course", "+", "~", "-"))]
    assert order[0] == "Policy sales-compliance"
    assert order[1] == 'course "Anti-Bribery"'
    assert order[2].startswith("+ helen@acme.example")
    assert order[3].startswith("- erin@acme.example   pruned by sales-compliance")
    assert order[4] == "Policy security-awareness"


def test_update_shows_old_and_new_with_risk_label() -> None:
    text = render_text(b.small_mixed_plan())
    assert "~ carol@acme.example  due 2026-12-31 → 2026-11-30 (tightened)" in text
    assert "~ dave@acme.example   lock after due on → off (loosened)" in text
    assert "+ ivan@acme.example   due 2026-11-01 [past due]" in text


def test_update_that_tightens_one_term_and_loosens_another_says_both() -> None:
    action = b.update(
        "amira@acme.example",
        terms=b.Terms(due=b.due("2027-01-31"), lock_after_due=True),
        changes=("due", "lock_after_due"),
        risks=(b.Risk.TIGHTENED, b.Risk.LOOSENED),
    )
    text = render_text(b.plan(b.provider_plan([action])))
    # each field says its own direction, beside its own old → new
    assert "due 2026-12-31 → 2027-01-31 (loosened), lock after due off → on (tightened)" in text


def test_an_update_to_a_period_shows_the_date_it_gives_and_the_rule() -> None:
    action = b.update("amira@acme.example", terms=b.Terms(due=b.due(within="14d")), risks=(b.Risk.TIGHTENED,))
    text = render_text(b.plan(b.provider_plan([action])))
    # assigned 2026-01-15 08:00, due 2026-12-31: within 2w of the assignment is 2026-01-29
    assert "due 2026-12-31 → 2026-01-29 (within 2w of 2026-01-15, tightened)" in text


def test_action_wanted_by_several_policies_is_listed_once_with_also() -> None:
    text = render_text(b.small_mixed_plan())
    assert text.count("helen@acme.example  due 2026-12-31") == 1
    assert "(also: sales-compliance)" in text


def test_no_colour_unless_asked() -> None:
    plan = b.small_mixed_plan()
    assert "\x1b[" not in render_text(plan)
    coloured = render_text(plan, color=True)
    assert "\x1b[32m+ bob@acme.example" in coloured
    assert "\x1b[33m~ carol@acme.example" in coloured
    assert "\x1b[31m- erin@acme.example" in coloured


def test_long_lists_are_summarised_per_department_with_a_hint() -> None:
    text = render_text(b.large_plan(2_000), max_lines=50)
    assert "+ 200 learners in Acme/Engineering (" in text
    assert FULL_HINT in text
    assert "user000001@acme.example" not in text
    assert "Plan: 1,960 to add, 0 to change, 40 to remove, 0 kept." in text


def test_full_lists_every_action() -> None:
    plan = b.large_plan(300)
    text = render_text(plan, full=True, max_lines=5)
    assert all(a.user_login in text for a in plan.actions)
    assert FULL_HINT not in text


def test_kept_records_are_summarised_per_item_when_many() -> None:
    provider = b.provider_plan(
        kept_records=[b.kept(KeptReason.CATALOG, f"u{i}@acme.example") for i in range(60)]
    )
    text = render_text(b.plan(provider), max_lines=10, verbose=True)
    assert '= 60 learners in "Anti-Bribery"' in text
    assert FULL_HINT in text


def test_control_characters_in_user_strings_cannot_reach_the_terminal() -> None:
    evil = b.add("mallory\x1b[2J\nPlan: 0 to add@acme.example", title="Course\u202eevil")
    text = render_text(b.plan(b.provider_plan([evil])))
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "mallory\\u001b[2J\\u000aPlan: 0 to add@acme.example" in text
    assert sum(1 for line in text.splitlines() if line.startswith("Plan:")) == 1


def test_long_user_strings_are_cut() -> None:
    text = render_text(b.plan(b.provider_plan([b.add("x" * 5_000 + "@acme.example")])))
    assert max(len(line) for line in text.splitlines()) < 400


def test_options_recorded_in_the_plan_are_shown() -> None:
    plan = dataclasses.replace(b.kept_identity_plan())
    assert "Options: --allow-remove-started" in render_text(plan)


@settings(max_examples=100, deadline=None)
@given(plans)
def test_any_plan_renders_without_control_characters(plan: Plan) -> None:
    for text in (render_text(plan), render_text(plan, full=True), render_text(plan, max_lines=0)):
        assert not [c for c in text if unicodedata.category(c) in ("Cc", "Cf") and c != "\n"]
        assert text.endswith("\n")


def test_a_plan_without_changes_is_one_line_counting_what_verbose_lists() -> None:
    kept = b.kept(b.KeptReason.CATALOG, "helen@acme.example")
    plan = b.plan(b.provider_plan([], kept_records=[kept]))
    assert (
        render_text(plan) == "No changes. The LMS matches the manifests. (1 enrollment kept; -v lists them)\n"
    )
    assert "helen@acme.example" in render_text(plan, verbose=True)


def test_the_legend_explains_only_the_markers_the_plan_uses() -> None:
    text = render_text(b.small_mixed_plan())
    legend = text[text.index("Legend") :]
    assert "  +  " in legend and "(tightened)" in legend and "[past due]" in legend
    assert ("[destroys training records" in legend) == (
        "[destroys training records" in text[: text.index("Legend")]
    )
    assert "[no e-mail]" not in text or "[no e-mail]" in legend


@settings(max_examples=200, deadline=None)
@given(plans)
def test_a_summary_words_each_action_as_describing_it_alone_would(plan: Plan) -> None:
    # summaries describe actions with the same wording inputs once; the result must not depend on it
    for provider in plan.providers:
        assert Counter(summary_descriptions(provider.actions)) == Counter(map(describe, provider.actions))


def test_removals_that_destroy_different_records_are_worded_apart() -> None:
    done = b.remove("ann@acme.example", completion=Completion.COMPLETED)
    half = b.remove("bob@acme.example", completion=Completion.IN_PROGRESS, progress=50.0)
    untouched = b.remove("cy@acme.example")
    words = set(summary_descriptions([done, half, untouched]))
    assert len(words) == 3, words


# the markers a line shows whenever the action has the property (direction words need a changed term too)
MARKERS = ("[past due]", "[destroys training records", "[no e-mail]", "(also: ")


@settings(max_examples=200, deadline=None)
@given(plans)
def test_the_legend_lists_a_marker_exactly_when_a_line_shows_it(plan: Plan) -> None:
    text = render_text(plan, full=True)
    assume("\nLegend\n" in text)  # a plan without changes is one line, with no legend
    cut = text.rindex("\nLegend\n")  # (an item may be called Legend too)
    lines, legend = text[:cut], text[cut:]
    for marker in MARKERS:
        assert (marker in lines) == (marker.rstrip(" ") in legend), marker
