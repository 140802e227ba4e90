"""How apply compares what the LMS holds with what a plan action was based on and wants.

Pure functions over model data: `basis_changed` (is an action stale?), `satisfies` (does an enrollment
already have the wanted terms?), `confirmed` (did a write land?). Terms are compared exactly as the diff
compares them (`core.terms`), so "already so" here means "no change" in the next plan. And the checks of a
whole plan before anything runs: `check_plan_target` (this provider, account and manifest set) and
`check_actions_complete` (no hand-edited action without its basis).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from reconciler.core.model import Capabilities, Enrollment, Terms
from reconciler.core.plan import Action, ActionKind, Plan
from reconciler.core.terms import changed_fields, unsupported_fields
from reconciler.errors import PlanError
from reconciler.providers.base import Provider


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    # naive datetimes from a vendor are UTC by our providers' convention; normalise before comparing
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _terms_basis(e: Enrollment) -> tuple[object, ...]:
    return (_utc(e.access), _utc(e.due), e.due_hours, e.due_is_default, e.lock_after_due)


def _records_basis(e: Enrollment) -> tuple[object, ...]:
    return (e.origin, e.completion, round(e.progress, 3), _utc(e.completed_at), e.unknown)


def basis_changed(before: Enrollment, now_held: Enrollment) -> bool:
    """True when the LMS no longer holds what `before` recorded, in the fields `kind` depends on.

    Both depend on the terms and on the training records (progress, completion, origin, whether it could be
    read): a removal because they decide protection, an update because a reviewer approved new terms for a
    learner at the progress they saw, so new progress makes the update stale.
    """
    return _terms_basis(before) != _terms_basis(now_held) or _records_basis(before) != _records_basis(
        now_held
    )


def satisfies(e: Enrollment, terms: Terms, caps: Capabilities) -> bool:
    """True when `e` already has `terms` in every field the vendor can store (the diff's own comparison)."""
    missing = unsupported_fields(terms, caps)
    return all(f in missing for f in changed_fields(terms, e))


def confirmed(action: Action, held: Enrollment | None, caps: Capabilities) -> bool:
    """True when the LMS, read back after a write, shows `action` took effect."""
    if action.kind is ActionKind.REMOVE:
        return held is None
    if held is None:
        return False
    if action.terms is not None and satisfies(held, action.terms, caps):
        return True
    # an update the vendor answered but ignored leaves the enrollment exactly as it was
    if action.kind is ActionKind.UPDATE and action.before is not None:
        return _terms_basis(action.before) != _terms_basis(held)
    return action.kind is ActionKind.ADD


def check_plan_target(
    plan: Plan, providers: Mapping[str, Provider], manifest_digest: str | None = None
) -> None:
    """Refuse a plan made for another provider, account or manifest set (PlanError)."""
    if manifest_digest is not None and plan.manifest_digest != manifest_digest:
        raise PlanError(
            "the plan was made from other manifests than the ones in this repository now",
            hint="run `enrollctl plan` again on the current manifests",
        )
    for part in plan.providers:
        provider = providers.get(part.provider)
        if provider is None:
            raise PlanError(
                f"the plan is for provider {part.provider!r}, which enrollctl.yaml does not declare"
            )
        if provider.kind != part.kind or provider.account != part.account:
            raise PlanError(
                f"the plan for provider {part.provider!r} was made for {part.kind.value} account "
                f"{part.account}, but it is now {provider.kind.value} account {provider.account}",
                hint="a plan is only ever applied to the account it was made for",
            )


def check_actions_complete(plan: Plan) -> None:
    """Refuse actions diff never makes: an update or removal without `before`, an add or update without terms.

    Without `before` apply cannot tell whether the LMS still holds what the plan saw, and without terms
    it cannot say what to write; a plan file with such an action was edited by hand (PlanError).
    """
    for part in plan.providers:
        for action in part.actions:
            missing = [
                name
                for name, absent in (
                    ("before", action.kind is not ActionKind.ADD and action.before is None),
                    ("terms", action.kind is not ActionKind.REMOVE and action.terms is None),
                )
                if absent
            ]
            if missing:
                raise PlanError(
                    f"the plan's action {action.id} ({part.provider}) has no `{missing[0]}`, which an "
                    f"{action.kind.value} always records; nothing was written",
                    hint="the plan file was edited; run `enrollctl plan` again",
                )
