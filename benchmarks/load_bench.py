"""Reading a saved plan back (`apply FILE`, `show`, `github comment`): `load_plan` against `json.loads`.

A first run's plan file holds one action per enrollment to add and one per enrollment to remove, most with
the enrollment it was computed from. This writes such a plan (3 adds to 2 removals, as a 100,000-user first
run of `scale_bench.py` has them) with `save_plan`, then reads it in a fresh interpreter two ways, each
timed by its own resource usage (CPU = user + system, peak RSS = VmHWM where /proc has it):

- baseline: `json.loads` of the file, the least any reader must do (no schema check, no typed plan);
- enrollctl: `load_plan` (size cap, parse, the plan schema, the typed plan with every id checked).

    python benchmarks/load_bench.py                    # 100,000 and 500,000 actions, median of 3
    python benchmarks/load_bench.py --actions 50000    # one size
    python benchmarks/load_bench.py --quick            # 2,000 actions, once (CI: checks it runs)

Prints figures only; there is no target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from reconciler.core.model import Completion, Due, DueKind, Enrollment, ItemKind, Origin, ProviderKind, Terms
from reconciler.core.plan import Action, ActionKind, Plan, ProviderPlan, Risk, Source, Summary
from reconciler.errors import Position
from reconciler.planfile.file import save_plan

ITEMS = 20
CHILD = """
import json, resource, sys, time
from pathlib import Path
how, path = sys.argv[1], sys.argv[2]
if how == "load_plan":
    from reconciler.planfile.file import load_plan
    read = lambda: load_plan(path)
else:
    read = lambda: json.loads(Path(path).read_text(encoding="utf-8"))
before = resource.getrusage(resource.RUSAGE_SELF)
read()
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
peak = [int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM")]
print(json.dumps({"cpu": cpu, "peak_mb": peak[0] if peak else after.ru_maxrss / 1024}))
"""


def first_run_plan(actions: int) -> Plan:
    """`actions` actions, 3 adds to 2 removals over `ITEMS` items, each removal with its enrollment."""
    due = Terms(due=Due(kind=DueKind.DATE, date=dt.date(2027, 1, 31)), lock_after_due=True)
    sources = [
        (Source(policy=f"p{i}", position=Position(f"policies/p{i}.yaml", 10, 7), rule="everyone"),)
        for i in range(ITEMS)
    ]
    made: list[Action] = []
    for n in range(actions):
        item = n % ITEMS
        user_id, item_id = f"u-{n // ITEMS:07d}", f"c-{item:03d}"
        action = Action(
            kind=ActionKind.ADD,
            user_id=user_id,
            user_login=f"user{n // ITEMS}@example.com",
            item_id=item_id,
            item_kind=ItemKind.COURSE,
            item_title=f"Course {item}",
            department=f"Example Corp/Department {n % 30}",
        )
        if n % 5 < 3:
            made.append(replace(action, terms=due, sources=sources[item]))
            continue
        held = Enrollment(
            user_id=user_id,
            item_id=item_id,
            item_kind=ItemKind.COURSE,
            id=f"e-{n}",
            access=dt.datetime(2026, 1, 15, 8, tzinfo=dt.UTC),
            due=dt.datetime(2026, 12, 31),
            lock_after_due=False,
            origin=Origin.ADMIN,
            completion=Completion.IN_PROGRESS if n % 2 else Completion.NOT_STARTED,
            progress=40.0 if n % 2 else 0.0,
        )
        risks = (Risk.PROTECTED_OVERRIDE,) if n % 2 else ()
        made.append(replace(action, kind=ActionKind.REMOVE, before=held, risks=risks))
    adds = sum(1 for a in made if a.kind is ActionKind.ADD)
    summary = Summary(add=adds, remove=len(made) - adds, managed=len(made), estimated_calls=len(made))
    provider = ProviderPlan(
        provider="lms",
        kind=ProviderKind.ISPRING,
        account="example.ispringlearn.com",
        actions=tuple(made),
        summary=summary,
        managed_item_ids=tuple(f"c-{i:03d}" for i in range(ITEMS)),
    )
    return Plan(
        created_at=dt.datetime(2026, 12, 5, tzinfo=dt.UTC),
        manifest_digest="sha256:" + "ab" * 32,
        providers=(provider,),
    )


def read_in_child(how: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, how, str(path)], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def measure(actions: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "plan.json"
        save_plan(first_run_plan(actions), path)
        size = path.stat().st_size / 1e6
        runs: dict[str, list[dict[str, float]]] = {"json.loads": [], "load_plan": []}
        for _ in range(repeat):  # in turn, so both see the same machine
            for how in runs:
                runs[how].append(read_in_child(how, path))
    base, ours = ({k: statistics.median(r[k] for r in runs[how]) for k in ("cpu", "peak_mb")} for how in runs)
    print(
        f"{actions:>9,} actions  {size:7.1f} MB  "
        f"CPU s {ours['cpu']:6.2f} vs {base['cpu']:5.2f} ({ours['cpu'] / base['cpu']:4.2f} x)  "
        f"peak RSS MB {ours['peak_mb']:6.0f} vs {base['peak_mb']:5.0f} "
        f"({ours['peak_mb'] / base['peak_mb']:4.2f} x)"
        f"  runs: load_plan {[round(r['cpu'], 2) for r in runs['load_plan']]}",
        flush=True,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 actions, once (CI)")
    parser.add_argument("--actions", type=int, action="append", help="plan size (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reader (median)")
    args = parser.parse_args(argv)
    sizes = [2_000] if args.quick else (args.actions or [100_000, 500_000])
    print("load_plan (enrollctl) vs json.loads (baseline), each in a fresh interpreter; medians")
    for actions in sizes:
        measure(actions, 1 if args.quick else args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
