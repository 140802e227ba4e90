"""Crash and resume: `enrollctl apply plan.json` killed with SIGKILL at seeded points, then run again.

The apply runs as a real process (`python -m reconciler`) on a copy of the quickstart, whose sandbox keeps
its state in `.enrollctl/`, so what the killed process wrote survives it. Every request is slowed a little
(`ENROLLCTL_SANDBOX_FAULTS`), so the kill lands mid-run: we wait for N journal lines, then kill. After the
resume: the exit code is 0, a new plan is empty, the journal records every action as done (and the LMS
agrees), and the request log shows no write sent twice for one enrollment. Two applies of one repository
never interleave: the second is refused with LockHeld naming the first's pid; a dead holder's lock is taken
over.

Only what must be a separate process is one: the apply that is killed, and the second of two concurrent
applies. Planning the template, resuming and re-planning run the same CLI in-process (`CliRunner`), which
spares an interpreter start-up each and reads and writes the same repository.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.apply.basis import confirmed
from reconciler.apply.journal import Journal, JournalState
from reconciler.cli.app import main
from reconciler.core.plan import ActionKind, Plan
from reconciler.engine.build import sandbox_db_path
from reconciler.engine.workspace import load_workspace
from reconciler.planfile.file import load_plan
from reconciler.sandbox.serve import open_sandbox
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow  # crash, soak or benchmark-shaped: -m 'not slow' skips it

EXAMPLES = ROOT / "examples"
LITMOS_WRITE = re.compile(r"^(POST /users/[^/]+/(courses|learningpaths)|DELETE /users/.+)$")
FIXED_NOW = "2026-11-25T12:00:00+00:00"
SEED = 20261125
KILL_POINTS = 6  # scenarios killed after N journal lines (N drawn with SEED), plus one killed before any
LATENCY_MS = 25  # per request: a run takes about a second, so there is time to kill it anywhere


def _env(faults: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "ENROLLCTL_NOW": FIXED_NOW, "NO_COLOR": "1"}
    env.pop("ENROLLCTL_SANDBOX_FAULTS", None)
    if faults is not None:
        env["ENROLLCTL_SANDBOX_FAULTS"] = str(faults)
    return env


def _enrollctl(root: Path, *args: str, faults: Path | None = None) -> Result:
    """The CLI in this process, with the environment a separate process would get."""
    env = {"ENROLLCTL_NOW": FIXED_NOW, "NO_COLOR": "1", "ENROLLCTL_SANDBOX_FAULTS": faults and str(faults)}
    return CliRunner().invoke(main, ["-C", str(root), *args], env=env)


def _enrollctl_process(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a separate process (a second apply must not share this process's locks)."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(root), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _start_apply(root: Path, faults: Path | None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(root), "apply", str(root / "plan.json")],
        env=_env(faults),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _journal_lines(root: Path) -> int:
    journals = list((root / ".enrollctl" / "journal").glob("*.jsonl"))
    return sum(len(p.read_bytes().splitlines()) for p in journals)


def _wait_for(condition: object, process: subprocess.Popen[str], timeout: float = 60.0) -> bool:
    """Poll `condition()` until true (True) or the process ended first (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.002)
    raise AssertionError("the apply neither reached the kill point nor ended")


@dataclass(frozen=True)
class Template:
    """A planned example (plan.json, seeded sandbox); the journal lines and write calls of a whole run."""

    root: Path
    plan: Plan
    journal_lines: int
    write_calls: int
    faults: Path


