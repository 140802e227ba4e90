"""`show NEW --compare OLD` and the PR comment's "since the last plan comment": compare, then render."""

from __future__ import annotations

from reconciler.core.plan import Plan
from reconciler.planfile.compare import compare_plans
from reconciler.render.compare import render_compare_json, render_compare_markdown, render_compare_text


def render_comparison(old: Plan, new: Plan, fmt: str, *, full: bool = False) -> str:
    """What changed from `old` to `new`, in `fmt` (text, markdown or json)."""
    comparison = compare_plans(old, new)
    if fmt == "json":
        return render_compare_json(comparison)
    if fmt == "markdown":
        return render_compare_markdown(comparison, full=full)
    return render_compare_text(comparison, full=full)
