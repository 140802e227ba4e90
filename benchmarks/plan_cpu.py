"""Plan client CPU and peak RSS on a first run, against a naive read-and-set-difference script (issue 16).

The iSpring emulator runs in its own process (`enrollctl sandbox serve`), so only the client's CPU is
counted. The organisation holds no enrollments yet; three policies give every user ten courses, so the
plan is all adds (users × 10). Each measured mode runs in a fresh interpreter (CPU = `time.process_time`,
peak RSS = VmHWM):

- naive: read the directory and the managed items' enrollments through the provider, build the wanted
  (user, course) keys of the active users, subtract the held ones; nothing else;
- plan: `make_plan` (load, read, expand, diff with risks and the write-call estimate, guards) and the text,
  JSON and Markdown renderings.

    python benchmarks/plan_cpu.py                     # 10,000 users (100,000 adds)
    python benchmarks/plan_cpu.py --users 2000        # smaller
    python benchmarks/plan_cpu.py --profile           # also a cProfile of the plan mode (top 25)
    python benchmarks/plan_cpu.py --quick             # 300 users (CI: checks it runs, no thresholds)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
COURSES = 10
TOKEN_ENV = "BENCH_ISPRING_TOKEN"
CPU_TARGET = 1.5
RSS_TARGET = 1.2


def write_repository(root: Path, users: int) -> None:
    from reconciler.sandbox.org.generate import generate_org
    from reconciler.sandbox.org.yaml import dump_org_json

    org = generate_org(
        users,
        departments=max(5, users // 100),
        groups=10,
        courses=COURSES,
        learning_paths=0,
        enrollments_per_user=0,
        seed=11,
    )
    titles = [c.title for c in org.courses]
    (root / "policies").mkdir(parents=True)
    (root / "sandbox.json").write_text(dump_org_json(org), encoding="utf-8")
    policies = [
        _policy("baseline", {"everyone": True}, [{"course": t} for t in titles[:6]]),
        _policy("compliance", {"everyone": True}, [{"course": t, "due": "2026-12-31"} for t in titles[6:8]]),
        _policy(
            "department", {"everyone": True}, [{"course": t, "due": {"within": "30d"}} for t in titles[8:]]
        ),
    ]
    (root / "policies" / "bench.yaml").write_text(yaml.safe_dump_all(policies, sort_keys=False), "utf-8")


def _policy(name: str, targets: dict[str, object], assign: list[dict[str, object]]) -> dict[str, object]:
    return {
        "apiVersion": "enrollctl/v1",
        "kind": "Policy",
        "metadata": {"name": name},
        "spec": {"targets": targets, "assign": assign},
    }


def write_config(root: Path, url: str) -> None:
    config = {
        "version": 1,
        "policies": ["policies"],
        "providers": {"lms": {"kind": "ispring", "url": url, "token_env": TOKEN_ENV}},
        "settings": {"max_removals": 1_000_000, "max_removal_share": 1.0},
    }
    (root / "enrollctl.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def serve(root: Path) -> tuple[subprocess.Popen[str], str]:
    """The emulator in its own process; returns it and its URL."""
    enrollctl = Path(sys.executable).with_name("enrollctl")
    args = [str(enrollctl), "sandbox", "serve", "--vendor", "ispring", "--org", str(root / "sandbox.json")]
    args += ["--db", str(root / "lms.sqlite")]
    server = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    for line in server.stdout:
        if " at http" in line:
            return server, line.rsplit(" at ", 1)[1].strip()
    raise RuntimeError("the sandbox did not start")


def high_water_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(root: Path, mode: str, profile: bool) -> dict[str, float]:
    """Run one mode in this (fresh) interpreter: client CPU seconds, peak RSS MB, and the plan's size."""
    from reconciler.core.model import UserStatus
    from reconciler.core.plan import RunOptions
    from reconciler.engine.workspace import load_workspace, make_plan
    from reconciler.render.json import render_json
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text
    from reconciler.sandbox.serve import SANDBOX_CREDENTIALS

    env = {TOKEN_ENV: SANDBOX_CREDENTIALS["ispring"]["token"]}
    started = time.process_time()
    if mode == "naive":
        workspace = load_workspace(root, env)
        provider = workspace.providers["lms"]
        directory = provider.read_directory()
        courses = frozenset(i.id for i in directory.items)
        held = {(e.user_id, e.item_id) for e in provider.read_enrollments(directory, courses)}
        wanted = {(u.id, c) for u in directory.users if u.status is UserStatus.ACTIVE for c in courses}
        actions = len(wanted - held)
        workspace.close()
    else:
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        phases: dict[str, float] = {}
        plan, workspace = make_plan(root, now=NOW, options=RunOptions(), env=env)
        workspace.close()
        phases["plan"], phases["plan_rss"] = time.process_time() - started, high_water_mb()
        for name, render in (("text", render_text), ("markdown", render_markdown), ("json", render_json)):
            before = time.process_time()
            render(plan)
            phases[name], phases[f"{name}_rss"] = time.process_time() - before, high_water_mb()
        actions = len(plan.actions)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    result = {"cpu": time.process_time() - started, "rss": high_water_mb(), "actions": float(actions)}
    return result | (phases if mode == "plan" else {})


