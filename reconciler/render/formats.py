"""The plan in the format asked for: `plan --format`, `show --format` and apply's preview."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.plan import Plan
from reconciler.render.json import render_json

FORMATS = ("text", "markdown", "json")


def render_plan(
    plan: Plan,
    fmt: str,
    *,
    color: bool = False,
    full: bool = False,
    verbose: bool = False,
    saved: Path | None = None,
) -> str:
    """The plan in one of FORMATS; `saved` is the file the plan is saved in (a refused plan's approval
    command names it), `color`, `full` and `verbose` are for text."""
    if fmt == "json":
        return render_json(plan)
    plan_file = None if saved is None else str(saved)
    if fmt == "markdown":
        from reconciler.render.markdown import render_markdown

        return render_markdown(plan, plan_file=plan_file)
    from reconciler.render.text import render_text

    return render_text(plan, color=color, full=full, verbose=verbose, plan_file=plan_file)
