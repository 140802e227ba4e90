"""Helpers for end-to-end tests: a copy of an example repository, the CLI, and the sandbox's request log."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli.app import main
from reconciler.core.plan import ActionKind, Plan
from reconciler.engine.build import sandbox_db_path
from reconciler.sandbox.serve import open_sandbox
from reconciler.sandbox.store.database import Store
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"
FIXED_NOW = "2026-11-25T12:00:00+00:00"
WRITE_ACTIONS = frozenset({"EnrollLearnersInCourses", "ChangeEnrollment", "Unenroll"})


def copy_example(name: str, target: Path) -> Path:
    """A fresh copy of examples/<name> without any sandbox state."""
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".enrollctl"))
    return target


def enrollctl(root: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """Run the CLI on the repository at `root` with the clock pinned."""
    runner = CliRunner()
    return runner.invoke(
        main, ["-C", str(root), *args], env={"ENROLLCTL_NOW": FIXED_NOW, **(env or {})}, input=input
    )


def open_store(root: Path, provider: str = "lms", org: str = "sandbox.yaml") -> Store:
    """The sandbox state of a repository, as the CLI leaves it (seeded on first open)."""
    return open_sandbox(str(root / org), str(sandbox_db_path(root, provider)))


def write_calls(store: Store, actions: Sequence[str] = tuple(WRITE_ACTIONS)) -> list[str]:
    """The write calls the emulator answered, oldest first."""
    return [e.action for e in store.request_log() if e.action in actions]


_CREATED = re.compile(r"created (\d+), already enrolled (\d+)")
_CHANGED = re.compile(r"changed (\S+):")
_REMOVED = re.compile(r"removed (\S+) ")


def assert_no_write_twice(root: Path, plan: Plan) -> None:
    """From the sandbox log: every add created once and none re-sent, each change and removal made once."""
    store = open_store(root)
    try:
        created = already = 0
        changed: Counter[str] = Counter()
        removed: Counter[str] = Counter()
        for entry in store.request_log():
            if 200 <= entry.status < 300 and (m := _CREATED.search(entry.detail)):
                created, already = created + int(m.group(1)), already + int(m.group(2))
            if 200 <= entry.status < 300:
                changed.update(_CHANGED.findall(entry.detail))
                removed.update(_REMOVED.findall(entry.detail))
    finally:
        store.close()
    kinds = Counter(a.kind for a in plan.actions)
    assert (created, already) == (kinds[ActionKind.ADD], 0)
    assert sorted(changed.values()) == [1] * kinds[ActionKind.UPDATE]
    assert sorted(removed.values()) == [1] * kinds[ActionKind.REMOVE]
