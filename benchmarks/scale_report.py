"""The tables and TARGET lines `scale_bench.py` prints from its figures (one dict per vendor and size)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def report(everything: list[dict[str, Any]], start: dict[str, float]) -> None:
    results = [r for r in everything if "failed" not in r]
    print(
        f"\n{'vendor':<8}{'users':>8}{'plan calls':>11}{'bound':>7}{'ratio':>7}"
        f"{'apply calls':>12}{'bound':>8}{'ratio':>7}"
    )
    for r in results:
        print(
            f"{r['vendor']:<8}{r['users']:>8,}{r['plan_calls']:>11,}{r['plan_bound']:>7,}"
            f"{r['plan_calls'] / r['plan_bound']:>7.2f}{r['apply_calls']:>12,}{r['apply_bound']:>8,}"
            f"{r['apply_calls'] / max(1, r['apply_bound']):>7.2f}"
        )
    print(
        f"\n{'vendor':<8}{'users':>8}{'adds':>9}{'removes':>9}{'naive':>15}"
        f"{'cpu s':>8}{'naive':>7}{'rss MB':>8}{'naive':>7}  naive calls"
    )
    for r in results:
        n = r["naive"]
        same = (
            "same"
            if (n["adds"], n["removes"]) == (r["adds"], r["removes"])
            else f"{n['adds']}/{n['removes']}"
        )
        print(
            f"{r['vendor']:<8}{r['users']:>8,}{r['adds']:>9,}{r['removes']:>9,}{same:>15}{r['plan_cpu']:>8.1f}"
            f"{r['naive_cpu']:>7.1f}{r['plan_rss']:>8.0f}{r['naive_rss']:>7.0f}  {sum(n['calls'].values()):,}"
        )
    for r in results:
        if len(r.get("runs", ())) > 1:  # the medians above, and each run they come from
            each = "; ".join(f"{c:.1f} s {m:.0f} MB / {nc:.1f} s {nm:.0f} MB" for c, m, nc, nm in r["runs"])
            print(f"  {r['vendor']} {r['users']:,} runs (plan / naive): {each}")
    floor(results, start)
    print("\nemulator CPU per page of 1,000 rows (ms, over the list calls of the plan and the baseline):")
    for r in everything:
        pages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["page_cpu_ms"].items()))
        print(f"  {r['vendor']:<8}{r['users']:>8,}  {pages}")
    for r in results:
        for line in r["choice"]:
            print(f"  {r['vendor']} {r['users']:,}: {line.strip()}")
    print()
    for r in results:
        for phase in ("plan", "apply"):
            if not r[f"{phase}_bound"]:
                continue
            ratio = r[f"{phase}_calls"] / r[f"{phase}_bound"]
            if r["users"] >= 10_000:
                verdict = "MET" if ratio <= 1.05 else "NOT MET"
                print(
                    f"TARGET {r['vendor']} {phase} calls / lower bound <= 1.05 at {r['users']:,} users: "
                    f"{ratio:.3f}  {verdict}"
                )
    for r in results:  # the client's own CPU and peak RSS, `enrollctl plan` against naive_baseline.py
        if r["users"] < 10_000:
            continue
        for what, limit in (("cpu", 1.5), ("rss", 1.2)):
            ratio = r[f"plan_{what}"] / r[f"naive_{what}"]
            print(
                f"TARGET {r['vendor']} plan client {what.upper()} / naive baseline <= {limit} at "
                f"{r['users']:,} users: {ratio:.2f}  {'MET' if ratio <= limit else 'NOT MET'}"
            )
    by_vendor: defaultdict[str, dict[int, dict[str, float]]] = defaultdict(dict)
    for r in everything:
        by_vendor[r["vendor"]][r["users"]] = r["page_cpu_ms"]
    for vendor, sizes in by_vendor.items():
        small, large = min(sizes), max(sizes)
        if small == large:
            continue
        for name in sorted(sizes[small]):
            if name in sizes[large]:
                ratio = sizes[large][name] / sizes[small][name]
                verdict = "MET" if ratio <= 1.5 else "NOT MET"
                print(
                    f"TARGET {vendor} emulator CPU per {name} page, {large:,} vs {small:,} users <= 1.5: "
                    f"{ratio:.2f}  {verdict}"
                )


def floor(results: list[dict[str, Any]], start: dict[str, float]) -> None:
    """What the CPU and RSS targets leave for planning, next to what cannot be avoided.

    The floor of a plan: the naive baseline's own figure, plus what enrollctl's start-up costs beyond the
    baseline's (`import reconciler.cli.app` against `import httpx`), plus (CPU) encoding the plan's actions
    once with the C encoder, compact. Any plan that starts the CLI and writes its plan file spends at least
    that; a floor over the target means the target cannot be met by making planning cheaper.
    """
    extra_cpu = start["enrollctl_cpu"] - start["naive_cpu"]
    extra_rss = start["enrollctl_rss"] - start["naive_rss"]
    print(
        f"\nstart-up: enrollctl CLI {start['enrollctl_cpu']:.2f} s, {start['enrollctl_rss']:.0f} MB; "
        f"naive (httpx) {start['naive_cpu']:.2f} s, {start['naive_rss']:.0f} MB"
    )
    heading = ("encode s", 10), ("CPU floor", 11), ("/naive", 8), ("RSS floor", 11), ("/naive", 8)
    print(f"{'vendor':<8}{'users':>8}" + "".join(f"{name:>{width}}" for name, width in heading))
    for r in results:
        cpu = r["naive_cpu"] + extra_cpu + r["encode_cpu"]
        rss = r["naive_rss"] + extra_rss
        print(
            f"{r['vendor']:<8}{r['users']:>8,}{r['encode_cpu']:>10.2f}{cpu:>11.2f}"
            f"{cpu / r['naive_cpu']:>8.2f}{rss:>11.0f}{rss / r['naive_rss']:>8.2f}"
        )
