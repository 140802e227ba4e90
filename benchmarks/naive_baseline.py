"""The naive baseline: what a short script would do instead of enrollctl, for `scale_bench.py` to compare.

It reads the same vendor API directly with httpx (no limiter, retries, redaction, bounds or typed model),
expands the benchmark's policies (everyone, each top-level department with its sub-departments, each group;
one item each, all pruning, completed enrollments removable) with Python sets, and prints one JSON line:
the calls it made per endpoint and the adds and removals it found. Litmos is read per item roster.

    python benchmarks/naive_baseline.py litmos  URL KEY  POLICIES.json
    python benchmarks/naive_baseline.py ispring URL TOKEN POLICIES.json

POLICIES.json: {"everyone": item, "departments": {path: item}, "groups": {name: item}} (titles).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict

import httpx

PAGE = 1000
NS = "https://ispringlearn.com/go/services/api/soap"
ENVELOPE = (
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns="{ns}">'
    "<SOAP-ENV:Body><{m}Request><credentials><token>{t}</token></credentials>{p}</{m}Request>"
    "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
calls: Counter[str] = Counter()


def litmos(
    url: str, key: str, policies: dict[str, object]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    client = httpx.Client(base_url=url, headers={"apikey": key}, timeout=120)

    def pages(path: str, label: str) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        start = 0
        while True:
            calls[label] += 1
            params = {"source": "naive", "format": "json", "limit": PAGE, "start": start}
            page = client.get(path, params=params).json()
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            start += PAGE

    users = {str(u["Id"]): bool(u["Active"]) for u in pages("/users", "GET /users")}
    teams = pages("/teams", "GET /teams")
    members = {
        str(t["Id"]): {str(u["Id"]) for u in pages(f"/teams/{t['Id']}/users", "GET /teams/{id}/users")}
        for t in teams
    }
    items = {str(c["Name"]): (str(c["Id"]), "courses") for c in pages("/courses", "GET /courses")}
    items |= {
        str(p["Name"]): (str(p["Id"]), "learningpaths") for p in pages("/learningpaths", "GET /learningpaths")
    }
    children: defaultdict[str, list[str]] = defaultdict(list)
    if any("ParentTeamId" in t for t in teams):
        for t in teams:
            children[str(t.get("ParentTeamId") or "")].append(str(t["Id"]))
    else:  # JSON rows carry no parent (as recorded): each team's direct sub-teams, as enrollctl reads them
        below = {
            str(t["Id"]): [str(s["Id"]) for s in pages(f"/teams/{t['Id']}/teams", "GET /teams/{id}/teams")]
            for t in teams
        }
        nested = {s for subs in below.values() for s in subs}
        children[""] = [str(t["Id"]) for t in teams if str(t["Id"]) not in nested]
        children.update(below)
    names = {str(t["Id"]): str(t["Name"]) for t in teams}
    paths: dict[str, str] = {}

    def walk(team: str, prefix: str) -> None:
        paths[team] = f"{prefix}/{names[team]}" if prefix else names[team]
        for child in children[team]:
            walk(child, paths[team])

    for root in children[""]:
        walk(root, "")

    def subtree(team: str) -> set[str]:
        found = set(members[team])
        for child in children[team]:
            found |= subtree(child)
        return found

    by_path = {p: t for t, p in paths.items()}
    active = {u for u, on in users.items() if on}
    wanted: set[tuple[str, str]] = {(u, items[str(policies["everyone"])][0]) for u in active}
    for path, title in dict(policies["departments"]).items():  # type: ignore[call-overload]
        wanted |= {(u, items[title][0]) for u in subtree(by_path[path]) & active}
    for name, title in dict(policies["groups"]).items():  # type: ignore[call-overload]
        team = next(t for t, n in names.items() if n == name)
        wanted |= {(u, items[title][0]) for u in members[team] & active}
    managed = {items[str(t)] for t in _titles(policies)}
    held = {
        (str(row["Id"]), item)
        for item, kind in managed
        for row in pages(f"/{kind}/{item}/users", f"GET /{kind}/{{id}}/users")
    }
    return wanted - held, {(u, i) for u, i in held - wanted if users.get(u)}


def ispring(
    url: str, token: str, policies: dict[str, object]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    client = httpx.Client(base_url=url, timeout=120)

    def call(method: str, params: str = "") -> ET.Element:
        calls[method] += 1
        body = ENVELOPE.format(ns=NS, m=method, t=token, p=params)
        answer = client.post("/api/v2/soap/2.0", content=body, headers={"SOAPAction": method})
        return ET.fromstring(answer.content)

    def paged(method: str, row: str, params: str = "") -> list[ET.Element]:
        rows: list[ET.Element] = []
        token_part = ""
        while True:
            root = call(method, f"{params}<pageSize>{PAGE}</pageSize>{token_part}")
            rows.extend(root.iter(f"{{{NS}}}{row}"))
            nxt = root.find(f".//{{{NS}}}nextPageToken")
            if nxt is None:
                return rows
            token_part = f"<pageToken>{nxt.text}</pageToken>"

    def text(node: ET.Element, tag: str) -> str:
        found = node.find(f"{{{NS}}}{tag}")
        return (found.text or "") if found is not None else ""

    departments = {
        text(d, "departmentId"): (text(d, "name"), text(d, "parentDepartmentId"))
        for d in call("GetDepartments").iter(f"{{{NS}}}department")
    }
    groups = {text(g, "name"): text(g, "groupId") for g in call("GetGroups").iter(f"{{{NS}}}group")}
    users: dict[str, tuple[str, str, set[str]]] = {}
    for u in call("GetUsers", "<version>2</version>").iter(f"{{{NS}}}userProfile"):
        member_of = {i.text or "" for g in u.iter(f"{{{NS}}}groups") for i in g}
        users[text(u, "userId")] = (text(u, "status"), text(u, "departmentId"), member_of)
    items = {text(c, "title"): text(c, "contentItemId") for c in paged("ListContent", "contentItem")}

    def path_of(dep: str) -> str:
        name, parent = departments[dep]
        return f"{path_of(parent)}/{name}" if parent in departments else name

    def within(dep: str, root: str) -> bool:
        while dep in departments:
            if dep == root:
                return True
            dep = departments[dep][1]
        return False

    by_path = {path_of(d): d for d in departments}
    active = {u for u, (status, _, _) in users.items() if status == "1"}
    wanted = {(u, items[str(policies["everyone"])]) for u in active}
    for path, title in dict(policies["departments"]).items():  # type: ignore[call-overload]
        wanted |= {(u, items[title]) for u in active if within(users[u][1], by_path[path])}
    for name, title in dict(policies["groups"]).items():  # type: ignore[call-overload]
        wanted |= {(u, items[title]) for u in active if groups[name] in users[u][2]}
    ids = "".join(f"<id>{items[t]}</id>" for t in sorted(_titles(policies)))
    rows = paged("ListEnrollments", "enrollment", f"<courseIds>{ids}</courseIds>")
    held = {(text(e, "learnerId"), text(e, "courseId")) for e in rows}
    # self-enrolments from the catalog stay (a policy would need prune_catalog to remove them)
    catalog = {
        (text(e, "learnerId"), text(e, "courseId")) for e in rows if text(e, "enrollmentTypeGroup") == "1"
    }
    statuses = "<userStatuses><value>1</value><value>3</value><value>5</value></userStatuses>"
    paged("ListLearnersResults", "learnerResult", f"<courseIds>{ids}</courseIds>{statuses}")
    return wanted - held, {(u, i) for u, i in held - wanted - catalog if u in active}


def _titles(policies: dict[str, object]) -> set[str]:
    titles = {str(policies["everyone"])}
    titles |= set(dict(policies["departments"]).values())  # type: ignore[call-overload]
    titles |= set(dict(policies["groups"]).values())  # type: ignore[call-overload]
    return titles


def main(argv: list[str]) -> None:
    if argv == ["--quick"]:  # CI runs every script with --quick; this one needs an emulator to talk to
        print(
            "naive_baseline.py runs inside scale_bench.py (which serves the emulators); nothing to do alone"
        )
        return
    vendor, url, secret, policy_file = argv
    with open(policy_file, encoding="utf-8") as handle:
        policies = json.load(handle)
    adds, removes = (litmos if vendor == "litmos" else ispring)(url, secret, policies)
    print(json.dumps({"adds": len(adds), "removes": len(removes), "calls": dict(calls)}))


if __name__ == "__main__":
    main(sys.argv[1:])
