"""A fault-matrix harness: plan and apply an example repository against a sandbox served over loopback HTTP.

One `Lab` is one case: a fresh store seeded from the example's organisation file, served on a free port
behind a switch (faulty app for the run under test, clean app for the re-run), providers built by the
vendor's own `create` with a short client timeout and a shared fake clock (so `Retry-After`, backoff and
rate-limit windows cost no wall time), and a recorder in front of the vendor app that notes which
(user, item) pairs every write request that actually reached the LMS touched.
"""

from __future__ import annotations

import importlib
import shutil
import ssl
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reconciler.apply import run as apply
from reconciler.apply.basis import confirmed
from reconciler.apply.journal import Journal
from reconciler.apply.run import ApplyResult
from reconciler.core.model import Capabilities, Directory, ProviderKind
from reconciler.core.plan import Action, ActionKind, OutcomeStatus, Plan, RunOptions
from reconciler.engine.workspace import Workspace, plan_workspace, repository_digest
from reconciler.errors import ApplyFailed, ProviderError
from reconciler.manifest.load import load_manifest_repository
from reconciler.providers.base import Credentials, Provider
from reconciler.sandbox.faults import FaultInjector, faults_from_dict
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app, open_sandbox, serve
from tests.support.clocks import BASE, ClockJumps, FakeTime, JumpRule, ServerClock
from tests.support.paths import ROOT
from tests.support.write_recorder import Key, StartResponse, WriteRecorder, WSGIApp

EXAMPLES = ROOT / "examples"
# one TLS context for every client (the lab serves plain HTTP on loopback): httpx would otherwise load the
# system's CA certificates for each of the ~5 providers a case builds (~40 ms of CPU each)
_TLS = ssl.create_default_context()
EXAMPLE_OF = {"ispring": "quickstart", "litmos": "litmos"}


