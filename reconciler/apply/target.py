"""Checks before apply reads anything: the plan is for these providers and manifests, and is complete."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.plan import ActionKind, Plan
from reconciler.errors import PlanError
from reconciler.providers.base import Provider


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