def _template(base: Path, example: str) -> Template:
    faults = base / "faults.yaml"
    faults.write_text(f"latency_ms: {LATENCY_MS}\n", encoding="utf-8")
    root = base / "template"
    shutil.copytree(EXAMPLES / example, root, ignore=shutil.ignore_patterns(".enrollctl"))
    planned = _enrollctl(root, "plan", "--out", str(root / "plan.json"))
    assert planned.exit_code == 0, planned.output
    measure = _copy(root, base / "measure")
    # a whole run's journal lines and write calls do not depend on the latency: measured without it
    whole = _enrollctl(measure, "apply", str(measure / "plan.json"))
    assert whole.exit_code == 0, whole.output
    plan = load_plan(root / "plan.json")
    return Template(root, plan, _journal_lines(measure), len(_write_calls(measure)), faults)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The quickstart (iSpring)."""
    return _template(tmp_path_factory.mktemp("crash"), "quickstart")


@pytest.fixture(scope="module")
def litmos_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The Litmos example."""
    return _template(tmp_path_factory.mktemp("crash-litmos"), "litmos")


def _copy(template_root: Path, target: Path) -> Path:
    shutil.copytree(template_root, target)
    return target


def _kill_points() -> list[tuple[float, float]]:
    """Seeded (share of a whole run's journal, extra delay in seconds): where in the run to kill."""
    rng = random.Random(SEED)
    return [(rng.random(), rng.uniform(0.0, 0.03)) for _ in range(KILL_POINTS)]


def _kill_after(root: Path, faults: Path, lines: int, delay: float = 0.0) -> int:
    """Start `apply plan.json`, SIGKILL it `delay` seconds after the journal has `lines` lines (0: after it
    took the lock, so it is reading the LMS)."""
    holder = root / ".enrollctl" / "apply.lock.holder"
    holder.unlink(missing_ok=True)  # a note an earlier killed run left behind
    process = _start_apply(root, faults)
    try:
        reached = _wait_for(lambda: _journal_lines(root) >= lines if lines else holder.exists(), process)
        assert reached, f"the apply ended before {lines} journal lines: {process.communicate()}"
        time.sleep(delay)  # lands the kill anywhere in the call that follows
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    return process.returncode


# --- what must hold after the resume ----------------------------------------------------------------------


_CREATED = re.compile(r"created (\d+), already enrolled (\d+)")
_CHANGED = re.compile(r"changed (\S+):")
_REMOVED = re.compile(r"removed (\S+) ")


def _provider(root: Path) -> str:
    return "academy" if "academy:" in (root / "enrollctl.yaml").read_text(encoding="utf-8") else "lms"


def _write_calls(root: Path) -> list[str]:
    """Write calls the emulator accepted (2xx), oldest first."""
    store = open_sandbox(str(root / "sandbox.yaml"), str(sandbox_db_path(root, _provider(root))))
    try:
        if _provider(root) == "academy":
            return [e.action for e in store.request_log() if e.status < 300 and LITMOS_WRITE.match(e.action)]
        writes = ("EnrollLearnersInCourses", "ChangeEnrollment", "Unenroll")
        return [e.action for e in store.request_log() if e.status < 300 and e.action in writes]
    finally:
        store.close()


def write_census(root: Path) -> tuple[int, int, Counter[str], Counter[str]]:
    """From the sandbox request log: enrollments created, re-enrollments, changes and removals per id."""
    store = open_sandbox(str(root / "sandbox.yaml"), str(sandbox_db_path(root, "lms")))
    try:
        created = already = 0
        changed: Counter[str] = Counter()
        removed: Counter[str] = Counter()
        for entry in store.request_log():
            if not 200 <= entry.status < 300:  # SOAP answers 200, REST 200, 201 or 204
                continue
            if m := _CREATED.search(entry.detail):
                created, already = created + int(m.group(1)), already + int(m.group(2))
            changed.update(_CHANGED.findall(entry.detail))
            removed.update(_REMOVED.findall(entry.detail))
        return created, already, changed, removed
    finally:
        store.close()


