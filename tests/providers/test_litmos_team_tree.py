"""Litmos JSON team rows carry no `ParentTeamId` (recorded traffic): the department tree then comes from each
team's `/teams/{id}/teams`, and plans see the same departments as when the rows name their parents."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import yaml
from click.testing import CliRunner

from reconciler.cli.app import main
from reconciler.core.model import ProviderConfig, ProviderKind
from reconciler.engine.build import SANDBOX_FAULTS_VARIABLE
from reconciler.providers.base import Credentials
from reconciler.providers.litmos.provider import LitmosProvider, create
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.litmos.app import make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.store.database import Store
from tests.support.litmos_provider import BASE_URL, KEY, ORG
from tests.support.paths import ROOT

RECORDED = Path(__file__).resolve().parents[1] / "data" / "vendor" / "litmos-recorded"


def _provider(transport: httpx.BaseTransport) -> LitmosProvider:
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS, requests_per_minute=None)
    client = httpx.Client(transport=transport, base_url=BASE_URL)
    return create(config, client, Credentials(api_key=KEY), sleep=lambda _: None)


def _emulator(parents_in_json: bool) -> LitmosProvider:
    store = Store.open(":memory:")
    seed_store(store, parse_org(ORG))
    faults = Faults(litmos_team_parents=parents_in_json)
    app = make_litmos_app(store, faults, rate_limit=RateLimit(requests_per_minute=100_000))
    return _provider(httpx.WSGITransport(app=app))


def test_without_parent_team_ids_the_tree_is_read_from_sub_team_lists() -> None:
    with_parents = _emulator(parents_in_json=True)  # the sandbox switch: the documented XML shape in JSON
    without = _emulator(parents_in_json=False)  # the default, as recorded
    expected = with_parents.read_directory()
    found = without.read_directory()
    assert any(d.parent_id for d in expected.departments), "the org has a tree to rebuild"
    assert found.departments == expected.departments and found.users == expected.users
    assert with_parents.api.vendor.stats.calls["GET /teams/{id}/teams"] == 0
    assert without.api.vendor.stats.calls["GET /teams/{id}/teams"] == len(expected.departments)


def _recorded(name: str) -> dict[str, bytes]:
    """Recorded GET answers by path (query dropped): the last one recorded for each path wins."""
    data = yaml.safe_load((RECORDED / name).read_text(encoding="utf-8"))
    bodies: dict[str, list[bytes]] = {}
    for exchange in data["interactions"]:
        path = httpx.URL(exchange["request"]["uri"]).path.removeprefix("/v1.svc")
        bodies.setdefault(path, []).append(exchange["response"]["body"]["string"].encode())
    return {path: found[0] for path, found in bodies.items()}


def test_recorded_sub_team_rows_make_the_tree() -> None:
    sub_teams = _recorded("get-sub-teams.yml")["/teams/JyLa085jwVs1/teams"]
    children = [row["Id"] for row in json.loads(sub_teams)]
    teams = json.dumps(
        [{"Id": "JyLa085jwVs1", "Name": "Max Chandler"}, *({"Id": c, "Name": c} for c in children)]
    ).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.svc")
        first_page = request.url.params.get("start", "0") == "0"
        if path == "/teams" and first_page:
            return httpx.Response(200, content=teams, headers={"content-type": "application/json"})
        if path == "/teams/JyLa085jwVs1/teams" and first_page:
            return httpx.Response(200, content=sub_teams, headers={"content-type": "application/json"})
        return httpx.Response(200, content=b"[]", headers={"content-type": "application/json"})

    directory = _provider(httpx.MockTransport(answer)).read_directory()
    parents = {d.id: d.parent_id for d in directory.departments}
    assert parents == {"JyLa085jwVs1": None, **dict.fromkeys(children, "JyLa085jwVs1")}
    assert re.fullmatch(r"\w+", children[0])


def test_a_plan_reaches_sub_teams_whether_or_not_team_rows_name_their_parents(tmp_path: Path) -> None:
    """The Litmos example's `departments: [Acme/Sales]` covers its sub-teams with the recorded JSON
    (no ParentTeamId: the tree comes from /teams/{id}/teams) exactly as with the documented shape."""
    switch = tmp_path / "parents.yaml"
    switch.write_text("litmos_team_parents: true\n")
    plans, sub_team_reads = {}, {}
    for name, env in (("recorded", {}), ("documented", {SANDBOX_FAULTS_VARIABLE: str(switch)})):
        repo = tmp_path / name
        shutil.copytree(ROOT / "examples" / "litmos", repo, ignore=shutil.ignore_patterns(".enrollctl"))
        result = CliRunner().invoke(main, ["-C", str(repo), "plan"], env=env)
        assert result.exit_code == 0, result.output
        plans[name] = result.output
        log = Store.open(str(repo / ".enrollctl" / "sandbox-academy.sqlite")).request_log("litmos")
        sub_team_reads[name] = sum(1 for e in log if e.action == "GET /teams/{team}/teams")
    assert sub_team_reads["documented"] == 0 and sub_team_reads["recorded"] == 11  # one per team
    assert plans["recorded"] == plans["documented"]
    anti_bribery = plans["recorded"].split("Policy anti-bribery")[1].split("Policy ")[0]
    for sales in ("kim@acme.example", "quinn@acme.example", "rosa@acme.example"):
        assert f"+ {sales}" in anti_bribery  # Sales itself and its sub-team Americas
    assert "nadia@acme.example" not in anti_bribery  # excluded as a new hire
