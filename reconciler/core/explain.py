"""Explain one learner: what the policies want for them, why, what the LMS holds, and what plan would do.

Pure (no I/O; `now` is passed in). `explain_user(policies, snapshot, settings, ...)` expands every policy
against the whole directory (department and group membership need it) and diffs only this user's
enrollments, so the verdicts are exactly those `plan` would give. The snapshot should hold the user's
enrollments in every item (not only managed ones), so the LMS side is complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from reconciler.core.contest import Asked, LosingTerm, Recurring, losing_terms, recurring
from reconciler.core.desired import DesiredEnrollment, DesiredState, ExpandResult, expand
from reconciler.core.diff import build_plan
from reconciler.core.directory import DirectoryIndex, closest
from reconciler.core.due import DueFact, DueInformation
from reconciler.core.model import (
    Capabilities,
    DepartmentRef,
    Enrollment,
    GroupRef,
    Item,
    Policy,
    Settings,
    Snapshot,
    Terms,
    User,
    UserRef,
)
from reconciler.core.plan import Action, Kept, KeptReason, RunOptions, Source
from reconciler.core.recurrence import add_reenrollments
from reconciler.core.references import Resolver, rule_text
from reconciler.errors import Position, UsageError


class Verdict:
    """What `plan` would do with one (user, item)."""

    ADD = "add"
    UPDATE = "update"
    REENROLL = "reenroll"  # completed, and the `recur:` period ran out
    REMOVE = "remove"
    KEEP = "keep"  # wanted and already as wanted
    KEPT = "kept"  # differs, but deliberately left alone (protected, catalog, unsupported, status)
    LEAVE = "leave"  # not wanted, not pruned: enrollctl does not touch it
    UNMANAGED = "unmanaged"  # no policy assigns the item


PolicyTerms = Asked  # the terms one assign entry asks for


@dataclass(frozen=True)
class Exclusion:
    """A policy whose targets match the user but whose `exclude` removes them."""

    policy: str
    rules: tuple[str, ...]  # e.g. "exclude.users: kevin@acme.example"
    positions: tuple[Position, ...]
    items: tuple[str, ...]  # titles of the items the policy assigns


@dataclass(frozen=True)
class ItemExplanation:
    """One item the user holds or is wanted in."""

    item: Item
    sources: tuple[Source, ...] = ()  # every (policy, assign entry, rule) that wants it; empty = not wanted
    rule_positions: tuple[Position, ...] = ()  # where each source's target rule is written (parallel)
    asked: tuple[PolicyTerms, ...] = ()  # what each wanting assign entry asks
    terms: Terms | None = None  # the winning terms (combined, strictest, for this enrollment's access)
    set_by: tuple[tuple[str, tuple[str, ...]], ...] = ()  # field -> policies asking the winning value
    lost: tuple[LosingTerm, ...] = ()  # what the other entries asked, field by field, and why it lost
    recurs: Recurring | None = None  # for a `recur:` assignment: counted from when, runs out when
    holds: Enrollment | None = None
    verdict: str = Verdict.UNMANAGED
    reason: str = ""
    changes: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` says about one user at one provider."""

    provider: str
    kind: str
    account: str
    user: User
    department: str
    groups: tuple[str, ...]
    enrollable: bool
    items: tuple[ItemExplanation, ...]
    excluded: tuple[Exclusion, ...] = ()
    issues: tuple[str, ...] = ()


# --- finding the user and the item -------------------------------------------------------------------


def find_user(index: DirectoryIndex, reference: str) -> User | None:
    """The user a login, email or id names; None when nothing matches; UsageError when several do."""
    by_id = index.users_by_id.get(reference.strip())
    if by_id is not None:
        return by_id
    found = index.users_named(reference)
    if len(found) > 1:
        ids = ", ".join(u.id for u in found)
        raise UsageError(f"{reference!r} names {len(found)} users", hint=f"name one by id: {ids}")
    return found[0] if found else None


def user_candidates(index: DirectoryIndex, reference: str) -> list[str]:
    """Logins and emails most like `reference`, for an unknown-user error."""
    # a bare first name ("helen") is a common slip for "helen@acme.example": compare local parts too
    names: dict[str, str] = {}
    for user in sorted(index.directory.users, key=lambda u: u.login):
        for name in (user.login, user.email, user.login.split("@")[0], user.email.split("@")[0]):
            if name:
                names.setdefault(name, user.login)
    return list(dict.fromkeys(names[n] for n in closest(reference, names)))


def find_item(index: DirectoryIndex, reference: str) -> Item:
    """The item an id or exact title (course or learning path) names; UsageError when several do."""
    by_id = index.items_by_id.get(reference.strip())
    if by_id is not None:
        return by_id
    found = [i for i in index.directory.items if i.title == reference]
    if len(found) > 1:
        ids = ", ".join(f"{i.kind.value} {i.id}" for i in found)
        raise UsageError(f"{reference!r} names {len(found)} items", hint=f"name one by id: {ids}")
    if not found:
        hint = closest(reference, [i.title for i in index.directory.items])
        raise UsageError(
            f"no course or learning path {reference!r}", hint=f"did you mean: {', '.join(hint)}?"
        )
    return found[0]


