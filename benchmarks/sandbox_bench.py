"""Sandbox figures: load time of a generated organisation and rows/s paging enrollments over SOAP.

    .venv/bin/python benchmarks/sandbox_bench.py          # 10,000 users x 10 enrollments = 100,000 rows
    .venv/bin/python benchmarks/sandbox_bench.py --quick  # 1,000 users x 10 enrollments

Prints figures; asserts nothing (not a test).
"""

from __future__ import annotations

import argparse
import time

import httpx

from reconciler.sandbox.org.load import dump_org_json, dump_org_yaml, generate_org, parse_org, seed_store
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store.database import Store

NS = "https://ispringlearn.com/go/services/api/soap"
ENVELOPE = (
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/" xmlns="{ns}">'
    "<SOAP-ENV:Body>"
    "<{method}Request><credentials><token>{token}</token></credentials>{params}</{method}Request>"
    "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
ALL_USERS = "<userStatuses><value>1</value><value>3</value><value>5</value></userStatuses>"


def timed(label: str, started: float, extra: str = "") -> float:
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s  {extra}")
    return seconds


def page_through(client: httpx.Client, method: str, row_tag: str, params: str, size: int) -> int:
    """Follow nextPageToken to the end; returns the number of rows read."""
    token, rows, after = SANDBOX_CREDENTIALS["ispring"]["token"], 0, ""
    while True:
        body = ENVELOPE.format(
            ns=NS, method=method, token=token, params=f"{params}<pageSize>{size}</pageSize>{after}"
        )
        text = client.post("/api/v2/soap/2.0", content=body, headers={"SOAPAction": method}).text
        rows += text.count(f"<{row_tag}>")
        if "<nextPageToken>" not in text:
            return rows
        next_token = text.split("<nextPageToken>", 1)[1].split("</nextPageToken>", 1)[0]
        after = f"<pageToken>{next_token}</pageToken>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    parser.add_argument(
        "--yaml", action="store_true", help="also time writing and reading the org as YAML and JSON"
    )
    args = parser.parse_args()
    users = 1_000 if args.quick else 10_000

    started = time.perf_counter()
    org = generate_org(
        users, departments=200, groups=50, courses=100, learning_paths=10, enrollments_per_user=10
    )
    generate = timed(f"generate {users:,}-user org", started, f"{len(org.enrollments):,} enrollments")
    started = time.perf_counter()
    store = Store.open(":memory:")
    seed_store(store, org)
    load = generate + timed("seed it into SQLite (one transaction)", started)
    print(f"{'load time (generate + seed)':<44} {load:8.2f} s")

    if args.yaml:
        started = time.perf_counter()
        text = dump_org_yaml(org)
        timed("dump as YAML", started, f"{len(text) / 1e6:.1f} MB")
        started = time.perf_counter()
        parse_org(text)
        timed("parse that YAML (libyaml if installed)", started)
        text = dump_org_json(org)
        started = time.perf_counter()
        parse_org(text)
        timed("parse the same org written as JSON", started, f"{len(text) / 1e6:.1f} MB")

    client = httpx.Client(
        transport=httpx.WSGITransport(app=build_app("ispring", store)), base_url="http://sandbox"
    )
    for method, tag, params in (
        ("ListLearnersResults", "learnerResult", ALL_USERS),
        ("ListEnrollments", "enrollment", ""),
    ):
        started = time.perf_counter()
        rows = page_through(client, method, tag, params, 1000)
        seconds = timed(f"{method} pageSize 1000", started, f"{rows:,} rows")
        print(f"{'':<44} {'':>8}    {rows / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
