"""Fail closed on an unreadable vendor value, end to end over loopback HTTP (issue 17, item 1).

A Litmos account holds Olga's Anti-Bribery enrollment at 40 %; the account's server writes the percentage
as `"40,00"`. The repository's pruning policy no longer targets Olga, so a reader that took the value for 0
would show her as "not started" and let the plan remove 40 % of training. The provider must read the
enrollment as unknown, keep it in the snapshot and say why, whichever way enrollments are read.
(That the plan then keeps it and refuses to prune is asserted with the core, in tests/core.)
"""

from __future__ import annotations

import fnmatch
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.desired import expand
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import Completion
from reconciler.engine.workspace import Workspace, load_workspace
from reconciler.providers.litmos.provider import LitmosProvider
from reconciler.providers.litmos.read import ReadStrategy
from reconciler.sandbox.litmos.app import make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.serve import open_sandbox, serve

API_KEY = "fail-closed-test-key"

ORG = """
departments: [{name: Acme, children: [{name: Sales}, {name: Ops}]}]
users:
  - {login: helen@acme.example, department: Acme/Sales}
  - {login: olga@acme.example, department: Acme/Ops}
courses: [{title: Anti-Bribery}]
enrollments:
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, progress: 100}
  - {user: olga@acme.example, course: Anti-Bribery, status: in_progress, progress: 40}
"""

CONFIG = """
version: 1
policies: [policies]
providers:
  academy:
    kind: litmos
    url: {url}
    api_key_env: LITMOS_API_KEY
    source: enrollctl-tests
settings:
  max_removals: 10
  max_removal_share: 1.0
"""

# Olga (Acme/Ops) is no longer targeted, and the policy prunes
POLICY = """
apiVersion: enrollctl/v1
kind: Policy
metadata: {name: anti-bribery}
spec:
  targets: {departments: [Acme/Sales]}
  assign: [{course: Anti-Bribery}]
  prune: true
"""

# the emulator writes two decimals (`40.00`); a server in a comma-decimal locale writes `"40,00"`
FORTY = re.compile(rb'"PercentageComplete":40\.00\b')


def _comma_decimal(body: bytes) -> bytes:
    return FORTY.sub(b'"PercentageComplete":"40,00"', body)


@dataclass
class BodyRewriter:
    """WSGI middleware: the emulator answers, then `rewrite` changes the bodies of calls matching `calls`."""

    app: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
    calls: tuple[str, ...]
    rewrite: Callable[[bytes], bytes]
    rewritten: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = f"{environ['REQUEST_METHOD']} {str(environ['PATH_INFO']).removeprefix('/v1.svc')}"
        if not any(fnmatch.fnmatchcase(call, pattern) for pattern in self.calls):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
        answer: list[Any] = []
        body = b"".join(self.app(environ, lambda status, headers, *_: answer.extend([status, headers])))
        new = self.rewrite(body)
        if new != body:
            self.rewritten.append(call)
        headers = [(k, v) for k, v in answer[1] if k.lower() != "content-length"]
        start_response(answer[0], [*headers, ("Content-Length", str(len(new)))])
        return [new]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[Workspace, BodyRewriter]]:
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    store = open_sandbox(str(tmp_path / "org.yaml"), str(tmp_path / "lms.sqlite"))
    app = make_litmos_app(store, api_keys=(API_KEY,), rate_limit=RateLimit(requests_per_minute=1_000_000))
    rewriter = BodyRewriter(app, ("POST /users/courses", "GET /courses/*/users"), _comma_decimal)
    server, url = serve(rewriter)
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    (repo / "enrollctl.yaml").write_text(CONFIG.format(url=f"{url}/v1.svc"), encoding="utf-8")
    (repo / "policies" / "anti-bribery.yaml").write_text(POLICY, encoding="utf-8")
    opened = load_workspace(repo, {"LITMOS_API_KEY": API_KEY})
    try:
        yield opened, rewriter
    finally:
        opened.close()
        server.close()
        store.close()


@pytest.mark.parametrize("strategy", list(ReadStrategy))
def test_a_comma_decimal_percentage_is_read_as_unknown_and_kept(
    workspace: tuple[Workspace, BodyRewriter], strategy: ReadStrategy
) -> None:
    opened, rewriter = workspace
    provider = opened.providers["academy"]
    assert isinstance(provider, LitmosProvider)
    provider.strategy = strategy
    directory = provider.read_directory()
    login = {u.id: u.login for u in directory.users}
    desired = expand(
        opened.policies, DirectoryIndex.build(directory), opened.config.settings, provider="academy"
    )
    assert not desired.diagnostics
    olga_id = next(i for i, name in login.items() if name == "olga@acme.example")
    assert all(user != olga_id for user, _ in desired.desired.enrollments), "the policy no longer wants hers"

    enrollments = {
        login[e.user_id]: e for e in provider.read_enrollments(directory, desired.desired.managed_item_ids)
    }

    assert rewriter.rewritten, "the comma-decimal answer was never served"
    olga = enrollments["olga@acme.example"]  # kept in the snapshot, never dropped
    assert olga.unknown == "PercentageComplete '40,00' is not a number"
    assert olga.started and olga.completion is not Completion.NOT_STARTED
    helen = enrollments["helen@acme.example"]
    assert helen.unknown == "" and helen.completion is Completion.COMPLETED
