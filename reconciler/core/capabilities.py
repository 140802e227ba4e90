"""Policies against what their providers can do: reject, before anything runs, what a vendor cannot honour.

Pure: takes policies and each provider's `Capabilities` (from `provider.capabilities`, or offline from e.g.
`providers.litmos.provider.capabilities_for(config)`), returns diagnostics. `validate` and `plan` call it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from reconciler.core.model import Assignment, Capabilities, DueKind, ItemKind, Policy, ProviderKind
from reconciler.errors import Diagnostic

VENDOR_NAMES = {ProviderKind.ISPRING: "iSpring Learn", ProviderKind.LITMOS: "Litmos"}
DUE_FIX = "remove `due` (or write `due: default`) and set the due date in the item's own settings in {lms}"


REENROLL_FIX = {
    "iSpring Learn": "iSpring's SOAP API has no re-enroll, its REST API has "
    "(POST /enrollment/{id}/reenroll): set `api: rest` (the default) on the provider, or remove `recur`",
    "Litmos": "Litmos resets only courses (PUT /users/{id}/courses/{id}/reset): recur the path's courses",
}


def check_capabilities(
    policies: Sequence[Policy],
    providers_capabilities: Mapping[str, Capabilities],
    kinds: Mapping[str, ProviderKind] | None = None,
) -> list[Diagnostic]:
    """One diagnostic per assignment term or item kind a policy's provider cannot store.

    A policy without `spec.provider` is checked against the only provider when there is one; a policy whose
    provider is unknown is left to manifest validation, which reports that itself.
    """
    found: list[Diagnostic] = []
    for policy in policies:
        provider = _provider_of(policy, providers_capabilities)
        if provider is None:
            continue
        caps = providers_capabilities[provider]
        kind = (kinds or {}).get(provider)
        vendor = f"provider {provider!r} ({VENDOR_NAMES[kind]})" if kind else f"provider {provider!r}"
        lms = VENDOR_NAMES[kind] if kind else "the LMS"
        for index, assignment in enumerate(policy.assign):
            for key, limit, fix in _refusals(assignment, caps, lms):
                found.append(
                    Diagnostic(
                        assignment.position,
                        f"spec.assign[{index}]{key}",
                        f"policy {policy.name!r}: {vendor} {limit}",
                        fix,
                    )
                )
    return found


def _provider_of(policy: Policy, providers: Mapping[str, Capabilities]) -> str | None:
    if policy.provider is not None:
        return policy.provider if policy.provider in providers else None
    return next(iter(providers)) if len(providers) == 1 else None


def _refusals(assignment: Assignment, caps: Capabilities, lms: str) -> Iterator[tuple[str, str, str]]:
    """(key suffix, what the vendor cannot do, how to fix it) for each unsupported part of an assignment."""
    item = assignment.item
    if item.kind not in caps.item_kinds:
        kind = "learning paths" if item.kind is ItemKind.LEARNING_PATH else "courses"
        key = f".{item.kind.value}"
        yield key, f"has no {kind} (asked for {item.value!r})", f"assign {kind} on a provider that has them"
    terms = assignment.terms
    due = terms.due
    if due.kind is not DueKind.DEFAULT and not caps.due_dates:
        yield ".due", f"cannot set a due date per assignment (asked for due: {due})", DUE_FIX.format(lms=lms)
    if terms.lock_after_due and not caps.lock_after_due:
        yield ".lock_after_due", "cannot lock an item after its due date", "remove `lock_after_due`"
    if terms.access is not None and not caps.access_dates:
        limit = f"cannot set an access (start) date per assignment (asked for access: {terms.access})"
        yield ".access", limit, "remove `access`; the learner gets access when enrolled"
    if terms.recur is not None and item.kind not in caps.reenroll:
        kind = "learning path" if item.kind is ItemKind.LEARNING_PATH else "course"
        limit = f"cannot start a completed {kind} over through its API (asked for recur: {terms.recur})"
        yield ".recur", limit, REENROLL_FIX.get(lms, "remove `recur`, or assign it on a provider that can")
