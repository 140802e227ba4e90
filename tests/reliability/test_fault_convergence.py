"""Issue 17 item 8: harsh fault profiles, applied again and again while the faults go on, converge.

Each profile applies the same plan up to MAX_RUNS times against a server that keeps failing (the faults
never stop), with concurrency on (the vendors' defaults). After every run the journal tells the truth and
no write has reached the LMS twice; within MAX_RUNS runs the plan is applied, nothing is lost and nothing
unplanned was changed. The dropped-batch profile is the one that never converged before failing batches
were bisected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.basis import confirmed
from reconciler.core.plan import Plan
from tests.support.harness import Lab, journal_lies, new_lab, repeated_writes, wrong_changes

pytestmark = pytest.mark.slow  # crash, soak or benchmark-shaped: -m 'not slow' skips it

MAX_RUNS = 8
PROFILES: dict[str, dict[str, Any]] = {
    "malformed-30": {"seed": 21, "malformed_rates": {"*": 0.3}},
    "http-500-40": {"seed": 22, "error_rates": {"*": 0.4}},
}
DROPPED_WRITES = {
    "ispring": {"EnrollLearnersInCourses": 0.6, "ChangeEnrollment": 0.6, "Unenroll": 0.6},
    "litmos": {"POST /users/*/courses": 0.6, "POST /users/*/learningpaths": 0.6, "DELETE /users/*": 0.6},
}
CASES = [(v, name, faults) for v in ("ispring", "litmos") for name, faults in PROFILES.items()] + [
    (v, "dropped-writes-60", {"seed": 23, "drop_rates": DROPPED_WRITES[v]}) for v in ("ispring", "litmos")
]


@pytest.mark.parametrize(("vendor", "name", "faults"), CASES, ids=[f"{v}-{n}" for v, n, _ in CASES])
def test_profile_converges_within_eight_runs_under_continuing_faults(
    vendor: str, name: str, faults: dict[str, Any], tmp_path: Path
) -> None:
    lab = new_lab(vendor, tmp_path / vendor, faults)
    try:
        lab.heal()
        plan = lab.plan()
        # any() stops at the first run after which the plan is done
        converged = any(_run_under_faults_converges(lab, plan, run) for run in range(1, MAX_RUNS + 1))
        assert converged, f"{name}: not converged after {MAX_RUNS} runs: {lab.runs[-1].error}"
        runs = len(lab.runs)
        held = lab.held(plan)
        caps = lab.capabilities()
        lost = [a.id for a in plan.actions if not confirmed(a, held.get((a.user_id, a.item_id)), caps)]
        assert lost == []
        assert wrong_changes(lab, plan) == []
        print(
            f"CONVERGE {vendor:8} {name:18} actions={len(plan.actions):3} runs={runs} "
            f"injected={sum(lab.injected().values()):3} lost=0 repeated=0"
        )
    finally:
        lab.close()


def _run_under_faults_converges(lab: Lab, plan: Plan, run: int) -> bool:
    """One apply while the faults go on: the journal tells the truth and no write reached the LMS twice;
    whether it succeeded and, the faults stopped, a new plan is empty."""
    lab.switch.app = lab.faulty
    record = lab.apply(plan)
    assert journal_lies(lab, plan) == [], f"run {run}"
    assert repeated_writes(lab) == {}, f"run {run}"
    lab.heal()
    return record.error is None and not lab.plan().has_changes
