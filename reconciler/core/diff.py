"""Plan: the difference between the desired state and a snapshot, as actions, kept records and a summary.

Contract (pure, no I/O, no clock):
    build_plan(desired, snapshot, settings, options, *, now, capabilities,
               identity=IdentityReport(), index=None) -> ProviderPlan
- `desired` comes from `desired.expand` over ALL policies; `options.policies` (--policy) limits the plan to
  the items those policies assign, to adds/updates one of them asks for, and to their prunes.
- Managed items are the items any (selected) policy assigns; enrollments elsewhere are never touched.
- add: wanted but absent. update: present with differing due / lock / access (see `term_compare` for the
  drift-free rules), labelled tightened / loosened / past due. remove: only in items of `prune: true`
  policies, only administrator assignments unless `prune_catalog`, only for users in the directory, inside
  the snapshot's department scope and with an enrollable status; started or completed ones are kept unless
  the run allows them (`safety.removal_protection`), and then carry `Risk.PROTECTED_OVERRIDE`. Enrollments
  whose state could not be read (`Enrollment.unknown`) are never removed (`Kept(UNKNOWN)`), and
  `summary.unknown` counts them in pruned items for the `unknown_state` guard.
- Terms the vendor cannot set (`capabilities`) are never actioned: adds use the vendor default for them
  with a warning, differing fields an update cannot change become `Kept(UNSUPPORTED)`.
- `summary.estimated_calls` is left 0: the provider's `write_calls()` knows the cost.
Actions are ordered add, update, remove; then item title, then login.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter

from reconciler.core import terms as term_compare
from reconciler.core.compare import EffectiveTerms
from reconciler.core.desired import DesiredEnrollment, DesiredState, ManagedItem
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import (
    Capabilities,
    DueKind,
    Enrollment,
    Origin,
    Settings,
    Snapshot,
    Terms,
    User,
    format_hours,
)
from reconciler.core.plan import (
    PLAN_ORDER,
    Action,
    ActionKind,
    IdentityReport,
    Kept,
    KeptReason,
    ProviderPlan,
    Risk,
    RunOptions,
    Source,
    Summary,
    Warning,
    in_plan_order,
)
from reconciler.core.safety import is_completed, removal_protection
from reconciler.core.words import number, plural

_NOTIFY = attrgetter("notify")
# a KeptReason (a StrEnum) compares as its value
_KEPT_ORDER = attrgetter("item_title", "user_login", "reason", "user_id", "item_id")


@dataclass
class _Builder:
    """Collects a plan's parts while diffing; `freeze` sorts them into a `ProviderPlan`."""

    snapshot: Snapshot
    index: DirectoryIndex
    items: Mapping[str, ManagedItem]
    caps: Capabilities
    now: dt.datetime
    actions: dict[ActionKind, list[Action]] = field(default_factory=lambda: {kind: [] for kind in PLAN_ORDER})
    kept: list[Kept] = field(default_factory=list)
    unchanged: int = 0
    out_of_scope: int = 0
    unsupported_adds: Counter[tuple[str, str]] = field(default_factory=Counter)  # (item title, field)
    unnotifiable: Counter[str] = field(default_factory=Counter)  # policy -> learners e-mailed anyway
    update_completed: bool = False  # --update-completed: change the terms of completed enrollments too
    # per distinct wanted terms (keyed by identity, the object kept): what an add of them sets, the fields
    # the vendor cannot set, and the add's risk labels; computed once per terms, not once per add
    add_terms: dict[int, tuple[Terms, Terms, tuple[str, ...], tuple[Risk, ...]]] = field(default_factory=dict)
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # user id -> (login, department path)

    def login(self, user_id: str) -> str:
        user = self.index.users_by_id.get(user_id)
        return user.login if user else user_id

    def action(
        self,
        kind: ActionKind,
        user_id: str,
        item_id: str,
        *,
        sources: tuple[Source, ...],
        terms: Terms | None = None,
        before: Enrollment | None = None,
        changes: tuple[str, ...] = (),
        risks: tuple[Risk, ...] = (),
        notify: bool = True,
    ) -> None:
        """Plan one action: named after its user (looked up once per user) and item."""
        item = self.items[item_id].item
        person = self.people.get(user_id)
        if person is None:
            person = self.people[user_id] = (self.login(user_id), self.index.user_department(user_id))
        login, department = person
        # the fields in declaration order: matching 13 keywords costs a third of making the action
        action = Action(kind, user_id, login, item_id, item.kind, item.title, terms, before, sources, changes,
                        risks, notify, department)  # fmt: skip
        self.actions[kind].append(action)

    def keep(
        self, reason: KeptReason, user_id: str, item_id: str, detail: str, sources: tuple[Source, ...]
    ) -> None:
        self.kept.append(
            Kept(
                reason=reason,
                user_id=user_id,
                user_login=self.login(user_id),
                item_id=item_id,
                item_title=self.items[item_id].item.title,
                detail=detail,
                sources=sources,
            )
        )