def run_mode(root: Path, mode: str, profile: bool = False) -> dict[str, float]:
    code = [sys.executable, __file__, "--measure", mode, "--root", str(root)] + (["--profile"] * profile)
    stderr = None if profile else subprocess.DEVNULL
    out = subprocess.run(code, stdout=subprocess.PIPE, stderr=stderr, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="300 users, no thresholds (CI)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the plan mode")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode; the median counts")
    parser.add_argument("--measure", choices=("naive", "plan"), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.root), args.measure, args.profile)))
        return 0
    users = 300 if args.quick else args.users
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_repository(root, users)
        server, url = serve(root)
        try:
            write_config(root, url)
            if args.profile:
                run_mode(root, "plan", profile=True)
            runs = {m: [run_mode(root, m) for _ in range(repeats)] for m in ("naive", "plan")}
        finally:
            server.terminate()
            server.wait()
    median = {m: {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in rs[0]} for m, rs in runs.items()}
    naive, plan = median["naive"], median["plan"]
    print(
        f"first run, {users:,} users × {COURSES} courses: {plan['actions']:,.0f} adds (median of {repeats})"
    )
    print(f"{'':<8}{'client CPU s':>14}{'peak RSS MB':>13}")
    for mode in ("naive", "plan"):
        print(f"{mode:<8}{median[mode]['cpu']:>14.2f}{median[mode]['rss']:>13.0f}")
    print("plan by phase (CPU s, peak RSS MB after it):")
    for phase in ("plan", "text", "markdown", "json"):
        label = "read+expand+diff+guards" if phase == "plan" else f"render {phase}"
        print(f"  {label:<24}{plan[phase]:>8.2f}{plan[phase + '_rss']:>8.0f}")
    cpu, rss = plan["cpu"] / naive["cpu"], plan["rss"] / naive["rss"]
    print(f"plan / naive: CPU {cpu:.2f} × (target ≤ {CPU_TARGET}), RSS {rss:.2f} × (target ≤ {RSS_TARGET})")
    extra = (plan["plan_rss"] - naive["rss"]) * 1e6 / max(1.0, plan["actions"])
    print(f"planning (before rendering) holds {extra:,.0f} bytes more per add than the naive script")
    if not args.quick:
        print(f"{'MET' if cpu <= CPU_TARGET else 'NOT MET'}: plan client CPU ≤ {CPU_TARGET} × naive")
        print(f"{'MET' if rss <= RSS_TARGET else 'NOT MET'}: plan peak RSS ≤ {RSS_TARGET} × naive")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
