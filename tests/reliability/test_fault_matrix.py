"""The fault matrix: apply against each vendor's emulator over loopback HTTP, one fault (or a mix) per case.

The contract every case checks:
- the run under faults either succeeds, or ends with ApplyFailed / ProviderError (never anything else);
  cases whose faults are all retryable or resolvable must succeed on their own (`must_succeed`);
- the journal tells the truth after that run: nothing it records as done is missing from the LMS, nothing
  it records as failed is there;
- once the faults stop, applying the same plan again succeeds, the journal still tells the truth, and a new
  plan is empty (nothing lost);
- no write reached the LMS twice for one (user, item): a write whose answer was lost is resolved by reading
  back, never by sending it again (checked on every request that got past the faults);
- nothing was added or removed that the plan did not ask for, and no pair is held twice;
- the fault actually happened (the request log has the evidence).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.basis import confirmed
from reconciler.core.plan import Plan
from reconciler.errors import ApplyFailed, ProviderError
from reconciler.sandbox.ispring.app import DEFAULT_TOKEN_TTL
from reconciler.transport.http import MALFORMED_READ_ATTEMPTS
from tests.support.clocks import first_continuation_of_each_listing, first_use_of_each_call
from tests.support.harness import (
    Lab,
    RunRecord,
    journal_lies,
    new_lab,
    repeated_writes,
    write_counts,
    wrong_changes,
)

pytestmark = pytest.mark.slow  # crash, soak or benchmark-shaped: -m 'not slow' skips it


ISPRING_WRITES = {"EnrollLearnersInCourses": 0.5, "ChangeEnrollment": 0.5, "Unenroll": 0.5}
ISPRING_READS = {"Get*": 0.3, "List*": 0.3}
LITMOS_WRITES = {"POST /users/*/courses": 0.5, "POST /users/*/learningpaths": 0.5, "DELETE /users/*": 0.5}
LITMOS_READS = {"GET *": 0.3}
SLOW_MS = 600.0
# seconds; a slow answer (SLOW_MS) always misses it, a normal one (a few ms) never does; each slow answer
# costs the run this long in real time
SHORT_TIMEOUT = 0.2


@dataclass(frozen=True)
class Case:
    """One row of the matrix."""

    name: str
    vendor: str
    faults: dict[str, Any]
    evidence: str  # text some request-log detail must contain: proof the fault happened
    must_succeed: bool = False  # only retryable / read-back-resolvable faults: the first run converges
    options: dict[str, Any] = field(default_factory=dict)
    waits: tuple[float, ...] = ()  # Retry-After values the client must have waited (on its fake clock)


def _cases() -> list[Case]:
    cases: list[Case] = []
    for vendor, writes, reads in (
        ("ispring", ISPRING_WRITES, ISPRING_READS),
        ("litmos", LITMOS_WRITES, LITMOS_READS),
    ):
        slow = {"timeout": SHORT_TIMEOUT}
        cases += [
            Case(  # the burst's default Retry-After is 1 s
                "503-burst-retry-after",
                vendor,
                {"burst": {"every": 4, "length": 2}},
                "status 503",
                True,
                waits=(1,),
            ),
            Case(
                "429-burst-no-retry-after",
                vendor,
                {"burst": {"every": 5, "length": 2, "status": 429, "retry_after": None}},
                "status 429",
                True,
            ),
            Case("500-on-reads", vendor, {"seed": 1, "error_rates": reads}, "status 500", True),
            Case("500-on-writes", vendor, {"seed": 2, "error_rates": writes}, "status 500"),
            Case(
                "read-timeouts",
                vendor,
                {"seed": 3, "slow_rates": {k: 0.15 for k in reads}, "slow_ms": SLOW_MS},
                "slow answer",
                True,
                slow,
            ),
            Case(
                "write-timeouts-after-commit",
                vendor,
                {"seed": 4, "slow_rates": {k: 0.3 for k in writes}, "slow_ms": SLOW_MS},
                "slow answer",
                True,
                slow,
            ),
            Case("drops-before-commit", vendor, {"seed": 5, "drop_rates": writes}, "dropped before the app"),
            Case(
                "drops-after-commit",
                vendor,
                {"seed": 6, "drop_after_commit_rates": writes},
                "dropped after the app",
                True,
            ),
            Case("drops-on-any-call", vendor, {"seed": 7, "drop_rate": 0.15}, "dropped before the app"),
            Case("truncated-bodies", vendor, {"seed": 8, "truncate_rate": 0.2}, "truncated body"),
            Case(  # reads are idempotent: a garbled answer is read again, 4 sends at most; every read
                # is garbled on its first 3 sends, so each one needs all 4 (no seed: the same on every run)
                "malformed-read-answers",
                vendor,
                {"malformed_streaks": {k: MALFORMED_READ_ATTEMPTS - 1 for k in reads}},
                "malformed body",
                True,
            ),
            Case(
                "malformed-write-answers",
                vendor,
                {"seed": 12, "malformed_rates": writes},
                "malformed body",
                vendor == "ispring",  # Litmos never parses an assign's answer: nothing to resolve
            ),
            Case(
                "mixed",
                vendor,
                {
                    "seed": 10,
                    "burst": {"every": 7, "length": 1, "status": 503, "retry_after": 1},
                    "error_rates": {**{k: 0.15 for k in reads}, **{k: 0.2 for k in writes}},
                    "drop_rates": {k: 0.2 for k in writes},
                    "drop_after_commit_rates": {k: 0.3 for k in writes},
                    "slow_rates": {k: 0.2 for k in writes},
                    "slow_ms": SLOW_MS,
                    "truncate_rate": 0.05,
                },
                "dropped after the app",
                False,
                slow,
                waits=(1,),
            ),
        ]
    cases += [
        Case(  # the LMS's clock passes the page tokens' lifetime just before each listing's second page
            "expired-page-tokens",
            "ispring",
            {"page_token_ttl_seconds": 30},
            "pageToken expired",
            True,
            {"page_size": 5, "clock_jump_seconds": 60, "clock_jump_on": first_continuation_of_each_listing},
        ),
        Case(  # the access token's lifetime passes just before each call is first made, reads and writes
            "token-expiry-mid-run",
            "ispring",
            {},
            "token expired",
            True,
            {"clock_jump_seconds": DEFAULT_TOKEN_TTL, "clock_jump_on": first_use_of_each_call},
        ),
        Case(
            "rate-limit-503",
            "litmos",
            {"rate_limit_per_minute": 8},
            "rate limited by the app",
            True,
        ),
        Case(
            "rate-limit-429",
            "litmos",
            {"rate_limit_per_minute": 8, "rate_limit_status": 429},
            "rate limited by the app",
            True,
        ),
    ]
    return cases


CASES = _cases()
SUCCEEDING = [c for c in CASES if c.must_succeed]
MAY_FAIL = [c for c in CASES if not c.must_succeed]


@pytest.mark.parametrize("case", SUCCEEDING, ids=[f"{c.vendor}-{c.name}" for c in SUCCEEDING])
def test_apply_under_resolvable_fault_succeeds_at_once_without_lost_or_doubled_enrollments(
    case: Case, tmp_path: Path
) -> None:
    with _lab(case, tmp_path) as lab:
        plan = lab.plan()  # planned on a good day; the apply meets the bad one
        first = _apply_under_fault(lab, plan)
        assert first.error is None, f"{case.name}: the first run failed: {first.error}"
        _assert_converged_honestly(case, lab, plan, first)


@pytest.mark.parametrize("case", MAY_FAIL, ids=[f"{c.vendor}-{c.name}" for c in MAY_FAIL])
def test_apply_under_fault_converges_without_lost_or_doubled_enrollments(case: Case, tmp_path: Path) -> None:
    with _lab(case, tmp_path) as lab:
        plan = lab.plan()  # planned on a good day; the apply meets the bad one
        first = _apply_under_fault(lab, plan)
        assert first.error is None or isinstance(first.error, ApplyFailed | ProviderError), first.error
        _assert_converged_honestly(case, lab, plan, first)


@contextmanager
def _lab(case: Case, tmp_path: Path) -> Iterator[Lab]:
    lab = new_lab(case.vendor, tmp_path / case.vendor, case.faults, **case.options)
    try:
        lab.heal()
        yield lab
    finally:
        lab.close()


def _apply_under_fault(lab: Lab, plan: Plan) -> RunRecord:
    assert plan.has_changes
    lab.switch.app = lab.faulty
    first = lab.apply(plan)
    assert journal_lies(lab, plan) == []
    return first


def _assert_converged_honestly(case: Case, lab: Lab, plan: Plan, first: RunRecord) -> None:
    """Once the faults stop the plan applies; nothing lost, doubled or unplanned; the fault happened."""
    lab.heal()
    second = lab.apply(plan)
    assert second.error is None, f"the re-run failed: {second.error}"
    held = lab.held(plan)  # what the LMS holds now, read once for both checks below
    assert journal_lies(lab, plan, held) == []
    assert not lab.plan().has_changes

    assert repeated_writes(lab) == {}
    assert wrong_changes(lab, plan) == []
    caps = lab.capabilities()
    lost = [a.id for a in plan.actions if not confirmed(a, held.get((a.user_id, a.item_id)), caps)]
    assert lost == []

    assert set(case.waits) <= set(lab.time.slept), f"Retry-After was not honoured: {lab.time.slept}"
    evidence = lab.injected()
    assert evidence[case.evidence] > 0, f"the fault never happened: {case.evidence!r} ({evidence})"
    outcome = type(first.error).__name__ if first.error else "ok"
    print(
        f"FAULTS {case.vendor:8} {case.name:28} actions={len(plan.actions):3} runs={len(lab.runs)} "
        f"first={outcome:17} injected={sum(evidence.values()):3} writes={dict(write_counts(lab))} "
        "repeated=0 lost=0"
    )