def assert_converged_once(root: Path, plan: Plan, template: Template | None = None) -> None:
    """A new plan is empty, the journal is truthful and complete, and no write happened twice."""
    again = _enrollctl(root, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    _assert_journal_truthful(root, plan)
    if _provider(root) == "academy":
        # Litmos batches per user and kind, so a resumed run makes exactly the calls a whole run makes
        # (a batch whose answer was lost is read back, not sent again)
        assert template is not None
        assert len(_write_calls(root)) == template.write_calls
        return
    kinds = Counter(a.kind for a in plan.actions)
    created, already, changed, removed = write_census(root)
    assert already == 0, "an enrollment was sent again after it had been made"
    assert created == kinds[ActionKind.ADD]
    assert all(n == 1 for n in changed.values()) and len(changed) == kinds[ActionKind.UPDATE]
    assert all(n == 1 for n in removed.values()) and len(removed) == kinds[ActionKind.REMOVE]


def _assert_journal_truthful(root: Path, plan: Plan) -> None:
    journal = next((root / ".enrollctl" / "journal").glob("*.jsonl"))
    state = Journal(journal).read()
    for line in journal.read_text(encoding="utf-8").splitlines():
        json.loads(line)  # one os.write per record batch: a kill never leaves half a line behind
    workspace = load_workspace(root, {})
    try:
        provider = workspace.providers[_provider(root)]
        directory = provider.read_directory()
        items = frozenset(a.item_id for a in plan.actions)
        held = {e.key: e for e in provider.read_enrollments(directory, items)}
        for action in plan.actions:
            assert state.settled(action.id), f"{action.id} is not recorded as done"
            assert confirmed(action, held.get((action.user_id, action.item_id)), provider.capabilities)
    finally:
        workspace.close()


# --- the tests ----------------------------------------------------------------------------------------------


def _assert_resumes_once(root: Path, template: Template) -> None:
    """The killed run left the repository mid-plan; applying the same plan again converges, nothing twice."""
    left = _journal_state(root)
    print(
        f"CRASH ispring killed after {_journal_lines(root):2} of {template.journal_lines} journal lines: "
        f"{sum(map(left.settled, _ids(template))):2} actions done, "
        f"{sum(map(left.unknown, _ids(template))):2} in flight (outcome unknown)"
    )
    resumed = _enrollctl(root, "apply", str(root / "plan.json"))
    assert resumed.exit_code == 0, resumed.output
    assert_converged_once(root, template.plan)


def test_apply_killed_while_still_reading_resumes_without_duplicates(
    template: Template, tmp_path: Path
) -> None:
    root = _copy(template.root, tmp_path / "repo")
    # the lock is taken before the plan's reads, which at LATENCY_MS a call outlast the delay by far
    status = _kill_after(root, template.faults, 0, delay=0.05)
    assert status == -signal.SIGKILL, "the apply ended before it was killed"
    assert _journal_lines(root) == 0, "the kill was meant to land before the first journal line"
    _assert_resumes_once(root, template)


@pytest.mark.parametrize("point", _kill_points(), ids=lambda p: f"at-{p[0]:.0%}-of-run")
def test_apply_killed_mid_run_resumes_without_duplicates(
    template: Template, tmp_path: Path, point: tuple[float, float]
) -> None:
    root = _copy(template.root, tmp_path / "repo")
    share, delay = point
    status = _kill_after(root, template.faults, max(1, int(share * template.journal_lines)), delay)
    assert status == -signal.SIGKILL, "the apply ended before it was killed"
    _assert_resumes_once(root, template)


def test_apply_killed_again_and_again_still_converges(template: Template, tmp_path: Path) -> None:
    root = _copy(template.root, tmp_path / "repo")
    rng = random.Random(SEED + 1)
    for _ in range(3):
        point = _journal_lines(root) + rng.randint(2, 8)
        assert _kill_after(root, template.faults, point) == -signal.SIGKILL
    resumed = _enrollctl(root, "apply", str(root / "plan.json"))
    assert resumed.exit_code == 0, resumed.output
    assert_converged_once(root, template.plan)


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="pausing a process (SIGSTOP) is POSIX")
def test_second_concurrent_apply_is_refused_and_never_interleaves(template: Template, tmp_path: Path) -> None:
    root = _copy(template.root, tmp_path / "repo")
    first = _start_apply(root, template.faults)
    try:
        assert _wait_for(lambda: _journal_lines(root) >= 1, first), "the first apply ended too early"
        # paused mid-run, holding the lock, for as long as the second takes to start (however slow the
        # machine): no latency has to be long enough to outlast it
        os.kill(first.pid, signal.SIGSTOP)
        assert os.WIFSTOPPED(os.waitpid(first.pid, os.WUNTRACED)[1])
        lines_when_paused = _journal_lines(root)
        second = _enrollctl_process(root, "apply", str(root / "plan.json"))
        lines_when_refused = _journal_lines(root)
    finally:
        os.kill(first.pid, signal.SIGCONT)
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert second.returncode == 1
    assert "another apply" in second.stderr and f"pid {first.pid}" in second.stderr, second.stderr
    assert 1 <= lines_when_paused < template.journal_lines, "the first apply was not mid-run"
    assert lines_when_refused == lines_when_paused, "the refused apply wrote to the journal"
    runs = [json.loads(x) for x in _journal_text(root).splitlines() if '"event": "run"' in x]
    assert len(runs) == 1, "only the first apply ever wrote to the journal"
    assert_converged_once(root, template.plan)


