"""Random fault mixes (seeded), applied again and again while the faults go on: each run leaves a truthful
journal, the runs never send a write twice, and once the faults stop the plan converges.

The matrix (test_fault_matrix.py) isolates each fault; this resumes *under* continuing faults, so a run
starts from a journal that earlier faulty runs left with unknown outcomes in it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.plan import Plan
from reconciler.errors import ApplyFailed, ProviderError
from tests.support.harness import Lab, journal_lies, new_lab, repeated_writes, wrong_changes

pytestmark = pytest.mark.slow  # crash, soak or benchmark-shaped: -m 'not slow' skips it

WRITES = {
    "ispring": ["EnrollLearnersInCourses", "ChangeEnrollment", "Unenroll"],
    "litmos": ["POST /users/*/courses", "POST /users/*/learningpaths", "DELETE /users/*"],
}
READS = {"ispring": ["Get*", "List*", "token"], "litmos": ["GET *", "POST /users/courses"]}
FAULTY_RUNS = 3
SEEDS = (101, 107, 110)


def random_mix(vendor: str, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fault switches and lab options drawn from `seed`."""
    rng = random.Random(seed)
    writes, reads = WRITES[vendor], READS[vendor]
    faults: dict[str, Any] = {
        "seed": seed,
        "error_rates": {k: rng.choice([0, 0.1, 0.3]) for k in writes + reads},
        "drop_rates": {k: rng.choice([0, 0.2, 0.5]) for k in writes},
        "drop_after_commit_rates": {k: rng.choice([0, 0.3, 0.6]) for k in writes},
        "malformed_rates": {k: rng.choice([0, 0.3]) for k in writes},
        "drop_rate": rng.choice([0, 0.05]),
        "truncate_rate": rng.choice([0, 0.05]),
        "burst": rng.choice(
            [None, {"every": 5, "length": 1, "status": 429, "retry_after": None}, {"every": 3, "length": 1}]
        ),
    }
    options: dict[str, Any] = {}
    if vendor == "ispring" and rng.random() < 0.5:
        faults["page_token_ttl_seconds"] = 30
        options = {"page_size": 5, "clock_jump_seconds": 60, "clock_jump_rate": 0.005}
    return faults, options


@pytest.mark.parametrize("vendor", ["ispring", "litmos"])
@pytest.mark.parametrize("seed", SEEDS)
def test_repeated_applies_under_random_faults_never_lie_or_double(
    vendor: str, seed: int, tmp_path: Path
) -> None:
    faults, options = random_mix(vendor, seed)
    lab = new_lab(vendor, tmp_path / vendor, faults, **options)
    try:
        lab.heal()
        plan = lab.plan()
        lab.switch.app = lab.faulty
        # up to FAULTY_RUNS applies under the faults, each checked; any() stops at the first that succeeds
        any(_faulty_run_succeeds(lab, plan) for _ in range(FAULTY_RUNS))
        lab.heal()
        assert lab.apply(plan).error is None
        assert journal_lies(lab, plan) == []
        assert not lab.plan().has_changes
        assert repeated_writes(lab) == {}
        assert wrong_changes(lab, plan) == []
        injected = lab.injected()
        print(
            f"SOAK {vendor:8} seed {seed}: {len(lab.runs)} runs, {sum(injected.values())} faults",
            dict(injected),
        )
    finally:
        lab.close()


def _faulty_run_succeeds(lab: Lab, plan: Plan) -> bool:
    """Apply under the faults: it fails only as the contract allows, the journal tells the truth, and no
    write reached the LMS twice; whether the run succeeded."""
    run = lab.apply(plan)
    assert run.error is None or isinstance(run.error, ApplyFailed | ProviderError)
    assert journal_lies(lab, plan) == []
    assert repeated_writes(lab) == {}
    return run.error is None
