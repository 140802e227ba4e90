"""Run every performance scenario, print every figure, then one MET / NOT MET line per target.

    python benchmarks/run.py             # all scenarios at full size (about 40 minutes on 2 cores)
    python benchmarks/run.py --quick     # every scenario small, no thresholds (CI keeps them working)
    python benchmarks/run.py --only diff --only plan
    python benchmarks/run.py --only apply-concurrency --only scale

Each scenario is its own script in this directory, run in a fresh interpreter (so peak memory figures
are its own) with this interpreter; each script prints its figures and, outside --quick, lines starting
with `TARGET` that end in MET or NOT MET. This runner prints the machine and its load first (other work
on the machine skews wall times; the scripts take medians where they repeat), then the scripts' output,
then all target lines together. docs/PERFORMANCE.md explains the method and the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Scenario:
    name: str
    script: str
    title: str


SCENARIOS = (
    Scenario("calls-ispring", "engine_bench.py", "API calls against the lower bound: iSpring, 10,000 users"),
    Scenario("calls-litmos", "litmos_bench.py", "API calls against the lower bound: Litmos, 2,000 users"),
    Scenario("plan", "plan_bench.py", "Plan of 10,000 users x 100,000 enrollments, by phase"),
    Scenario("diff", "diff_bench.py", "Diff of 10k .. 1M enrollments against a bare set difference"),
    Scenario("stream", "stream_bench.py", "Streaming read of 100,000 enrollments"),
    Scenario("load", "load_bench.py", "Reading a saved plan back (apply FILE, show) against json.loads"),
    Scenario("apply", "apply_bench.py", "Apply wall time against the rate-limit floor"),
    Scenario(
        "apply-concurrency",
        "apply_concurrency.py",
        "Concurrent apply at 50 / 150 / 300 ms: wall against max(rate floor, calls x latency / concurrency)",
    ),
    Scenario("sandbox", "sandbox_bench.py", "Sandbox load time and paging throughput (figures only)"),
    Scenario(
        "scale",
        "scale_bench.py",
        "1k / 10k / 100k users over loopback HTTP: calls / bound, client vs naive baseline, emulator pages",
    ),
)


def machine() -> list[str]:
    """What the figures were measured on: cores, memory, Python, load."""
    lines = [
        f"cores (nproc): {os.cpu_count()}",
        f"python: {platform.python_implementation()} {platform.python_version()} on {platform.platform()}",
    ]
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
        total = int(fields["MemTotal"].split()[0]) / 1024**2
        available = int(fields.get("MemAvailable", "0 kB").split()[0]) / 1024**2
        lines.append(f"memory: {total:.1f} GiB total, {available:.1f} GiB available")
    lines.append(f"load average (1, 5, 15 min): {load()}")
    return lines


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def run(scenario: Scenario, quick: bool) -> tuple[list[str], float, int]:
    """Run one script; returns its TARGET lines, its seconds and its exit code (output is printed)."""
    command = [sys.executable, str(HERE / scenario.script), *(["--quick"] if quick else [])]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE.parent)
    seconds = time.perf_counter() - started
    print(done.stdout.rstrip())
    if done.returncode:
        print(done.stderr.rstrip(), file=sys.stderr)
    targets = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("TARGET")]
    return targets, seconds, done.returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no thresholds (CI)")
    parser.add_argument(
        "--only", action="append", choices=[s.name for s in SCENARIOS], help="run only these scenarios"
    )
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    print("== machine")
    print("\n".join(machine()))
    targets: list[tuple[str, str]] = []
    failed: list[str] = []
    for scenario in chosen:
        print(f"\n== {scenario.title} ({scenario.script}{' --quick' if args.quick else ''})")
        found, seconds, code = run(scenario, args.quick)
        print(f"-- {seconds:.1f} s, load now {load()}")
        targets.extend((scenario.name, line) for line in found)
        if code:
            failed.append(scenario.script)
    if not args.quick:
        print("\n== targets")
        for name, line in targets:
            print(f"[{name}] {line.removeprefix('TARGET ')}")
        met = sum(1 for _, line in targets if line.endswith(" MET") and not line.endswith("NOT MET"))
        print(f"\n{met} of {len(targets)} targets met")
    if failed:
        print(f"\nscripts that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
