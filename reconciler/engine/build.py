"""Build a provider from its `enrollctl.yaml` entry: a real vendor account, or the built-in sandbox.

Secrets come from the environment variables the config names; a missing one is a ConfigError that names
the variable, never a value. A `sandbox:` provider runs the emulator in-process over a SQLite file under
`<root>/.enrollctl/`, seeded from the organisation file once, so `plan` and a later `apply` see one LMS.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx

from reconciler.core.model import Capabilities, ProviderConfig, ProviderKind
from reconciler.engine.clock import NOW_VARIABLE, current_time
from reconciler.errors import ConfigError
from reconciler.providers.base import Credentials, Progress, Provider
from reconciler.providers.ispring import provider as ispring
from reconciler.providers.litmos import provider as litmos
from reconciler.transport.http import make_client
from reconciler.transport.pacing import Sleep

STATE_DIR = ".enrollctl"
# for tests only: a fault-switch file (docs/SANDBOX.md) applied to every `sandbox:` provider of the run,
# so a test can slow down or disturb a real `enrollctl apply` process; real vendors never read it
SANDBOX_FAULTS_VARIABLE = "ENROLLCTL_SANDBOX_FAULTS"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
Closer = Callable[[], None]
ProviderBuilder = Callable[[ProviderConfig, Path, Mapping[str, str]], tuple[Provider, Closer]]


# the log-record attribute that marks a record as a progress update; the CLI's output handler shows such
# records on its progress line instead of as log lines
PROGRESS_FIELD = "enrollctl_progress"
_progress_log = logging.getLogger("enrollctl.progress")


def log_progress(label: str, done: int, total: int, elapsed: float) -> None:
    """The progress callback every provider gets: a tagged log record the CLI shows as its progress line."""
    _progress_log.info("%s %d/%d", label, done, total, extra={PROGRESS_FIELD: (label, done, total, elapsed)})


class _ProviderModule(Protocol):
    def create(
        self,
        config: ProviderConfig,
        client: httpx.Client,
        credentials: Credentials,
        *,
        progress: Progress,
        sleep: Sleep,
        today: Callable[[], dt.date],
    ) -> Provider: ...

    def capabilities_for(self, config: ProviderConfig) -> Capabilities: ...


def _module(kind: ProviderKind) -> _ProviderModule:
    """The vendor module for `kind`: a new vendor adds one line here."""
    modules: dict[ProviderKind, _ProviderModule] = {
        ProviderKind.ISPRING: ispring,
        ProviderKind.LITMOS: litmos,
    }
    return modules[kind]


def offline_capabilities(config: ProviderConfig) -> Capabilities:
    """What the provider `config` describes can do, known without credentials or network."""
    module = _module(config.kind)
    return module.capabilities_for(config)


def state_dir(root: Path) -> Path:
    """`<root>/.enrollctl/`, created with a `.gitignore` so its state never lands in the repository."""
    path = root / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return path


def sandbox_db_path(root: Path, provider: str) -> Path:
    """Where the sandbox state of `provider` lives."""
    return root / STATE_DIR / f"sandbox-{provider}.sqlite"


def credentials_from_env(config: ProviderConfig, env: Mapping[str, str]) -> Credentials:
    """Read the secrets the config names; ConfigError names a missing variable (never a value)."""
    if config.kind is ProviderKind.LITMOS:
        return Credentials(api_key=_required(config, env, "api_key_env", config.api_key_env))
    if config.token_env:
        return Credentials(token=_required(config, env, "token_env", config.token_env))
    return Credentials(
        client_id=_required(config, env, "client_id_env", config.client_id_env),
        client_secret=_required(config, env, "client_secret_env", config.client_secret_env),
    )


def _required(config: ProviderConfig, env: Mapping[str, str], key: str, variable: str | None) -> str:
    if not variable:
        raise ConfigError(
            f"provider {config.name!r} ({config.kind.value}) needs `{key}` in enrollctl.yaml",
            hint="name the environment variable that holds the secret, or use `sandbox: FILE`",
        )
    value = env.get(variable, "")
    if not value:
        raise ConfigError(
            f"environment variable {variable} is not set (provider {config.name!r}, `{key}`)",
            hint=f"export {variable}=... before running enrollctl",
        )
    return value


def build_provider(
    config: ProviderConfig, root: Path, env: Mapping[str, str], *, sleep: Sleep = time.sleep
) -> tuple[Provider, Closer]:
    """A ready provider for `config` and the function that releases what it holds; `sleep` waits out its
    retry back-offs and rate limit (tests inject one that returns at once)."""
    return _build(config, root, env, sleep=sleep)


def provider_builder(*, sandbox_faults: Mapping[str, Any], sleep: Sleep = time.sleep) -> ProviderBuilder:
    """For tests: a builder whose `sandbox:` providers answer through fault switches (docs/SANDBOX.md) and
    wait with `sleep`."""
    return partial(_build, faults=sandbox_faults, sleep=sleep)


def _build(
    config: ProviderConfig,
    root: Path,
    env: Mapping[str, str],
    *,
    faults: Mapping[str, Any] | None = None,
    sleep: Sleep = time.sleep,
) -> tuple[Provider, Closer]:
    if config.sandbox:
        client, credentials, release = _sandbox_client(config, root, env, faults)
        if _names_credentials(config):
            # a sandbox may be driven with other test credentials (e.g. a department administrator's)
            credentials = credentials_from_env(config, env)
    else:
        if not config.url:
            raise ConfigError(f"provider {config.name!r} needs `url` or `sandbox` in enrollctl.yaml")
        credentials = credentials_from_env(config, env)
        client = make_client(
            config.url, provider=config.name, insecure_http=config.insecure_http, timeout=TIMEOUT
        )
        release = _nothing
    module = _module(config.kind)
    try:
        # the run's date (ENROLLCTL_NOW when a rehearsal pins it) for writes that carry one: a re-enrollment
        # starts its new attempt today, so its `within:` due counts from the day the plan was made for
        today = _run_today(env)
        provider = module.create(config, client, credentials, progress=log_progress, sleep=sleep, today=today)
    except BaseException:
        client.close()
        release()
        raise

    def close() -> None:
        provider.close()
        client.close()
        release()

    return provider, close


def _run_today(env: Mapping[str, str]) -> Callable[[], dt.date]:
    return lambda: current_time(env).date()


def _names_credentials(config: ProviderConfig) -> bool:
    return bool(config.token_env or config.client_id_env or config.client_secret_env or config.api_key_env)


def _nothing() -> None:
    return None


def _pinned_clock(env: Mapping[str, str]) -> Callable[[], dt.datetime] | None:
    """The in-process sandbox's clock when `ENROLLCTL_NOW` pins the run's (tests, golden files): scripted
    completions then take effect at the same `now` the plan uses. Real vendors keep their own time."""
    if not env.get(NOW_VARIABLE):
        return None
    moment = current_time(env)
    return lambda: moment


def _sandbox_client(
    config: ProviderConfig, root: Path, env: Mapping[str, str], faults: Mapping[str, Any] | None
) -> tuple[httpx.Client, Credentials, Closer]:
    assert config.sandbox is not None
    org_file = root / config.sandbox
    if not org_file.is_file():
        raise ConfigError(
            f"provider {config.name!r}: sandbox organisation file {config.sandbox} not found under {root}"
        )
    # imported here: real-vendor runs never load the emulators
    from reconciler.sandbox.connect import connect

    state_dir(root)
    sandbox = connect(
        config.kind.value,
        str(org_file),
        str(sandbox_db_path(root, config.name)),
        faults=faults,
        faults_file=env.get(SANDBOX_FAULTS_VARIABLE) or None,
        now=current_time(env),  # scripted org events fire by the run's clock (ENROLLCTL_NOW)
        clock=_pinned_clock(env),
    )
    # the emulators answer on the vendors' own paths; Litmos lives under /v1.svc like its real base URL
    suffix = "/v1.svc" if config.kind is ProviderKind.LITMOS else ""
    client = httpx.Client(
        transport=httpx.WSGITransport(app=sandbox.app),
        base_url=f"http://sandbox.{config.kind.value}.invalid{suffix}",
        timeout=TIMEOUT,
    )
    fields = ("client_id", "client_secret", "token", "api_key")
    credentials = Credentials(**{k: v for k, v in sandbox.credentials.items() if k in fields})
    return client, credentials, sandbox.close