class Switch:
    """A WSGI app whose target can be swapped between runs (same port, same store); it counts the calls
    in flight, so the lab closes its store only after the last one has finished with it."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._in_flight = 0
        self._changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._changed:
            self._in_flight += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> None:
        """Wait until no call is in flight (at most `timeout` seconds)."""
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight == 0, timeout)


@dataclass
class RunRecord:
    """One apply run: its result or the error that ended it."""

    result: ApplyResult | None = None
    error: Exception | None = None


@dataclass
class Lab:
    """One fault case: a store, a served emulator behind a switch, and a way to build providers."""

    vendor: str
    root: Path
    faults: dict[str, Any]
    timeout: float = 5.0
    page_size: int | None = None
    clock_jump_seconds: float = 0.0
    clock_jump_rate: float = 0.0
    clock_jump_on: JumpRule | None = None  # jumps where this rule says (faulty runs only), not at random
    time: FakeTime = field(default_factory=FakeTime)
    runs: list[RunRecord] = field(default_factory=list)
    _directory: Directory | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        repository = load_manifest_repository(str(self.root))
        config, self.policies, self.policy_files = (
            repository.config,
            repository.policies,
            repository.policy_files,
        )
        self.config = config
        self.name = next(iter(config.providers))
        self.store = open_sandbox(str(self.root / "sandbox.yaml"), str(self.root / "lms.sqlite"))
        seed = int(self.faults.get("seed", 0))
        self.server_clock = ServerClock(
            self.time, jump_seconds=self.clock_jump_seconds, jump_rate=self.clock_jump_rate, seed=seed
        )
        self.recorder = WriteRecorder(
            build_app(self.vendor, self.store, None, self.server_clock), self.vendor, self._key_of_enrollment
        )
        # slow answers wait on an event, so closing the lab cuts short the ones still held back
        self.closing = threading.Event()
        self.faulty = build_app(
            self.vendor, self.store, faults_from_dict(self.faults), self.server_clock, self.closing.wait
        )
        self.jumps: ClockJumps | None = None
        if isinstance(self.faulty, FaultInjector):
            # the faults sit in front of the recorder, so the recorder sees only what reached the LMS
            self.faulty.app = self._jumping(self._recorded(self.faulty.app))
            self.faulty.monotonic = self.time.monotonic
        else:
            self.faulty = self._jumping(self._recorded(self.faulty))
        self.switch = Switch(self.faulty)
        self.server, self.url = serve(self.switch, poll_interval=0.01)  # close() within 10 ms
        self.initial = self.enrollment_keys()

    def _recorded(self, app: WSGIApp) -> WSGIApp:
        recorder = WriteRecorder(app, self.vendor, self._key_of_enrollment)
        recorder.writes = self.recorder.writes  # one record across faulty and clean runs
        return recorder

    def _jumping(self, app: WSGIApp) -> WSGIApp:
        if self.clock_jump_on is None:
            return app
        self.jumps = ClockJumps(app, self.server_clock, self.clock_jump_on)
        return self.jumps

    def heal(self) -> None:
        """The bad day is over: the same server answers without faults from now on."""
        self.switch.app = self.recorder

    def close(self) -> None:
        self.closing.set()
        self.server.close()
        self.switch.wait_idle(timeout=5)
        self.store.close()

    # --- providers, plans, applies ----------------------------------------------------------------------

    def provider(self) -> Provider:
        """A fresh provider for this lab's server, short timeout, fake clock."""
        config = self.config.providers[self.name]
        suffix = "/v1.svc" if config.kind is ProviderKind.LITMOS else ""
        client = httpx.Client(base_url=self.url + suffix, timeout=httpx.Timeout(self.timeout), verify=_TLS)
        module = importlib.import_module(f"reconciler.providers.{config.kind.value}.provider")
        kwargs: dict[str, Any] = {"sleep": self.time.sleep, "clock": self.time.monotonic}
        if config.kind is ProviderKind.ISPRING and self.page_size:
            options = importlib.import_module("reconciler.providers.ispring.provider").IspringOptions
            kwargs["options"] = options(page_size=self.page_size)
        provider: Provider = module.create(config, client, _credentials(config.kind), **kwargs)
        return provider

    def capabilities(self) -> Capabilities:
        """The provider's capabilities (the client it opens is closed again)."""
        provider = self.provider()
        try:
            return provider.capabilities
        finally:
            provider.close()

    def workspace(self) -> Workspace:
        digest = repository_digest(self.root, self.policy_files)
        provider = self.provider()
        return Workspace(
            self.root, self.config, self.policies, digest, {self.name: provider}, closers=[provider.close]
        )

    def plan(self) -> Plan:
        workspace = self.workspace()
        try:
            return plan_workspace(workspace, now=BASE, options=RunOptions())
        finally:
            workspace.close()

    def apply(self, plan: Plan) -> RunRecord:
        """One apply run; ApplyFailed and ProviderError are recorded (the contract allows them)."""
        workspace = self.workspace()
        record = RunRecord()
        try:
            record.result = apply.run(
                plan, workspace.providers, self.journal_dir, now=BASE, manifest_digest=workspace.digest
            )
        except (ApplyFailed, ProviderError) as error:
            record.error = error
        finally:
            workspace.close()
        self.runs.append(record)
        return record

    @property
    def journal_dir(self) -> Path:
        return self.root / ".enrollctl" / "journal"

    # --- the LMS as the store holds it --------------------------------------------------------------------

    def enrollment_keys(self) -> Counter[Key]:
        """(user, item) → rows in the store, in the vendor's ids (iSpring uuid, Litmos id)."""
        litmos = self.vendor == "litmos"
        users = {u.uuid: (u.litmos_id if litmos else u.uuid) for u in self.store.users()}
        items = {i.uuid: (i.litmos_id if litmos else i.uuid) for i in self.store.items()}
        return Counter((users[e.user_uuid], items[e.item_uuid]) for e in self.store.enrollments())

    def _key_of_enrollment(self, enrollment_id: str) -> Key | None:
        row = self.store.get_enrollment(enrollment_id)
        return None if row is None else (row.user_uuid, row.item_uuid)

    def injected(self) -> Counter[str]:
        """Faults injected by the middleware, plus faults the apps themselves answered (expired tokens)."""
        found: Counter[str] = Counter(getattr(self.faulty, "injected", {}))
        for entry in self.store.request_log():
            for marker in ("pageToken expired", "token expired"):
                if marker in entry.detail:
                    found[marker] += 1
            if self.vendor == "litmos" and entry.status in (429, 503) and not entry.detail:
                found["rate limited by the app"] += 1  # the Litmos emulator's own per-key limit
        return found

    def held(self, plan: Plan) -> dict[Key, Any]:
        """What the LMS holds now for the plan's pairs, read through a clean provider. The people and
        departments are read once per lab: applies change enrollments only, and a Litmos directory is ~40
        calls (team members page by page)."""
        keep = self.switch.app
        self.heal()
        provider = self.provider()
        try:
            if self._directory is None:
                self._directory = provider.read_directory()
            directory = self._directory
            items = frozenset(a.item_id for a in plan.actions)
            return {e.key: e for e in provider.read_enrollments(directory, items)}
        finally:
            provider.close()
            self.switch.app = keep


