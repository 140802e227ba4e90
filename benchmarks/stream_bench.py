"""Streaming reads: reading 100,000 enrollments never holds all the raw pages in memory at once.

Reads every enrollment of a 10,000-user organisation (10 each) through the iSpring provider on the
in-process sandbox. Every raw answer is tracked with a weak reference from the moment it arrives until
it is freed, so the benchmark knows how many raw bytes were alive at any one time; the target is that this
never exceeds two answers (the page being parsed and, briefly, the next), against the total of all pages.
Under tracemalloc it also prints the peak of Python memory during the read and what the read keeps.

    python benchmarks/stream_bench.py            # 10,000 users x 10 = 100,000 enrollments
    python benchmarks/stream_bench.py --quick    # 500 users (CI: checks it runs, no thresholds)
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import tracemalloc
import weakref
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from reconciler.core.model import ProviderConfig, ProviderKind
from reconciler.engine.build import build_provider, sandbox_db_path
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.yaml import dump_org_json
from reconciler.sandbox.serve import open_sandbox


@dataclass
class RawPages:
    """Raw answer bytes received, alive now, and alive at most at one time."""

    total: int = 0
    alive: int = 0
    most_alive: int = 0
    largest: int = 0

    def arrived(self, response: httpx.Response) -> None:
        response.read()
        size = len(response.content)
        self.total += size
        self.alive += size
        self.largest = max(self.largest, size)
        self.most_alive = max(self.most_alive, self.alive)
        weakref.finalize(response, self.freed, size)

    def freed(self, size: int) -> None:
        self.alive -= size


def measure(users: int) -> tuple[int, RawPages, float, float]:
    """(enrollments read, raw pages, peak MB, kept MB) of one full enrollment read."""
    org = generate_org(users, departments=20, groups=5, courses=12, learning_paths=0, enrollments_per_user=10)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "org.json").write_text(dump_org_json(org), encoding="utf-8")
        (root / "enrollctl.yaml").write_text(yaml.safe_dump({"version": 1}), encoding="utf-8")
        open_sandbox(str(root / "org.json"), str(sandbox_db_path(root, "lms"))).close()
        config = ProviderConfig("lms", ProviderKind.ISPRING, sandbox="org.json")
        provider, close = build_provider(config, root, {})
        try:
            directory = provider.read_directory()
            items = frozenset(i.id for i in directory.items)
            pages = RawPages()
            provider.api.http.client.event_hooks["response"].append(pages.arrived)  # type: ignore[attr-defined]
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            enrollments = provider.read_enrollments(directory, items)
            gc.collect()
            kept, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            close()
    return len(enrollments), pages, (peak - base) / 1e6, (kept - base) / 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 users, no thresholds (CI)")
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args(argv)
    count, pages, peak, kept = measure(500 if args.quick else args.users)
    mb = 1e6
    print(f"enrollments read: {count:,} (ListEnrollments + ListLearnersResults, pages of 1,000)")
    print(f"raw answers: {pages.total / mb:.1f} MB in total, the largest {pages.largest / mb:.2f} MB")
    print(f"raw answers alive at once, at most: {pages.most_alive / mb:.2f} MB")
    print(f"Python memory during the read (tracemalloc): peak {peak:.1f} MB, kept afterwards {kept:.1f} MB")
    print("  (the peak holds the parsed rows of both lists until they are joined; lxml trees are not traced)")
    if not args.quick:
        verdict = "MET" if pages.most_alive <= 2 * pages.largest else "NOT MET"
        print(
            f"\nTARGET streaming: raw bytes alive at once <= 2 answers: {pages.most_alive / mb:.2f} MB "
            f"<= {2 * pages.largest / mb:.2f} MB (of {pages.total / mb:.1f} MB read)  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
