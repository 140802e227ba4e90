"""kill -9 during apply, right after a vendor write landed and before the journal recorded its outcome;
the next apply of the same plan resolves that write by reading back, converges, and repeats no write."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.apply import run as apply
from reconciler.apply.journal import Journal
from reconciler.core.plan import RunOptions
from reconciler.engine.workspace import load_workspace, make_plan
from reconciler.planfile.file import load_plan, save_plan
from tests.support.e2e import WRITE_ACTIONS, assert_no_write_twice, open_store

pytestmark = pytest.mark.slow  # crash, soak or benchmark-shaped: -m 'not slow' skips it

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)

CRASHING_APPLY = """
import datetime as dt, os, signal, sys
from pathlib import Path
from reconciler.engine import workspace
from reconciler.apply import run as apply
from reconciler.planfile.file import load_plan


root, plan_file, survive = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
real_build = workspace.build_provider

def build_then_crash(*args, **kwargs):
    provider, close = real_build(*args, **kwargs)
    vendor_write, writes = provider.write, [0]
    def write(batch):
        outcomes = vendor_write(batch)
        writes[0] += 1
        if writes[0] > survive:
            os.kill(os.getpid(), signal.SIGKILL)  # the vendor has the change; the journal never hears of it
        return outcomes
    provider.write = write
    return provider, close

workspace.build_provider = build_then_crash
opened = workspace.load_workspace(root, {})
apply.run(load_plan(plan_file), opened.providers, root / ".enrollctl" / "journal",
           now=dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC), manifest_digest=opened.digest)
"""


def _successful_writes(root: Path) -> int:
    store = open_store(root)
    try:
        return sum(1 for e in store.request_log() if e.action in WRITE_ACTIONS and 200 <= e.status < 300)
    finally:
        store.close()


@pytest.mark.parametrize("survive", [0, 3])
def test_apply_killed_mid_write_resumes_without_repeating_a_write(quickstart: Path, survive: int) -> None:
    plan, opened = make_plan(quickstart, now=NOW, options=RunOptions(), env={})
    opened.close()
    plan_file = quickstart / "plan.json"
    save_plan(plan, plan_file)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_APPLY, str(quickstart), str(plan_file), str(survive)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    journals = list((quickstart / ".enrollctl" / "journal").glob("*.jsonl"))
    assert len(journals) == 1
    assert Journal(journals[0]).read().in_flight, "the last batch was sent but has no outcome"
    resumed = load_workspace(quickstart, {})
    try:
        result = apply.run(
            load_plan(plan_file),
            resumed.providers,
            quickstart / ".enrollctl" / "journal",
            now=NOW,
            manifest_digest=resumed.digest,
        )
    finally:
        resumed.close()
    assert result.failed == 0
    # with several writes in flight at the kill, the resume may group what is left into fewer calls
    assert _successful_writes(quickstart) <= plan.providers[0].summary.estimated_calls
    assert_no_write_twice(quickstart, plan)
    again, opened = make_plan(quickstart, now=NOW, options=RunOptions(), env={})
    opened.close()
    assert not again.has_changes
