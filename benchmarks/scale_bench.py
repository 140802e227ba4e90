"""Scale benchmark: plan and apply generated organisations of 1k / 10k / 100k users over loopback HTTP.

Each organisation has 5 enrollments per user and one pruning policy for everyone, one per top-level
department and one per group, each assigning its own item. Per size and vendor it prints:

- calls / lower bound for plan reads and for apply (writes; staleness and confirmation reads), the bound
  computed here from the vendor's rules and the emulator's data, never from the provider code;
- client CPU seconds and peak RSS of `enrollctl plan` (a subprocess) next to `naive_baseline.py`, which
  reads the same API with httpx and diffs with sets, and must find identical adds and removals;
- the floor under those two targets: the baseline's figure plus enrollctl's start-up beyond the baseline's
  and (CPU) the plan's actions encoded once by the C encoder (`scale_report.floor`);
- emulator CPU per page (the server thread's CPU time per list call that returned a page).

    python benchmarks/scale_bench.py              # 1k, 10k and 100k users, both vendors, plan and apply
    python benchmarks/scale_bench.py --quick      # 200 users, Litmos and iSpring, no targets (CI)
    python benchmarks/scale_bench.py --sizes 10000 --vendors litmos

Prints figures and one TARGET line per check; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from scale_bounds import directory_bound, enrollment_read_bound, write_bound
from scale_report import report

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.org.spec import OrgSpec
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app, serve
from reconciler.sandbox.store.database import Store

HERE = Path(__file__).resolve().parent
PAGE = 1000
# one per listed row: Litmos rows have an Id; iSpring enrollments a learnerId, results a userId
ROW_MARKS = {"litmos": (b'"Id":',), "ispring": (b"<learnerId>", b"<userId>")}
# the child reports its own peak RSS: ru_maxrss of a child also counts the parent's pages before exec
PEAK = (
    "import atexit, runpy, sys; atexit.register(lambda: print('PEAK_RSS_KB', [l.split()[1] for l in "
    "open('/proc/self/status') if l.startswith('VmHWM')][0], file=sys.stderr)); "
)
LIST_ACTIONS = {  # calls that return one page of a list whose length grows with the organisation
    "litmos": (
        "GET /users",
        "GET /teams/{team}/users",
        "GET /courses/{course}/users",
        "GET /learningpaths/{path}/users",
    ),
    "ispring": ("ListEnrollments", "ListLearnersResults"),
}


@dataclass
class Emulator:
    """An emulator served over loopback HTTP, with the server thread's CPU time per call."""

    vendor: str
    store: Store
    url: str
    close: Callable[[], None]
    cpu: list[tuple[str, float, int]] = field(default_factory=list)  # (path, CPU seconds, rows) per call

    def calls(self) -> Counter[str]:
        return Counter(_action(e.action) for e in self.store.request_log(self.vendor))


def _action(action: str) -> str:
    return "GetUsers" if action.startswith("GetUsers") else action