# --- explaining --------------------------------------------------------------------------------------


def explain_user(
    policies: Sequence[Policy],
    snapshot: Snapshot,
    settings: Settings,
    user: User,
    *,
    now: dt.datetime,
    capabilities: Capabilities,
    index: DirectoryIndex | None = None,
    item_id: str | None = None,
    dues: DueInformation | None = None,
) -> Explanation:
    """Explain `user` at the snapshot's provider; `item_id` limits it to one item; `dues` are the vendor's
    completion and expiry facts, for re-enrollments (as `plan` reads them)."""
    index = index or DirectoryIndex.build(snapshot.directory)
    expanded = expand(policies, index, settings, provider=snapshot.provider, now=now)
    expanded.raise_for_diagnostics()
    mine = {k: v for k, v in expanded.desired.enrollments.items() if k[0] == user.id}
    desired = DesiredState(mine, expanded.desired.items)
    held = [e for e in snapshot.enrollments if e.user_id == user.id]
    mine_held = replace(snapshot, enrollments=tuple(held))
    plan = build_plan(
        desired, mine_held, settings, RunOptions(), now=now, capabilities=capabilities, index=index
    )
    plan = add_reenrollments(
        plan, desired, mine_held, now=now, capabilities=capabilities, dues=dues, index=index
    )
    facts = {f.item_id: f for f in dues.facts if f.user_id == user.id} if dues is not None else {}
    actions = {a.item_id: a for a in plan.actions}
    kept = {k.item_id: k for k in plan.kept}
    holds = {e.item_id: e for e in held}
    wanted = {k[1]: v for k, v in mine.items()}
    item_ids = sorted(set(holds) | set(wanted), key=lambda i: (index.items_by_id[i].title, i))
    resolver = Resolver(index, settings)
    ours = [p for p in policies if p.provider in (None, snapshot.provider)]
    items = tuple(
        _item(
            index.items_by_id[i],
            wanted.get(i),
            holds.get(i),
            actions.get(i),
            kept.get(i),
            expanded,
            ours,
            resolver,
            _Context(user, now, facts.get(i)),
        )
        for i in item_ids
        if i in index.items_by_id and (item_id is None or i == item_id)
    )
    enrollable = user.status in settings.user_statuses
    excluded = tuple(
        e for e in _exclusions(ours, user, resolver, index) if item_id is None or _assigns(e, index, item_id)
    )
    return Explanation(
        provider=snapshot.provider,
        kind=snapshot.kind.value,
        account=snapshot.account,
        user=user,
        department=index.department_path(user.department_id),
        groups=tuple(sorted(index.groups_by_id[g].name for g in user.group_ids if g in index.groups_by_id)),
        enrollable=enrollable,
        items=items,
        excluded=excluded,
        issues=_issues(user, enrollable, ours, resolver, settings),
    )


def _assigns(exclusion: Exclusion, index: DirectoryIndex, item_id: str) -> bool:
    return index.items_by_id[item_id].title in exclusion.items


@dataclass(frozen=True)
class _Context:
    user: User
    now: dt.datetime
    fact: DueFact | None


def _item(
    item: Item,
    wanted: DesiredEnrollment | None,
    holds: Enrollment | None,
    action: Action | None,
    kept: Kept | None,
    expanded: ExpandResult,
    policies: Sequence[Policy],
    resolver: Resolver,
    ctx: _Context,
) -> ItemExplanation:
    asked = _asked(item, wanted, policies, resolver) if wanted else ()
    verdict, reason = _verdict(item, wanted, holds, action, kept, expanded)
    # the winner for this enrollment: a period counts from its access (a new one's from now), as diff does
    access = holds.access if holds is not None and holds.access is not None else ctx.now
    terms = wanted.terms_at(access) if wanted else None
    return ItemExplanation(
        item=item,
        sources=wanted.sources if wanted else (),
        rule_positions=tuple(_rule_position(s, policies) for s in wanted.sources) if wanted else (),
        asked=asked,
        terms=terms,
        set_by=_set_by(terms, asked) if terms is not None else (),
        lost=losing_terms(asked, terms, access, ctx.user) if terms is not None else (),
        recurs=recurring(terms.recur, holds, ctx.fact, ctx.now) if terms and terms.recur else None,
        holds=holds,
        verdict=verdict,
        reason=reason,
        changes=action.changes if action else (),
        risks=tuple(r.value for r in action.risks) if action else (),
    )


def _rule_position(source: Source, policies: Sequence[Policy]) -> Position:
    """Where the target rule of a source is written (the policy's start when it cannot be told)."""
    policy = next((p for p in policies if p.name == source.policy), None)
    if policy is None:
        return source.position
    targets = policy.targets
    if source.rule == "everyone":
        return targets.everyone_position if targets.everyone_position.file else policy.position
    sections: list[tuple[str, Sequence[DepartmentRef | GroupRef | UserRef]]] = [
        ("departments", targets.departments),
        ("groups", targets.groups),
        ("users", targets.users),
    ]
    for section, refs in sections:
        for ref in refs:
            if rule_text(section, ref) == source.rule:
                return ref.position if ref.position.file else policy.position
    return policy.position


