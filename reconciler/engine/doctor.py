"""`enrollctl doctor`: does every call plan and apply need work with these credentials? Read-only.

For each provider of enrollctl.yaml (policies are not read: doctor is what a user runs before writing any),
build it exactly as `plan` does (a real account, or the sandbox through `sandbox.connect`), let it probe
its reads (`Provider.diagnose`) and collect the diagnoses; with `record_to`, write the exchanges with
secrets and personal data scrubbed (`engine.recording`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.core.doctor import DoctorReport, ProviderDiagnosis
from reconciler.engine.build import ProviderBuilder, build_provider
from reconciler.engine.recording import Recording
from reconciler.errors import UsageError
from reconciler.manifest.load import load_config


def run_doctor(
    root: Path,
    env: Mapping[str, str],
    *,
    providers: tuple[str, ...] = (),
    record_to: Path | None = None,
    build: ProviderBuilder | None = None,
) -> DoctorReport:
    """Diagnose every provider (or only `providers`) of the repository at `root`."""
    config = load_config(str(root))
    unknown = [name for name in providers if name not in config.providers]
    if unknown:
        known = ", ".join(config.providers)
        raise UsageError(f"--provider {', '.join(unknown)}: not in enrollctl.yaml (providers: {known})")
    recording = Recording() if record_to is not None else None
    found: list[ProviderDiagnosis] = []
    for name, provider_config in config.providers.items():
        if providers and name not in providers:
            continue
        provider, close = (build or build_provider)(provider_config, root, env)
        try:
            diagnosis = provider.diagnose()
        finally:
            close()
        found.append(diagnosis.report)
        if recording is not None:
            recording.add(name, diagnosis)
    written = recording.write(record_to) if recording is not None and record_to is not None else 0
    return DoctorReport(tuple(found), str(record_to) if record_to is not None else None, written)