def start_emulator(vendor: str, store: Store) -> Emulator:
    # the Litmos emulator enforces the vendor's 100 calls a minute per key; lift it, calls are what we count.
    # Team rows carry `ParentTeamId` (the documented XML shape): the naive baseline and the directory bound
    # (scale_bounds.py) read the tree from /teams, as enrollctl does then; recorded JSON would add one
    # /teams/{id}/teams call per team to all three.
    litmos = Faults(rate_limit_per_minute=100_000_000, litmos_team_parents=True)
    app = build_app(vendor, store, litmos if vendor == "litmos" else None)
    cpu: list[tuple[str, float, int]] = []

    def timed(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.thread_time()
        answer = app(environ, start_response)
        body = b"".join(answer)
        if hasattr(answer, "close"):  # a streamed answer is logged when closed
            answer.close()
        rows = sum(body.count(mark) for mark in ROW_MARKS[vendor])
        cpu.append((str(environ.get("PATH_INFO", "")), time.thread_time() - started, rows))
        return [body]

    server, url = serve(timed)
    emulator = Emulator(vendor, store, f"{url}/v1.svc" if vendor == "litmos" else url, server.close)
    emulator.cpu = cpu
    return emulator


def policies_of(org: OrgSpec) -> dict[str, Any]:
    """Item titles per policy: everyone, each top-level department, each group; one item each."""
    titles = [c.title for c in org.courses] + [p.title for p in org.learning_paths]
    root = org.departments[0]
    tops = [f"{root.name}/{d.name}" for d in root.children]
    assert len(titles) >= 1 + len(tops) + len(org.groups), "more items needed than policies"
    departments = {path: titles[1 + n] for n, path in enumerate(tops)}
    groups = {name: titles[1 + len(tops) + n] for n, name in enumerate(org.groups)}
    return {"everyone": titles[0], "departments": departments, "groups": groups}


def write_repository(root: Path, vendor: str, url: str, org: OrgSpec, policies: dict[str, Any]) -> None:
    kinds = {c.title: "course" for c in org.courses} | {p.title: "learning_path" for p in org.learning_paths}
    provider: dict[str, Any] = {"kind": vendor, "url": url, "insecure_http": True}
    if vendor == "litmos":
        provider |= {"api_key_env": "BENCH_KEY", "source": "bench", "requests_per_minute": 1_000_000}
    else:
        # SOAP, as naive_baseline.py reads it (same calls; scale_bounds prices SOAP)
        provider |= {"token_env": "BENCH_KEY", "api": "soap"}
    config = {
        "version": 1,
        "policies": ["policies"],
        "providers": {"lms": provider},
        "settings": {"max_removals": 10_000_000, "max_removal_share": 1.0},
    }
    (root / "policies").mkdir()
    (root / "enrollctl.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    targets: list[tuple[str, dict[str, Any], str]] = [("everyone", {"everyone": True}, policies["everyone"])]
    targets += [
        (f"d{n}", {"departments": [p]}, t) for n, (p, t) in enumerate(policies["departments"].items())
    ]
    targets += [(f"g{n}", {"groups": [g]}, t) for n, (g, t) in enumerate(policies["groups"].items())]
    docs = [
        {
            "apiVersion": "enrollctl/v1",
            "kind": "Policy",
            "metadata": {"name": name},
            "spec": {"targets": target, "assign": [{kinds[title]: title}], "prune": True},
        }
        for name, target, title in targets
    ]
    (root / "policies" / "bench.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    (root / "policies.json").write_text(json.dumps(policies), encoding="utf-8")


def run_child(args: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run a client process; (stdout, CPU seconds, peak RSS in MB) from its own resource usage."""
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda s=s, b=b: b.append(s.read()))
        for s, b in ((child.stdout, out), (child.stderr, err))
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    for reader in readers:
        reader.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 2):
        raise RuntimeError(f"{args[:4]} exited {child.returncode}:\n{''.join(err)[-3000:]}")
    peak = [line.split()[1] for line in "".join(err).splitlines() if line.startswith("PEAK_RSS_KB")]
    return "".join(out) + "".join(err), usage.ru_utime + usage.ru_stime, int(peak[-1]) / 1024


# --- one scenario ------------------------------------------------------------------------------------


def scenario(vendor: str, users: int, apply_up_to: int, repeat: int = 1) -> dict[str, Any]:
    org = generate_org(
        users,
        departments=30,
        groups=6,
        courses=20,
        learning_paths=3,
        enrollments_per_user=5,
        seed=7,
    )
    policies = policies_of(org)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store.open(str(root / "sandbox.db"))
        seed_store(store, org)
        emulator = start_emulator(vendor, store)
        try:
            return measure(vendor, users, org, policies, root, emulator, apply_up_to, repeat)
        finally:
            emulator.close()
            store.close()


def measure(
    vendor: str,
    users: int,
    org: OrgSpec,
    policies: dict[str, Any],
    root: Path,
    emulator: Emulator,
    apply_up_to: int,
    repeat: int = 1,
) -> dict[str, Any]:
    store = emulator.store
    write_repository(root, vendor, emulator.url, org, policies)
    secret = SANDBOX_CREDENTIALS[vendor]["api_key" if vendor == "litmos" else "token"]
    env = {**os.environ, "BENCH_KEY": secret, "NO_COLOR": "1"}
    run_module = (
        PEAK + "sys.argv = ['enrollctl', *sys.argv[1:]]; runpy.run_module('reconciler', run_name='__main__')"
    )
    enrollctl = [sys.executable, "-c", run_module, "-C", str(root)]
    plan_file = root / "plan.json"
    naive = [
        sys.executable,
        "-c",
        PEAK + "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
        str(HERE / "naive_baseline.py"),
        vendor,
        emulator.url,
        secret,
        str(root / "policies.json"),
    ]
    plan_args = [
        *enrollctl,
        *("-v", "plan", "--allow-remove-completed", "--format", "json", "--out", str(plan_file)),
    ]
    try:
        out, plan_cpu, plan_rss = run_child(plan_args, env)
    except RuntimeError as failed:  # still page through with the baseline, for the emulator's figures
        naive_out, naive_cpu, naive_rss = run_child(naive, env)
        print(f"{vendor} {users:,}: enrollctl plan FAILED: {str(failed)[-400:]}", flush=True)
        return {
            "vendor": vendor,
            "users": users,
            "failed": str(failed)[-400:],
            "page_cpu_ms": emulator_page_cpu(emulator),
            "naive_cpu": naive_cpu,
            "naive_rss": naive_rss,
        }
    choice = [line for line in out.splitlines() if "read enrollments" in line]
    plan_calls = emulator.calls()
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    actions = [a for p in plan["providers"] for a in p["actions"]]
    adds = [
        (a["user_id"], a["item_kind"] if vendor == "litmos" else a["item_id"])
        for a in actions
        if a["kind"] == "add"
    ]
    removes = sum(1 for a in actions if a["kind"] == "remove")
    updates = sum(1 for a in actions if a["kind"] == "update") if vendor == "ispring" else 0
    managed = {i for p in plan["providers"] for i in p.get("managed_item_ids", ())}
    item_uuids = {i.uuid for i in store.items() if (i.litmos_id if vendor == "litmos" else i.uuid) in managed}
    plan_bound = directory_bound(vendor, store) + enrollment_read_bound(
        vendor, store, item_uuids, len(store.users())
    )

    naive_out, naive_cpu, naive_rss = run_child(naive, env)
    page_cpu = emulator_page_cpu(emulator)
    # CPU and RSS move from run to run (the baseline's by up to 20 % between passes): with `repeat`, plan
    # and baseline run again in turn and the medians count (calls and the plan's content come from the first)
    runs = [(plan_cpu, plan_rss, naive_cpu, naive_rss)]
    for _ in range(repeat - 1):
        _, again_cpu, again_rss = run_child(plan_args, env)
        _, naive_again_cpu, naive_again_rss = run_child(naive, env)
        runs.append((again_cpu, again_rss, naive_again_cpu, naive_again_rss))
    plan_cpu, plan_rss, naive_cpu, naive_rss = (statistics.median(r[i] for r in runs) for i in range(4))
    # the least any plan writing these actions could spend on it: the standard library's C encoder over the
    # plan file's own action objects, compact, from ready-made dicts (the plan writes the same compact lines
    # from its actions, and also writes them to disk: at least the encoding is unavoidable)
    encode_started = time.process_time()
    json.dumps(actions, separators=(",", ":"))
    encode_cpu = time.process_time() - encode_started
    naive = json.loads(next(line for line in naive_out.splitlines() if line.startswith("{")))
    figures: dict[str, Any] = {
        "vendor": vendor,
        "users": users,
        "enrollments": len(org.enrollments),
        "adds": len(adds),
        "removes": removes,
        "naive": naive,
        "choice": choice,
        "plan_calls": sum(plan_calls.values()),
        "plan_bound": plan_bound,
        "plan_by_call": dict(plan_calls),
        "plan_cpu": plan_cpu,
        "plan_rss": plan_rss,
        "naive_cpu": naive_cpu,
        "naive_rss": naive_rss,
        "encode_cpu": encode_cpu,
        "runs": runs,
        "page_cpu_ms": page_cpu,
    }

    if users > apply_up_to:
        return {**figures, "apply_calls": 0, "apply_bound": 0, "apply_by_call": {}}
    before = emulator.calls()
    touched = {a["user_id"] for a in actions}
    read_bound_before = enrollment_read_bound(
        vendor, store, item_uuids, len(touched) if len(touched) <= 5000 else len(store.users())
    )
    run_child([*enrollctl, "apply", str(plan_file)], env)
    apply_calls = emulator.calls() - before
    read_bound_after = enrollment_read_bound(
        vendor, store, item_uuids, len(touched) if len(touched) <= 5000 else len(store.users())
    )
    # apply reads the directory again (users who left or moved make actions stale), then the enrollments
    # the actions touch before and after writing; Litmos refuses updates without a call
    writes = directory_bound(vendor, store) + write_bound(vendor, adds, removes) + updates
    return {
        **figures,
        "apply_calls": sum(apply_calls.values()),
        "apply_bound": writes + read_bound_before + read_bound_after,
        "apply_by_call": dict(apply_calls),
    }


def emulator_page_cpu(emulator: Emulator) -> dict[str, float]:
    """Server CPU milliseconds per full page (1,000 rows) of each list call, over the reads so far.

    Per row, not per call: a small organisation's rosters are short pages, a large one's are full ones.
    """
    log = emulator.store.request_log(emulator.vendor)
    spent: defaultdict[str, float] = defaultdict(float)
    rows: Counter[str] = Counter()
    for entry, (_, cpu, count) in zip(log, emulator.cpu, strict=False):
        name = _action(entry.action)
        if name in LIST_ACTIONS[emulator.vendor]:
            spent[name] += cpu * 1000
            rows[name] += count
    return {name: spent[name] / rows[name] * PAGE for name in spent if rows[name]}


def start_up() -> dict[str, float]:
    """CPU seconds and peak RSS (MB) of starting Python and importing what enrollctl's CLI and the naive
    baseline each import before their first call (median of three): what no plan shrinks."""
    figures: dict[str, float] = {}
    for name, module in (("enrollctl", "reconciler.cli.app"), ("naive", "httpx")):
        runs = [
            run_child([sys.executable, "-c", f"{PEAK}import {module}"], dict(os.environ)) for _ in range(3)
        ]
        figures[f"{name}_cpu"] = statistics.median(r[1] for r in runs)
        figures[f"{name}_rss"] = statistics.median(r[2] for r in runs)
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 users only (CI)")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--vendors", default="litmos,ispring")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--apply-up-to",
        type=int,
        default=100_000,
        help="apply only organisations up to this size (default: every size; 10000 saves ~40 minutes)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="plan and baseline runs per scenario, medians reported (default 3; --quick runs once)",
    )
    args = parser.parse_args(argv)
    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",")]
    results = []
    for vendor in args.vendors.split(","):
        for users in sizes:
            started = time.perf_counter()
            try:
                results.append(scenario(vendor, users, args.apply_up_to, 1 if args.quick else args.repeat))
            except RuntimeError as failed:  # e.g. an answer over the client's bounds: say so, go on
                print(f"{vendor} {users:,} users: FAILED: {str(failed)[-600:]}", flush=True)
                continue
            print(f"{vendor} {users:,} users: {time.perf_counter() - started:.0f} s", flush=True)
    report(results, start_up())
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
