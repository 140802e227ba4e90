"""`enrollctl doctor`'s report: one line per vendor call and a verdict (text), or the same as JSON."""

from __future__ import annotations

import json
from typing import Any

from reconciler.core.doctor import Check, DoctorReport, Need, ProviderDiagnosis, Verdict
from reconciler.core.words import counted

FORMAT_VERSION = 1
_WIDTH = max(len(v.value) for v in Verdict)


def _latency(check: Check) -> str:
    if check.seconds is None:
        return ""
    return f"{check.seconds * 1000:.0f} ms"


def _line(check: Check, call_width: int) -> str:
    status = str(check.status) if check.status is not None else ""
    text = check.detail
    if check.meaning:
        text = f"{text}: {check.meaning}" if text else check.meaning
    if Need.PROFILES in check.needs:
        text += " (read only for where:/joined_within: targets)"
    if check.rate_limit:
        text += " [" + ", ".join(f"{k}: {v}" for k, v in check.rate_limit) + "]"
    columns = (
        f"  {check.verdict.value:<{_WIDTH}}  {check.call:<{call_width}}  {status:>3}  {_latency(check):>7}"
    )
    return f"{columns}  {text}".rstrip()


def _provider_text(diagnosis: ProviderDiagnosis) -> list[str]:
    transport = f", {diagnosis.api}" if diagnosis.api else ""
    lines = [f"{diagnosis.provider} ({diagnosis.kind}{transport}) {diagnosis.account}"]
    width = max((len(c.call) for c in diagnosis.checks), default=0)
    lines += [_line(check, width) for check in diagnosis.checks]
    scope = diagnosis.scope
    lines.append(f"  scope: {scope.detail}" + (f"; {scope.meaning}" if scope.meaning else ""))
    seen = diagnosis.rate_limit
    throttled = f"{counted(seen.throttled, 'throttled answer')}" if seen.throttled else "no throttling"
    headers = ", ".join(f"{k}: {v}" for k, v in seen.headers) or "no rate-limit headers"
    lines.append(f"  rate limit: {throttled} seen; {headers}")
    return lines


def verdict(report: DoctorReport) -> str:
    """The last line: ready or not, and why."""
    failing = [(p.provider, c) for p in report.providers for c in p.checks if c.blocking]
    writes = sum(1 for p in report.providers for c in p.checks if c.verdict is Verdict.NOT_PROBED)
    unprobed = f"{counted(writes, 'write')} not probed (doctor is read-only)"
    if failing:
        named = ", ".join(f"{name} {c.call} ({c.verdict.value})" for name, c in failing)
        return f"Verdict: not ready: {counted(len(failing), 'call')} that plan or apply need failed: {named}."
    limiting = [(p.provider, c) for p in report.providers for c in p.checks if c.limiting]
    caveat = (
        f"; but {', '.join(f'{name} {c.call} ({c.verdict.value})' for name, c in limiting)} failed: "
        "policies with `where:` or `joined_within:` cannot be planned"
        if limiting
        else ""
    )
    scoped = [p.provider for p in report.providers if p.scope.limited]
    if scoped:
        return (
            f"Verdict: ready within a department scope ({', '.join(scoped)}): every read plan and apply need "
            f"works, but only inside that scope; {unprobed}{caveat}."
        )
    return f"Verdict: ready: every read plan and apply need works; {unprobed}{caveat}."


def render_doctor_text(report: DoctorReport) -> str:
    """One block per provider, one line per call, then the verdict."""
    lines: list[str] = []
    for diagnosis in report.providers:
        lines += [*_provider_text(diagnosis), ""]
    if report.recorded_to is not None:
        lines.append(
            f"Recorded {counted(report.recorded, 'exchange')} to {report.recorded_to} "
            "(secrets masked, personal data replaced)."
        )
    lines.append(verdict(report))
    return "\n".join(lines) + "\n"


def _check_json(check: Check) -> dict[str, Any]:
    return {
        "call": check.call,
        "verdict": check.verdict.value,
        "needs": [n.value for n in check.needs],
        "status": check.status,
        "ms": None if check.seconds is None else round(check.seconds * 1000, 1),
        "detail": check.detail,
        "meaning": check.meaning,
        "rate_limit": dict(check.rate_limit),
    }


def _provider_json(diagnosis: ProviderDiagnosis) -> dict[str, Any]:
    scope = diagnosis.scope
    return {
        "provider": diagnosis.provider,
        "kind": diagnosis.kind,
        "api": diagnosis.api or None,
        "account": diagnosis.account,
        "ready": diagnosis.ready,
        "checks": [_check_json(c) for c in diagnosis.checks],
        "scope": {
            "limited": scope.limited,
            "department_ids": sorted(scope.department_ids) if scope.department_ids is not None else None,
            "top_departments": list(scope.departments),
            "detail": scope.detail,
            "meaning": scope.meaning,
        },
        "rate_limit": {
            "throttled": diagnosis.rate_limit.throttled,
            "headers": dict(diagnosis.rate_limit.headers),
        },
    }


def render_doctor_json(report: DoctorReport) -> str:
    """The report as JSON (`format_version` 1)."""
    data = {
        "format_version": FORMAT_VERSION,
        "ready": report.ready,
        "providers": [_provider_json(p) for p in report.providers],
        "recorded": None
        if report.recorded_to is None
        else {"directory": report.recorded_to, "exchanges": report.recorded},
        "verdict": verdict(report).removeprefix("Verdict: "),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