def _credentials(kind: ProviderKind) -> Credentials:
    creds = SANDBOX_CREDENTIALS[kind.value]
    if kind is ProviderKind.LITMOS:
        return Credentials(api_key=creds["api_key"])
    return Credentials(client_id=creds["client_id"], client_secret=creds["client_secret"])


def new_lab(vendor: str, target: Path, faults: dict[str, Any], **options: Any) -> Lab:
    """A lab on a fresh copy of the vendor's example repository."""
    shutil.copytree(EXAMPLES / EXAMPLE_OF[vendor], target, ignore=shutil.ignore_patterns(".enrollctl"))
    return Lab(vendor, target, faults, **options)


# --- the invariants -----------------------------------------------------------------------------------------


def journal_lies(lab: Lab, plan: Plan, held: dict[Key, Any] | None = None) -> list[str]:
    """Actions whose last journaled outcome contradicts the LMS (done but absent, failed but present);
    `held` is what `lab.held(plan)` returns, when the caller has read it already."""
    state = Journal.for_plan(lab.journal_dir, _plan_id(plan)).read()
    held = lab.held(plan) if held is None else held
    caps = lab.capabilities()
    lies: list[str] = []
    for action in plan.actions:
        status = state.outcomes.get(action.id)
        now = held.get((action.user_id, action.item_id))
        if status in (OutcomeStatus.DONE, OutcomeStatus.ALREADY) and not confirmed(action, now, caps):
            lies.append(f"{action.id}: journal says {status.value}, LMS disagrees")
        if status is OutcomeStatus.FAILED and _landed(action, now):
            lies.append(f"{action.id}: journal says failed, but the LMS has it")
    return lies


def _landed(action: Action, held: Any) -> bool:
    if action.kind is ActionKind.REMOVE:
        return held is None
    return held is not None and (action.kind is ActionKind.ADD or held != action.before)


def _plan_id(plan: Plan) -> str:
    from reconciler.apply.run import plan_id

    return plan_id(plan)


def repeated_writes(lab: Lab) -> dict[tuple[str, Key], int]:
    """Writes that reached the LMS more than once for the same (kind, user, item)."""
    counts = Counter(lab.recorder.writes)
    return {write: n for write, n in counts.items() if n > 1}


def wrong_changes(lab: Lab, plan: Plan) -> list[str]:
    """Pairs added or removed that the plan did not ask for, and any pair held twice."""
    now = lab.enrollment_keys()
    adds = {(a.user_id, a.item_id) for a in plan.actions if a.kind is ActionKind.ADD}
    removes = {(a.user_id, a.item_id) for a in plan.actions if a.kind is ActionKind.REMOVE}
    problems = [f"{k} held {n} times" for k, n in now.items() if n > 1]
    problems += [
        f"{k} removed without a planned removal" for k in lab.initial if k not in now and k not in removes
    ]
    problems += [f"{k} added without a planned add" for k in now if k not in lab.initial and k not in adds]
    return problems


def write_counts(lab: Lab) -> Iterator[tuple[str, int]]:
    """(kind, writes that reached the LMS) for reporting."""
    yield from sorted(Counter(kind for kind, _ in lab.recorder.writes).items())
