"""Golden files: compare rendered output with a reviewed file under tests/golden/, or rewrite it.

Run `pytest --update-golden` to rewrite the files after an intended change, then review them in the diff.
Use the `golden` fixture (`golden("plans/small.txt", text)`) or call `assert_golden` directly.
"""

from __future__ import annotations

import difflib

from tests.support.paths import TESTS

GOLDEN_DIR = TESTS / "golden"


def assert_golden(name: str, text: str, update: bool) -> None:
    """Assert `text` equals tests/golden/<name>; with `update`, write it there instead."""
    path = GOLDEN_DIR / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    if not path.exists():
        raise AssertionError(f"golden file {path} is missing; run pytest --update-golden to create it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="rendered",
            )
        )
        raise AssertionError(
            f"output differs from golden/{name} (pytest --update-golden rewrites it):\n{diff}"
        )