def _selected_items(desired: DesiredState, options: RunOptions) -> dict[str, ManagedItem]:
    """The managed items in play, with prunes limited to the selected policies."""
    if not options.policies:
        return dict(desired.items)
    chosen = set(options.policies)
    selected: dict[str, ManagedItem] = {}
    for item_id, managed in desired.items.items():
        if chosen.intersection(managed.policies):
            prune_by = tuple(s for s in managed.prune_by if s.policy in chosen)
            selected[item_id] = replace(managed, prune_by=prune_by)
    return selected


def _in_scope(user: User, snapshot: Snapshot) -> bool:
    scope = snapshot.scope_department_ids
    return scope is None or user.department_id in scope


def _add_terms(wanted: Terms, b: _Builder) -> tuple[Terms, tuple[str, ...], tuple[Risk, ...]]:
    found = b.add_terms.get(id(wanted))
    if found is None or found[0] is not wanted:  # the stored `wanted` keeps its id from being reused
        terms = term_compare.supported_terms(wanted, b.caps)
        missing = tuple(term_compare.unsupported_fields(wanted, b.caps))
        found = (wanted, terms, missing, term_compare.risks(terms, None, (), b.now))
        b.add_terms[id(wanted)] = found
    return found[1:]


def _add(wanted: DesiredEnrollment, b: _Builder) -> None:
    terms, unsupported, risks = _add_terms(wanted.terms, b)
    for missing in unsupported:
        b.unsupported_adds[(b.items[wanted.item_id].item.title, missing)] += 1
    notify = wanted.notify or not b.caps.notify_switch
    if notify and not wanted.notify:
        for policy in wanted.policies:
            b.unnotifiable[policy] += 1
    b.action(
        ActionKind.ADD,
        wanted.user_id,
        wanted.item_id,
        terms=terms,
        sources=wanted.sources,
        risks=risks,
        notify=notify,
    )


def _describe(field_name: str, wanted: DesiredEnrollment, before: Enrollment) -> str:
    """`due: LMS has 2026-05-31, policies want none`: one differing field, in the words plans use."""
    if field_name == term_compare.DUE:
        if before.due is not None:
            has = term_compare.utc_date(before.due).isoformat()
        else:
            has = f"within {format_hours(before.due_hours)}" if before.due_hours else "none"
        want = "none" if wanted.terms.due.kind is DueKind.UNLIMITED else str(wanted.terms.due)
        return f"due: LMS has {has}, policies want {want}"
    if field_name == term_compare.LOCK:
        has, want = ("on" if lock else "off" for lock in (before.lock_after_due, wanted.terms.lock_after_due))
        return f"lock after due: LMS has {has}, policies want {want}"
    has = term_compare.utc_date(before.access).isoformat() if before.access else "none"
    want = wanted.terms.access.isoformat() if wanted.terms.access else "on enrollment"
    return f"access: LMS has {has}, policies want {want}"


