"""The PR-comment plan: table first, details folded, escaped, and always under GitHub's comment limit."""

from __future__ import annotations

import re
import typing
import unicodedata

import pytest
from hypothesis import given, settings

from reconciler.core.model import ItemKind
from reconciler.core.plan import IdentityProblem, IdentityReport, Plan, Warning
from reconciler.render.markdown import COMMENT_LIMIT, code_block, md_text, render_markdown
from tests.support import render_builders as b
from tests.support.plan_strategies import plans

Golden = typing.Callable[[str, str], None]
SAMPLES: dict[str, typing.Callable[[], Plan]] = {
    "small_mixed": b.small_mixed_plan,
    "empty": b.empty_plan,
    "kept_identity": b.kept_identity_plan,
}
HINT = "[plan.json](https://github.com/acme/training/actions/runs/1)"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_markdown_golden(name: str, golden: Golden) -> None:
    golden(f"plans/{name}.md", render_markdown(SAMPLES[name](), artifact_hint=HINT))


def test_large_plan_markdown_golden(golden: Golden) -> None:
    golden("plans/large_50000.md", render_markdown(b.large_plan(50_000)))


def test_title_counts_and_summary_table_come_first() -> None:
    text = render_markdown(b.small_mixed_plan())
    assert text.startswith("### enrollctl plan: 4 to add, 2 to change, 1 to remove, 0 kept\n")
    assert "| lms | security-awareness | Security Awareness 2026 | 3 | 2 | 0 | 0 |" in text
    assert text.index("| Provider |") < text.index("<details>")


def test_removals_and_protected_records_are_called_out() -> None:
    text = render_markdown(b.kept_identity_plan())
    assert "⚠️ **1 removal** from Anti-Bribery (1), pruned by sales-compliance:" in text
    assert "⚠️ **1 removal destroys training records**" in text
    assert "⚠️ **2 protected records kept**" in text


def test_actions_are_folded_per_policy_in_diff_blocks() -> None:
    text = render_markdown(b.small_mixed_plan())
    assert "<details><summary>lms · security-awareness: +3 ~2 −0</summary>\n\n```diff\n" in text
    assert "! carol@acme.example  due 2026-12-31 → 2026-11-30 (tightened)" in text


def test_no_changes_comment() -> None:
    text = render_markdown(b.empty_plan())
    assert text.startswith("### enrollctl plan: no changes\n\nThe LMS matches the manifests.")
    assert "<details>" not in text


@pytest.mark.parametrize("n", [5_000, 50_000])
def test_huge_plan_stays_under_the_comment_limit_with_correct_totals(n: int) -> None:
    text = render_markdown(b.large_plan(n), artifact_hint=HINT)
    assert len(text) < COMMENT_LIMIT
    removes = (n + 49) // 50
    assert f"{n - removes:,} to add, 0 to change, {removes:,} to remove" in text
    assert f"Every action is in {HINT}" in text


def test_plan_with_an_item_per_action_degrades_to_policy_counts() -> None:
    actions = [b.add(f"u{i}@acme.example", title=f"Course {i:05d}") for i in range(50_000)]
    text = render_markdown(b.plan(b.provider_plan(actions)))
    assert len(text) < COMMENT_LIMIT
    assert "| lms | security-awareness | 50,000 | 0 | 0 | 0 |" in text
    assert "50,000 to add" in text


def test_plan_with_thousands_of_policies_still_fits() -> None:
    actions = [b.add(f"u{i}@acme.example", policies=(f"policy-{i:05d}",)) for i in range(50_000)]
    text = render_markdown(b.plan(b.provider_plan(actions)))
    assert len(text) < COMMENT_LIMIT
    assert "50,000 to add" in text
    assert "more rows" in text


def test_huge_identity_report_and_warnings_still_fit() -> None:
    issues = tuple(b.issue(f"ghost{i}@acme.example", IdentityProblem.UNKNOWN) for i in range(50_000))
    provider = b.provider_plan(
        [b.add("a@acme.example")],
        identity=IdentityReport(issues=issues),
        warnings=[Warning(f"warning {i} " + "x" * 100) for i in range(5_000)],
    )
    text = render_markdown(b.plan(provider))
    assert len(text) < COMMENT_LIMIT
    assert "50,000 unknown users" in text


def test_user_strings_cannot_break_the_table_or_inject_html() -> None:
    evil_title = "Ethics | <script>alert(1)</script> **bold** [x](http://evil)"
    evil_login = "eve|<img src=x onerror=alert(1)>@acme.example"
    provider = b.provider_plan(
        [b.add(evil_login, title=evil_title)],
        name="lms|<b>",
        identity=IdentityReport(issues=(b.issue("<script>x</script>|y", IdentityProblem.UNKNOWN),)),
        warnings=[Warning("see <script>steal()</script> | now")],
    )
    text = render_markdown(b.plan(provider))
    outside_code = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    assert "<script>" not in outside_code and "<img" not in outside_code and "<b>" not in outside_code
    row = next(line for line in text.splitlines() if line.startswith("| lms"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 8  # 7 columns, escaped pipes do not count
    assert "Ethics \\| &lt;script&gt;" in row


def test_backticks_in_user_strings_cannot_close_the_code_block() -> None:
    block = code_block(["+ ```", "- ````x"])
    assert block.startswith("`````\n") and block.endswith("\n`````")


def test_md_text_escapes_formatting_and_html() -> None:
    assert md_text("a_b*c|d<e>&") == "a\\_b\\*c\\|d&lt;e&gt;&amp;"


def test_learning_paths_are_named_as_such() -> None:
    plan = b.plan(b.provider_plan([b.add("a@acme.example", "Onboarding", kind=ItemKind.LEARNING_PATH)]))
    assert '# learning path "Onboarding"' in render_markdown(plan)


@settings(max_examples=100, deadline=None)
@given(plans)
def test_any_plan_renders_to_markdown_within_the_limit(plan: Plan) -> None:
    text = render_markdown(plan)
    assert len(text) < COMMENT_LIMIT
    assert not [c for c in text if unicodedata.category(c) in ("Cc", "Cf") and c != "\n"]
    # tags count outside fenced code blocks only: inside one, a title such as "<details>" is inert text
    outside = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1[ \t]*$", "", text)
    assert outside.count("<details>") == outside.count("</details>")