def _asked(
    item: Item, wanted: DesiredEnrollment, policies: Sequence[Policy], resolver: Resolver
) -> tuple[PolicyTerms, ...]:
    names = set(wanted.policies)
    asked = []
    for policy in policies:
        if policy.name not in names:
            continue
        for position, index, resolved in resolver.items(policy):
            if resolved.id == item.id:
                asked.append(PolicyTerms(policy.name, position, policy.assign[index].terms))
    return tuple(sorted(asked, key=lambda a: (a.policy, a.position)))


def _set_by(terms: Terms, asked: Iterable[PolicyTerms]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For due, lock and access: which policies ask exactly the winning value."""
    listed = list(asked)

    def asking(same: Callable[[Terms], bool]) -> tuple[str, ...]:
        return tuple(sorted({a.policy for a in listed if same(a.terms)}))

    return (
        ("due", asking(lambda t: t.due == terms.due)),
        ("lock_after_due", asking(lambda t: t.lock_after_due == terms.lock_after_due)),
        ("access", asking(lambda t: t.access == terms.access)),
    )


def _verdict(
    item: Item,
    wanted: DesiredEnrollment | None,
    holds: Enrollment | None,
    action: Action | None,
    kept: Kept | None,
    expanded: ExpandResult,
) -> tuple[str, str]:
    if action is not None:
        if action.kind.value == Verdict.ADD:
            return Verdict.ADD, "wanted, and the LMS does not have it"
        if action.kind.value == Verdict.UPDATE:
            return Verdict.UPDATE, f"terms differ: {', '.join(action.changes)}"
        if action.kind.value == Verdict.REENROLL:  # `changes` holds why: the completion date and the rule
            return Verdict.REENROLL, f"the period ran out: {'; '.join(action.changes)}"
        return Verdict.REMOVE, f"no policy wants it and {', '.join(s.policy for s in action.sources)} prunes"
    if kept is not None:
        if kept.reason in (KeptReason.UNSUPPORTED, KeptReason.COMPLETED_TERMS):
            return Verdict.KEPT, kept.detail
        pruning = ", ".join(sorted({s.policy for s in kept.sources}))
        return Verdict.KEPT, f"no policy wants it and {pruning} prunes, but: {kept.detail}"
    if wanted is not None:
        return Verdict.KEEP, "wanted, and the LMS already has it as wanted"
    managed = expanded.desired.items.get(item.id)
    if managed is None:
        return Verdict.UNMANAGED, "no policy assigns this item: enrollctl never touches it"
    if managed.pruned:
        return Verdict.LEAVE, "no policy wants it; pruning leaves it alone (outside the run's scope)"
    return Verdict.LEAVE, f"no policy wants it, and none of {', '.join(managed.policies)} prunes"


def _exclusions(
    policies: Sequence[Policy], user: User, resolver: Resolver, index: DirectoryIndex
) -> Iterable[Exclusion]:
    for policy in sorted(policies, key=lambda p: p.name):
        if user.id not in resolver.targets(policy, set()) or user.id not in resolver.exclusions(policy):
            continue
        rules, positions = _exclusion_rules(policy, user, resolver)
        titles = tuple(sorted({item.title for _, _, item in resolver.items(policy)}))
        yield Exclusion(policy.name, rules, positions, titles)


def _exclusion_rules(
    policy: Policy, user: User, resolver: Resolver
) -> tuple[tuple[str, ...], tuple[Position, ...]]:
    exclude = policy.targets.exclude
    rules: list[str] = []
    positions: list[Position] = []
    for i, dept in enumerate(exclude.departments):
        if user.id in resolver.department(policy, dept, f"spec.targets.exclude.departments[{i}]"):
            rules.append(rule_text("exclude.departments", dept))
            positions.append(dept.position)
    for i, group in enumerate(exclude.groups):
        if user.id in resolver.group(policy, group, f"spec.targets.exclude.groups[{i}]"):
            rules.append(rule_text("exclude.groups", group))
            positions.append(group.position)
    for ref in exclude.users:
        named = resolver.user(policy, ref)
        if named is not None and named.id == user.id:
            rules.append(rule_text("exclude.users", ref))
            positions.append(ref.position)
    return tuple(rules), tuple(positions)


def _issues(
    user: User, enrollable: bool, policies: Sequence[Policy], resolver: Resolver, settings: Settings
) -> tuple[str, ...]:
    if enrollable:
        return ()
    statuses = ", ".join(s.value for s in settings.user_statuses)
    targeting = sorted(p.name for p in policies if user.id in resolver.targets(p, set()))
    issue = (
        f"status {user.status.value} is outside settings.user_statuses ({statuses}): policies do not enroll "
        "this user, and pruning leaves their enrollments alone"
    )
    if targeting:
        issue += f"; targeted by {', '.join(targeting)}"
    return (issue,)