def _update(wanted: DesiredEnrollment, before: Enrollment, changed: tuple[str, ...], b: _Builder) -> None:
    changes = term_compare.changeable_fields(changed, wanted.terms, b.caps)
    blocked = [f for f in changed if f not in changes]
    if blocked:
        detail = f"{b.snapshot.kind.value} cannot change " + "; ".join(
            _describe(f, wanted, before) for f in blocked
        )
        b.keep(KeptReason.UNSUPPORTED, wanted.user_id, wanted.item_id, detail, wanted.sources)
    if not changes:
        b.unchanged += 1
        return
    if is_completed(before) and not b.update_completed:
        # a finished course's due date is history: changing it only churns reports and notifications
        detail = "completed; terms kept (--update-completed changes them): " + "; ".join(
            _describe(f, wanted, before) for f in changes
        )
        b.keep(KeptReason.COMPLETED_TERMS, wanted.user_id, wanted.item_id, detail, wanted.sources)
        return
    terms = term_compare.supported_terms(wanted.terms, b.caps)
    risks = term_compare.risks(terms, before, changes, b.now)
    b.action(
        ActionKind.UPDATE,
        wanted.user_id,
        wanted.item_id,
        terms=terms,
        before=before,
        sources=wanted.sources,
        changes=changes,
        risks=risks,
        notify=wanted.notify or not b.caps.notify_switch,
    )


def _remove(
    before: Enrollment,
    managed: ManagedItem,
    visible: Mapping[str, User] | set[str],
    settings: Settings,
    options: RunOptions,
    b: _Builder,
) -> None:
    """Plan the removal of an enrollment of a pruned item no policy wants, or keep it saying why."""
    if before.user_id not in visible:
        return  # not ours to remove: a user outside the directory or outside this run's department scope
    user = b.index.users_by_id[before.user_id]
    sources = managed.prune_by
    if before.unknown:  # fail closed: whatever decides protection (progress, origin, dates) is unreadable
        detail = f"state unreadable ({before.unknown}); never removed"
        b.keep(KeptReason.UNKNOWN, user.id, before.item_id, detail, sources)
        return
    if user.status not in settings.user_statuses:
        detail = f"user status {user.status.value} is outside settings.user_statuses: keeps assignments"
        b.keep(KeptReason.USER_NOT_ENROLLABLE, user.id, before.item_id, detail, sources)
        return
    if before.origin is Origin.CATALOG and not managed.prune_catalog:
        detail = "the learner enrolled from the catalog; a policy needs prune_catalog: true to remove it"
        b.keep(KeptReason.CATALOG, user.id, before.item_id, detail, sources)
        return
    reason = removal_protection(before, options)
    if reason is KeptReason.COMPLETED:
        b.keep(reason, user.id, before.item_id, "completed; --allow-remove-completed removes it", sources)
        return
    if reason is KeptReason.HAS_PROGRESS:
        detail = f"progress {before.progress:g}%; --allow-remove-started removes it"
        b.keep(reason, user.id, before.item_id, detail, sources)
        return
    if not b.caps.remove:
        b.keep(
            KeptReason.UNSUPPORTED, user.id, before.item_id, "the vendor cannot remove enrollments", sources
        )
        return
    risks = (Risk.PROTECTED_OVERRIDE,) if before.started else ()
    b.action(ActionKind.REMOVE, user.id, before.item_id, before=before, sources=sources, risks=risks)


def _warnings(b: _Builder) -> list[Warning]:
    kind = b.snapshot.kind.value
    found = [
        Warning(
            f"{kind} cannot set {name}: {number(n, 'new enrollment')} in {title!r} "
            f"{plural(n, 'gets', 'get')} the item's default instead"
        )
        for (title, name), n in sorted(b.unsupported_adds.items())
    ]
    found += [
        Warning(
            f"policy {policy!r} asks notify: false, but {kind} cannot suppress e-mails: "
            f"{number(n, 'learner')} notified"
        )
        for policy, n in sorted(b.unnotifiable.items())
    ]
    if b.out_of_scope:
        found.append(
            Warning(
                f"{number(b.out_of_scope, 'wanted enrollment')} of users outside this account's department "
                "scope not planned"
            )
        )
    return found


