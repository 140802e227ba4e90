"""Streaming reads: reading 100,000 enrollments never holds all the raw pages in memory at once.

Reads every enrollment of a 10,000-user organisation (10 each) through the iSpring provider on the
in-process sandbox, under tracemalloc. Prints the bytes of all answers the vendor sent, the peak of memory
during the read, what the read keeps (the parsed enrollments), and the difference: the transient working
set, which must stay below the raw pages' total (it is about one page and its parse tree, because the
provider parses page by page and drops each answer before asking for the next).

    python benchmarks/stream_bench.py            # 10,000 users x 10 = 100,000 enrollments
    python benchmarks/stream_bench.py --quick    # 500 users (CI: checks it runs, no thresholds)
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path

import httpx
import yaml

from reconciler.model import ProviderConfig, ProviderKind
from reconciler.provider_factory import build_provider, sandbox_db_path
from reconciler.sandbox.org_generate import generate_org
from reconciler.sandbox.org_yaml import dump_org_json
from reconciler.sandbox.serve import open_sandbox


def measure(users: int) -> tuple[int, int, float, float]:
    """(enrollments read, answer bytes, peak MB, kept MB) of one full enrollment read."""
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
            received = [0]

            def count(response: httpx.Response) -> None:
                response.read()
                received[0] += len(response.content)

            provider.http.client.event_hooks["response"].append(count)  # type: ignore[attr-defined]
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            enrollments = provider.read_enrollments(directory, items)
            gc.collect()
            kept, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            close()
    return len(enrollments), received[0], (peak - base) / 1e6, (kept - base) / 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 users, no thresholds (CI)")
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args(argv)
    count, raw, peak, kept = measure(500 if args.quick else args.users)
    transient = peak - kept
    print(f"enrollments read: {count:,} (ListEnrollments + ListLearnersResults, pages of 1,000)")
    print(f"raw answers received: {raw / 1e6:.1f} MB in total")
    print(f"peak traced during the read: {peak:.1f} MB; kept afterwards (parsed enrollments): {kept:.1f} MB")
    print(f"transient working set (peak - kept): {transient:.1f} MB")
    if not args.quick:
        verdict = "MET" if transient < raw else "NOT MET"
        print(
            f"\nTARGET streaming: transient memory < all raw pages: {transient:.1f} MB < {raw / 1e6:.1f} MB"
            f"  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