def test_lock_left_by_a_killed_apply_is_taken_over(template: Template, tmp_path: Path) -> None:
    root = _copy(template.root, tmp_path / "repo")
    assert _kill_after(root, template.faults, 3) == -signal.SIGKILL
    holder = json.loads((root / ".enrollctl" / "apply.lock.holder").read_text())
    assert isinstance(holder["pid"], int), "the killed apply's holder note is left behind"
    resumed = _enrollctl(root, "apply", str(root / "plan.json"))
    assert resumed.exit_code == 0, resumed.output
    assert_converged_once(root, template.plan)


def test_a_holder_note_left_behind_does_not_block(template: Template, tmp_path: Path) -> None:
    # Whatever pid the note names (dead, or reused by an unrelated live process such as this test's parent),
    # only the OS lock counts: a note without a lock holder never blocks.
    root = _copy(template.root, tmp_path / "repo")
    live = os.getppid()  # alive for the whole test, and not the process that applies
    note = {"pid": live, "host": "elsewhere", "started": "2026-01-01T00:00:00+00:00"}
    (root / ".enrollctl" / "apply.lock.holder").write_text(json.dumps(note), encoding="utf-8")
    (root / ".enrollctl" / "apply.lock").write_text(f"{live}\n", encoding="utf-8")
    applied = _enrollctl(root, "apply", str(root / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert_converged_once(root, template.plan)


def _journal_text(root: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in _journals(root))


def _journals(root: Path) -> Iterator[Path]:
    yield from (root / ".enrollctl" / "journal").glob("*.jsonl")


def _journal_state(root: Path) -> JournalState:
    journals = list(_journals(root))
    return Journal(journals[0]).read() if journals else Journal(root / "none.jsonl").read()


def _ids(template: Template) -> list[str]:
    return [a.id for a in template.plan.actions]


@pytest.mark.parametrize("share", [0.1, 0.45, 0.8], ids=lambda x: f"at-{x:.0%}-of-run")
def test_litmos_apply_killed_mid_run_resumes_without_duplicates(
    litmos_template: Template, tmp_path: Path, share: float
) -> None:
    root = _copy(litmos_template.root, tmp_path / "repo")
    lines = max(1, int(share * litmos_template.journal_lines))
    assert _kill_after(root, litmos_template.faults, lines, 0.01) == -signal.SIGKILL
    left = _journal_state(root)
    print(
        f"CRASH litmos killed after {_journal_lines(root):2} of {litmos_template.journal_lines} lines: "
        f"{sum(map(left.settled, _ids(litmos_template))):2} actions done, "
        f"{sum(map(left.unknown, _ids(litmos_template))):2} in flight (outcome unknown)"
    )
    resumed = _enrollctl(root, "apply", str(root / "plan.json"))
    assert resumed.exit_code == 0, resumed.output
    assert_converged_once(root, litmos_template.plan, litmos_template)