def build_plan(
    desired: DesiredState,
    snapshot: Snapshot,
    settings: Settings,
    options: RunOptions,
    *,
    now: dt.datetime,
    capabilities: Capabilities,
    identity: IdentityReport | None = None,
    index: DirectoryIndex | None = None,
) -> ProviderPlan:
    """The plan that makes `snapshot` match `desired` for this provider, within the run's options."""
    items = _selected_items(desired, options)
    b = _Builder(snapshot, index or DirectoryIndex.build(snapshot.directory), items, capabilities, now)
    b.update_completed = options.update_completed
    # held enrollments per managed item, by user: string keys whose hashes are cached, no key tuples
    held: dict[str, dict[str, Enrollment]] = {item_id: {} for item_id in items}
    untouched = unknown = 0
    for e in snapshot.enrollments:
        item_users = held.get(e.item_id)
        if item_users is None:
            untouched += 1
        else:
            item_users[e.user_id] = e
            if e.unknown and items[e.item_id].pruned:
                unknown += 1
    managed = sum(len(item_users) for item_users in held.values())
    visible = _visible_users(b.index, snapshot)
    chosen = set(options.policies)
    compare = term_compare.ChangedFieldsCache()
    resolve = EffectiveTerms(now)
    for wanted in desired.enrollments.values():
        item_users = held.get(wanted.item_id)
        if item_users is None:
            continue
        # taken out of `held` even when filtered below: what is left afterwards is held but not wanted
        before = item_users.pop(wanted.user_id, None)
        if chosen and not chosen.intersection(wanted.policies):
            continue
        if wanted.user_id not in visible:
            b.out_of_scope += 1
            continue
        if wanted.candidates:
            wanted = resolve.winner(wanted, before)
        if before is None:
            _add(wanted, b)
            continue
        changed = compare.changed_fields(wanted.terms, before)
        if changed:
            _update(wanted, before, changed, b)
        else:
            b.unchanged += 1
    for item_id, unwanted in held.items():
        managed_item = items[item_id]
        if managed_item.pruned:  # enrollments in unpruned items are not ours to remove
            for before in unwanted.values():
                _remove(before, managed_item, visible, settings, options, b)
    return _freeze(b, identity or IdentityReport(), managed=managed, untouched=untouched, unknown=unknown)


def _visible_users(index: DirectoryIndex, snapshot: Snapshot) -> Mapping[str, User] | set[str]:
    """Ids of the directory's users inside the snapshot's department scope (all of them without a scope)."""
    if snapshot.scope_department_ids is None:
        return index.users_by_id
    return {u.id for u in index.users_by_id.values() if _in_scope(u, snapshot)}


def _freeze(
    b: _Builder, identity: IdentityReport, *, managed: int, untouched: int, unknown: int
) -> ProviderPlan:
    actions = in_plan_order(b.actions)
    snapshot = b.snapshot
    summary = Summary(
        add=len(b.actions[ActionKind.ADD]),
        update=len(b.actions[ActionKind.UPDATE]),
        remove=len(b.actions[ActionKind.REMOVE]),
        kept=len(b.kept),
        unchanged=b.unchanged,
        managed=managed,
        untouched=untouched,
        notifications=sum(map(_NOTIFY, b.actions[ActionKind.ADD])),  # `notify` is a bool
        unknown=unknown,
    )
    return ProviderPlan(
        provider=snapshot.provider,
        kind=snapshot.kind,
        account=snapshot.account,
        actions=actions,
        # item id last: two items with one title keep one order whatever order the snapshot lists them in
        kept=tuple(sorted(b.kept, key=_KEPT_ORDER)),
        identity=identity,
        warnings=tuple(_warnings(b)),
        summary=summary,
        managed_item_ids=tuple(sorted(b.items)),
    )
