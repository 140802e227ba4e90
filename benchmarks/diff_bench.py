"""Diff at scale: `build_plan()` over 10k to 1M enrollments against a bare set difference of the same keys.

The world is synthetic and steady-state, like a nightly run on a big account: every user is wanted in most of
50 items, the LMS already holds nearly all of it with matching terms, and about 1 % differs (adds, removals
in pruned items, term drift). Both sides are built before the clock starts; the baseline is the least any
diff must do: take the keys of the snapshot's enrollments into a set and subtract both ways.

    python benchmarks/diff_bench.py            # series 10k .. 1M, peak memory of the 1M diff
    python benchmarks/diff_bench.py --quick    # 10k and 30k (CI: checks it runs, no thresholds)

Prints figures and, without --quick, MET / NOT MET per target: diff <= 3x the baseline at 1M, peak memory
of the 1M diff <= 500 MB, and linear growth (time per enrollment at 1M <= 1.5x the one at 100k).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from reconciler.core.byuser import UserItemMap
from reconciler.core.desired import DesiredEnrollment, DesiredState, ManagedItem
from reconciler.core.diff import build_plan
from reconciler.core.model import (
    Capabilities,
    Completion,
    Department,
    Directory,
    Due,
    DueKind,
    Enrollment,
    Item,
    ItemKind,
    ProviderKind,
    Settings,
    Snapshot,
    Terms,
    User,
)
from reconciler.core.plan import ProviderPlan, RunOptions, Source
from reconciler.errors import Position

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ITEMS = 50
ACCESS = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
# the terms each fifth of the items asks for, and how an LMS that honoured them reports them
TERMS = (
    Terms(Due(DueKind.DATE, date=dt.date(2026, 12, 31))),
    Terms(Due(DueKind.WITHIN, hours=720), lock_after_due=True),
    Terms(Due(DueKind.UNLIMITED)),
    Terms(Due(DueKind.DEFAULT)),
    Terms(Due(DueKind.DATE, date=dt.date(2027, 3, 31)), access=dt.date(2026, 3, 2)),
)


@dataclass(frozen=True)
class World:
    desired: DesiredState
    snapshot: Snapshot


def _held(terms: Terms, user_id: str, item_id: str, kind: ItemKind, n: int) -> Enrollment:
    due: dt.datetime | None = None
    hours: int | None = None
    if terms.due.kind is DueKind.DATE and terms.due.date is not None:
        d = terms.due.date
        due = dt.datetime(d.year, d.month, d.day, 23, 59, tzinfo=dt.UTC)
    elif terms.due.kind is DueKind.WITHIN:
        hours = terms.due.hours
    access = ACCESS + dt.timedelta(minutes=n % 600)  # enrolled at different times of one day
    if terms.due.kind is DueKind.DEFAULT:
        due = access + dt.timedelta(days=30)
    lock = terms.lock_after_due
    if n % 211 == 0:
        lock = not lock  # term drift: an update
    completion = Completion.COMPLETED if n % 7 == 0 else Completion.NOT_STARTED
    return Enrollment(
        user_id,
        item_id,
        kind,
        id=f"e{n}",
        access=access,
        due=due,
        due_hours=hours,
        lock_after_due=lock,
        completion=completion,
        progress=100.0 if completion is Completion.COMPLETED else 0.0,
    )


def build_world(enrollments: int) -> World:
    """About `enrollments` (user, item) pairs over 50 items: ~1 % adds, ~1 % removable, ~0.5 % drift."""
    users_n = max(1, enrollments // ITEMS)
    departments = tuple(Department(f"d{i}", f"Dept {i}", None if i == 0 else "d0") for i in range(20))
    users = tuple(
        User(f"u{i:07d}", f"user{i}@acme.example", department_id=f"d{i % 20}") for i in range(users_n)
    )
    items = tuple(
        Item(f"i{j:03d}", ItemKind.LEARNING_PATH if j % 10 == 9 else ItemKind.COURSE, f"Item {j}")
        for j in range(ITEMS)
    )
    here = Position("policies/bench.yaml", 1, 1)
    sources = tuple((Source(f"policy-{k}", here, "everyone"),) for k in range(len(TERMS)))
    managed = {
        item.id: ManagedItem(
            item,
            (f"policy-{j % len(TERMS)}",),
            prune_by=(Source(f"policy-{j % len(TERMS)}", here, "prune: true"),) if j % 2 else (),
        )
        for j, item in enumerate(items)
    }
    held: list[Enrollment] = []

    def wanted() -> Iterator[tuple[tuple[str, str], DesiredEnrollment]]:
        n = 0
        for user in users:
            for j, item in enumerate(items):
                n += 1
                terms = TERMS[j % len(TERMS)]
                if n % 97 != 0:  # ~1 % not wanted: removals where the item is pruned
                    yield (
                        (user.id, item.id),
                        DesiredEnrollment(user.id, item.id, item.kind, terms, sources[j % len(TERMS)]),
                    )
                if n % 89 != 0:  # ~1 % not held: adds
                    held.append(_held(terms, user.id, item.id, item.kind, n))

    # as expand builds it: by user, then item, without a key tuple per enrollment
    desired = UserItemMap(wanted())
    directory = Directory(users=users, departments=departments, items=items)
    snapshot = Snapshot(
        "lms",
        ProviderKind.ISPRING,
        "https://bench.example",
        directory,
        tuple(held),
        managed_item_ids=frozenset(managed),
        read_at=NOW,
    )
    return World(DesiredState(desired, managed), snapshot)


def run_diff(world: World) -> ProviderPlan:
    return build_plan(
        world.desired, world.snapshot, Settings(), RunOptions(), now=NOW, capabilities=Capabilities()
    )


def set_difference(world: World, wanted: set[tuple[str, str]]) -> tuple[int, int]:
    """The baseline: the snapshot's keys as a set, and the set differences both ways.

    `wanted` is the desired keys as a set, made before the clock starts (a dict's keys, as the desired state
    was before it stopped keeping a tuple per enrollment, subtract as fast as a set)."""
    held = {(e.user_id, e.item_id) for e in world.snapshot.enrollments}
    return len(wanted - held), len(held - wanted)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_diff_memory(world: World) -> float:
    """MB allocated at the peak of one diff (tracemalloc), beyond what the inputs hold."""
    gc.collect()
    tracemalloc.start()
    run_diff(world)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def high_water_mb() -> float:
    """Peak resident memory of this process in MB (Linux VmHWM; elsewhere ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_in_fresh_process(size: int) -> tuple[float, float]:
    """(MB after building the inputs, peak MB after diffing them), measured in a new interpreter so that
    nothing else this process did is counted."""
    here = str(Path(__file__).resolve().parent)
    # VmHWM is the high-water mark of this process's own memory; ru_maxrss would also count the parent's
    # memory at the time of the exec on Linux
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import diff_bench as d; "
        f"w = d.build_world({size}); built = d.high_water_mb(); d.run_diff(w); "
        "print(built, d.high_water_mb())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    built, peak = (float(x) for x in out.split())
    return built, peak


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 30k only, no thresholds (CI)")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions per size; the median counts")
    args = parser.parse_args(argv)
    sizes = [10_000, 30_000] if args.quick else [10_000, 30_000, 100_000, 300_000, 1_000_000]
    repeats = 1 if args.quick else args.repeats
    built, rss = rss_in_fresh_process(sizes[-1])  # first, while this process is small
    print(f"{'enrollments':>12}{'diff s':>10}{'set diff s':>12}{'ratio':>8}{'us/enr':>9}  plan")
    per_enrollment: dict[int, float] = {}
    ratio_at: dict[int, float] = {}
    world = None
    for size in sizes:
        world = None  # let the previous world go before building the next: RSS then reflects one world
        gc.collect()
        world = build_world(size)
        count = len(world.snapshot.enrollments)
        seconds = median_seconds(lambda w=world: run_diff(w), repeats)
        keys = set(world.desired.enrollments)
        baseline = median_seconds(partial(set_difference, world, keys), max(3, repeats))
        del keys
        summary = run_diff(world).summary
        per_enrollment[size] = seconds / count * 1e6
        ratio_at[size] = seconds / baseline
        print(
            f"{count:>12,}{seconds:>10.3f}{baseline:>12.3f}{seconds / baseline:>8.2f}"
            f"{per_enrollment[size]:>9.2f}  +{summary.add} ~{summary.update} -{summary.remove}"
            f" kept {summary.kept} unchanged {summary.unchanged}"
        )
    assert world is not None
    peak = peak_diff_memory(world)
    print(f"memory allocated by one diff at {sizes[-1]:,}: {peak:.0f} MB peak (tracemalloc, inputs excluded)")
    print(
        f"fresh process, {sizes[-1]:,}: RSS {built:.0f} MB after building the inputs, peak {rss:.0f} MB "
        f"after diffing them (the diff adds {rss - built:.0f} MB)"
    )
    if args.quick:
        return 0
    biggest, mid = sizes[-1], 100_000
    growth = per_enrollment[biggest] / per_enrollment[mid]
    ratio = ratio_at[biggest]
    print()
    print(f"TARGET diff / set difference at 1M <= 3.0: {ratio:.2f}  {verdict(ratio <= 3)}")
    print(f"TARGET memory of the 1M diff itself <= 500 MB: {peak:.0f} MB traced  {verdict(peak <= 500)}")
    print(f"TARGET peak RSS, 1M inputs + diff <= 500 MB (resource): {rss:.0f} MB  {verdict(rss <= 500)}")
    print(f"  (inputs, 1M held + 1M wanted enrollments: {built:.0f} MB; the diff: {rss - built:.0f} MB)")
    print(
        f"TARGET linear growth, us/enrollment at 1M / at 100k <= 1.5: {growth:.2f}  {verdict(growth <= 1.5)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
