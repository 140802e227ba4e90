"""Plan at scale: 10,000 users x 100,000 enrollments on the in-process iSpring sandbox, phase by phase.

The organisation holds every user in each of 10 courses (100,000 enrollments); three policies manage all
ten courses, so the plan reads, expands and diffs all 100,000. By default the LMS is in the steady state a
nightly run meets: the held terms are what the policies ask, except 1 % drifted (lock switched). With
`--drift` the terms are the sandbox generator's random ones (about 40 % of the plan are updates: the cost
of a first run, dominated by rendering tens of thousands of actions). Prints read / expand / diff / render
seconds (median of the repetitions) and the share of diff + render in the total.

    python benchmarks/plan_bench.py            # 10,000 users, 3 repetitions
    python benchmarks/plan_bench.py --drift    # random held terms: a first run with ~40 % updates
    python benchmarks/plan_bench.py --quick    # 500 users, once (CI: checks it runs, no thresholds)
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

from reconciler.core.plan import RunOptions
from reconciler.engine.build import sandbox_db_path
from reconciler.engine.workspace import make_plan
from reconciler.render.json import render_json
from reconciler.render.text import render_text
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.spec import EnrollmentSpec, department_paths
from reconciler.sandbox.org.yaml import dump_org_json
from reconciler.sandbox.serve import open_sandbox

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
COURSES = 10
PHASES = ("read", "expand", "diff", "render")


def write_repository(root: Path, users: int, *, drift: bool) -> int:
    """A repository whose policies manage every enrollment of the organisation; returns how many."""
    org = generate_org(
        users,
        departments=max(5, users // 100),
        groups=10,
        courses=COURSES,
        learning_paths=0,
        enrollments_per_user=COURSES,
        seed=11,
    )
    titles = [c.title for c in org.courses]
    if not drift:
        place = {t: n for n, t in enumerate(titles)}
        steady = (_steady(e, place[e.item], n) for n, e in enumerate(org.enrollments))
        org = replace(org, enrollments=tuple(steady))
    (root / "policies").mkdir(parents=True)
    (root / "sandbox.json").write_text(dump_org_json(org), encoding="utf-8")
    config = {
        "version": 1,
        "policies": ["policies"],
        "providers": {"lms": {"kind": "ispring", "sandbox": "sandbox.json"}},
        "settings": {"max_removals": 1_000_000, "max_removal_share": 1.0},
    }
    (root / "enrollctl.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    paths = department_paths(org.departments)
    policies = [
        _policy("baseline", {"everyone": True}, [{"course": t} for t in titles[:6]]),
        _policy("compliance", {"everyone": True}, [{"course": t, "due": "2026-12-31"} for t in titles[6:8]]),
        _policy(
            "department",
            {"departments": [paths[0]]},
            [{"course": t, "due": {"within": "30d"}} for t in titles[8:]],
            prune=True,
        ),
    ]
    (root / "policies" / "bench.yaml").write_text(
        yaml.safe_dump_all(policies, sort_keys=False), encoding="utf-8"
    )
    open_sandbox(str(root / "sandbox.json"), str(sandbox_db_path(root, "lms"))).close()  # seed, untimed
    return len(org.enrollments)


def _steady(enrollment: EnrollmentSpec, place: int, n: int) -> EnrollmentSpec:
    """The enrollment with the terms the policies ask for its course (the `place`-th); every 100th drifted."""
    lock = n % 100 == 0
    if place < 6:
        return replace(
            enrollment, due_type="default", due_date=None, due_period_hours=None, lock_after_due=lock
        )
    if place < 8:
        due = dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
        return replace(
            enrollment, due_type="due_date", due_date=due, due_period_hours=None, lock_after_due=lock
        )
    return replace(
        enrollment, due_type="due_period", due_date=None, due_period_hours=720, lock_after_due=lock
    )


def _policy(
    name: str, targets: dict[str, object], assign: list[dict[str, object]], *, prune: bool = False
) -> dict[str, object]:
    return {
        "apiVersion": "enrollctl/v1",
        "kind": "Policy",
        "metadata": {"name": name},
        "spec": {"targets": targets, "assign": assign, "prune": prune},
    }


def plan_once(root: Path) -> tuple[dict[str, float], str]:
    """One `plan` (load excluded) and its rendering; the seconds per phase and a one-line summary."""
    timings: dict[str, float] = {}
    plan, workspace = make_plan(root, now=NOW, options=RunOptions(), env={}, timings=timings)
    workspace.close()
    started = time.perf_counter()
    render_text(plan)
    render_json(plan)
    timings["render"] = time.perf_counter() - started
    s = plan.providers[0].summary
    return (
        timings,
        f"+{s.add} ~{s.update} -{s.remove}, kept {s.kept}, unchanged {s.unchanged}, managed {s.managed}",
    )


def measure(users: int, repeats: int, *, drift: bool = False) -> dict[str, float]:
    """Median seconds per phase over `repeats` plans of a `users`-user organisation; prints them."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        held = write_repository(root, users, drift=drift)
        runs = []
        summary = ""
        for _ in range(repeats):
            timings, summary = plan_once(root)
            runs.append(timings)
    median = {p: statistics.median(r.get(p, 0.0) for r in runs) for p in PHASES}
    total = sum(median.values())
    print(f"organisation: {users:,} users, {held:,} enrollments; plan: {summary}")
    print(f"median of {repeats} plan(s):")
    for phase in PHASES:
        print(f"  {phase:<8}{median[phase]:8.3f} s  {median[phase] / total:6.1%}")
    print(f"  {'total':<8}{total:8.3f} s")
    print(f"peak RSS of this process (sandbox emulator included): {high_water_mb():.0f} MB")
    return median


def high_water_mb() -> float:
    """Peak resident memory of this process in MB (Linux VmHWM; elsewhere ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 users, once, no thresholds (CI)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--drift", action="store_true", help="random held terms (a first run)")
    args = parser.parse_args(argv)
    users, repeats = (500, 1) if args.quick else (args.users, args.repeats)
    median = measure(users, repeats, drift=args.drift)
    share = (median["diff"] + median["render"]) / sum(median.values())
    if not args.quick:
        verdict = "MET" if share <= 0.10 else "NOT MET"
        print(f"\nTARGET diff + render <= 10 % of the plan: {share:.1%}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
