"""Desired state: expand policies against the directory into (user, item) → terms, with every reason kept.

Contract (pure, no I/O):
- `expand(policies, directory, settings, *, provider) -> ExpandResult` never raises for bad names: unknown or
  ambiguous departments, groups and items become `result.diagnostics` (with positions and candidates), and
  `expand_or_raise(...)` raises them all at once as `ResolutionError`. Unknown or non-enrollable *users* are
  never errors: they go to `result.identity`.
- Pass the policies of every provider, or only this one's: policies whose `spec.provider` names another
  provider are skipped; a policy without `provider` is taken to belong to `provider` (the manifest loader
  only allows that when one provider is configured). Pass ALL policies even for a `--policy` run: `diff`
  applies the filter, so that removals still see what the other policies want.
- Conflicts (several policies, or several entries, want one enrollment): `combine_terms` picks the
  strictest terms deterministically and independently of order; every `Source` is kept, sorted.
  Due: the earliest *effective* due date wins: a date is itself, a `within:` period counts from the
  enrollment's access (its assignment, or the earliest `access:` a policy sets; today for a new one), so
  a period and a date are compared as dates, not as kinds of rule; on a tie the fixed date wins. Any date
  or period beats `default`, which beats `unlimited`. Where dates and periods meet, the choice depends on
  the enrollment, so `DesiredEnrollment.candidates` keeps every contender and `terms_at(access)` decides
  (diff does, with the held enrollment's access or `now`). Lock if any asks. Access: the earliest date any
  policy sets (None if none does).
  `notify` is True only if every policy involved allows e-mails: one policy asking for silence (a bulk
  migration, say) must not be overridden by another that merely did not mention it.
- Users: a user counts only if their status is in `settings.user_statuses`; others matched by targets are
  counted in `identity.not_enrollable`, and named (NOT_ENROLLABLE) when a `users:` entry names them.
  An email shared by several users matches none of them (reported UNKNOWN) rather than guessing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core.byuser import UserItemMap
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import (
    Directory,
    EnrollmentKey,
    Item,
    ItemKind,
    Policy,
    Settings,
    Terms,
)
from reconciler.core.plan import IdentityReport, Source, Warning
from reconciler.core.references import Resolver, outside_scope, rule_text
from reconciler.core.terms import combine_terms, effective_due, mixes_dates_and_periods
from reconciler.core.where import terms_for
from reconciler.errors import Diagnostic, Position, ResolutionError

__all__ = [
    "DesiredEnrollment",
    "DesiredState",
    "DirectoryIndex",
    "ExpandResult",
    "ManagedItem",
    "combine_terms",
    "effective_due",
    "expand",
    "expand_or_raise",
    "rule_text",
]


@dataclass(frozen=True, slots=True)
class DesiredEnrollment:
    """One enrollment the policies want, its combined terms and every reason it is wanted."""

    user_id: str
    item_id: str
    item_kind: ItemKind
    terms: Terms
    sources: tuple[Source, ...]
    notify: bool = True  # True only if every policy involved allows learner e-mails
    # every contending set of terms, when a fixed date meets a period: the winner depends on the access
    # moment the period runs from (`terms_at`); empty when `terms` holds whatever the enrollment
    candidates: tuple[Terms, ...] = ()

    def terms_at(self, access: dt.datetime) -> Terms:
        """The winning terms for an enrollment whose period runs from `access` (the effective-date rule)."""
        return combine_terms(self.candidates, access=access) if self.candidates else self.terms

    @property
    def key(self) -> EnrollmentKey:
        return (self.user_id, self.item_id)

    @property
    def policies(self) -> tuple[str, ...]:
        """Names of the policies that want this enrollment, sorted, without repeats."""
        return tuple(sorted({s.policy for s in self.sources}))


@dataclass(frozen=True)
class ManagedItem:
    """An item some policy assigns: enrollctl manages its enrollments. `prune_by` is empty unless pruned."""

    item: Item
    policies: tuple[str, ...]  # every policy assigning it, sorted
    prune_by: tuple[Source, ...] = ()  # one Source per `prune: true` policy assigning it (rule "prune: true")
    prune_catalog: bool = False  # a pruning policy also prunes catalog self-enrollments

    @property
    def pruned(self) -> bool:
        return bool(self.prune_by)


@dataclass(frozen=True)
class DesiredState:
    """What all policies together want, plus the items they manage."""

    enrollments: Mapping[EnrollmentKey, DesiredEnrollment] = field(default_factory=dict)
    items: Mapping[str, ManagedItem] = field(default_factory=dict)  # item id -> managed item

    @property
    def managed_item_ids(self) -> frozenset[str]:
        """Items whose enrollments the provider must read (all items any policy assigns)."""
        return frozenset(self.items)

    @property
    def user_ids(self) -> frozenset[str]:
        """Users with at least one desired enrollment."""
        return frozenset(u for u, _ in self.enrollments)


@dataclass(frozen=True)
class ExpandResult:
    desired: DesiredState
    identity: IdentityReport
    diagnostics: tuple[Diagnostic, ...] = ()
    nobody: tuple[Policy, ...] = ()  # policies whose targets matched no enrollable user

    @property
    def warnings(self) -> tuple[Warning, ...]:
        """A plan warning per policy that targets nobody: a typo in a group, or a department emptied."""
        return tuple(
            Warning(
                f"policy {p.name!r} targets nobody: no enrollable user matches its targets (after exclude "
                "and settings.user_statuses), so it assigns nothing",
                p.position,
            )
            for p in self.nobody
        )

    def raise_for_diagnostics(self, *, scope: frozenset[str] | None = None) -> None:
        """Raise every resolution problem at once as a `ResolutionError`, if there is any. With the
        department `scope` of a department administrator's credentials, an unknown department or group says
        that it may simply lie outside what those credentials can see."""
        if not self.diagnostics:
            return
        if scope is None:
            raise ResolutionError(self.diagnostics)
        raise ResolutionError(tuple(outside_scope(d, len(scope)) for d in self.diagnostics))


# --- expansion -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contribution:
    """What one `assign` entry gives the users one set of target rules matched."""

    kind: ItemKind
    terms: int  # index into _Accumulator.terms
    sources: frozenset[int]  # indexes into _Accumulator.sources
    notify: bool


@dataclass
class _Accumulator:
    """Expansion state. Terms and sources are interned as small ints: 100,000 users share a few of each.
    A wanted enrollment keeps only the ids of the contributions it received, in order; enrollments that
    received the same ones share their combined terms and sources, worked out once (`_Combiner`)."""

    wanted: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # user -> item -> contribution ids
    contributions: list[_Contribution] = field(default_factory=list)
    terms: list[Terms] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    item_policies: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    prune_by: defaultdict[str, set[Source]] = field(default_factory=lambda: defaultdict(set))
    prune_catalog: set[str] = field(default_factory=set)
    items: dict[str, Item] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    not_enrollable: set[str] = field(default_factory=set)
    nobody: list[Policy] = field(default_factory=list)

    def intern_terms(self, terms: Terms) -> int:
        self.terms.append(terms)
        return len(self.terms) - 1

    def intern_sources(self, sources: Iterable[Source]) -> frozenset[int]:
        start = len(self.sources)
        self.sources.extend(sources)
        return frozenset(range(start, len(self.sources)))

    def contribute(self, contribution: _Contribution, item_id: str, users: Iterable[str]) -> None:
        """Record that `contribution` wants each of `users` in the item."""
        self.contributions.append(contribution)
        number = len(self.contributions) - 1
        wanted = self.wanted
        for user_id in users:
            items = wanted.get(user_id)
            if items is None:
                items = wanted[user_id] = {}
            received = items.get(item_id)
            if received is None:
                items[item_id] = [number]
            else:
                received.append(number)


def _belongs(policy: Policy, provider: str) -> bool:
    return policy.provider is None or policy.provider == provider


def expand(
    policies: Sequence[Policy],
    directory: Directory | DirectoryIndex,
    settings: Settings,
    *,
    provider: str,
    now: dt.datetime | None = None,
) -> ExpandResult:
    """Expand the policies of `provider` against the directory; never raises for unresolved names.
    `now` places `joined_within` windows (without it, only names are resolved for them)."""
    index = directory if isinstance(directory, DirectoryIndex) else DirectoryIndex.build(directory)
    resolver = Resolver(index, settings, now)
    acc = _Accumulator()
    for policy in sorted((p for p in policies if _belongs(p, provider)), key=lambda p: p.name):
        _expand_policy(policy, resolver, acc)
    issues = tuple(sorted(set(resolver.issues)))
    identity = IdentityReport(
        issues=issues,
        excluded=len(acc.excluded),
        not_enrollable=len(acc.not_enrollable - acc.excluded),
    )
    diagnostics = tuple(sorted(set(resolver.diagnostics)))
    return ExpandResult(_desired_state(acc), identity, diagnostics, tuple(acc.nobody))


def expand_or_raise(
    policies: Sequence[Policy],
    directory: Directory | DirectoryIndex,
    settings: Settings,
    *,
    provider: str,
    now: dt.datetime | None = None,
) -> ExpandResult:
    """`expand`, raising `ResolutionError` with every unknown or ambiguous name at once."""
    result = expand(policies, directory, settings, provider=provider, now=now)
    result.raise_for_diagnostics()
    return result


def _expand_policy(policy: Policy, resolver: Resolver, acc: _Accumulator) -> None:
    excluded = resolver.exclusions(policy)
    matched = resolver.targets(policy, excluded)  # user id -> rules that matched the user
    enrollable: dict[str, tuple[str, ...]] = {}
    for user_id, rules in matched.items():
        user = resolver.index.users_by_id[user_id]
        if user_id in excluded:
            acc.excluded.add(user_id)
        elif not resolver.enrollable(user):
            acc.not_enrollable.add(user_id)
        else:
            enrollable[user_id] = tuple(rules)
    if not enrollable:
        acc.nobody.append(policy)
    for position, assignment_index, item in resolver.items(policy):
        terms = policy.assign[assignment_index].terms
        if terms.due.from_hire_date:  # a due date per learner: their join date + the period
            by_terms: dict[Terms, dict[str, tuple[str, ...]]] = defaultdict(dict)
            for user_id, user_rules in enrollable.items():
                by_terms[terms_for(terms, resolver.index.users_by_id.get(user_id))][user_id] = user_rules
            for own, users in by_terms.items():
                _assign(policy, item, own, position, users, acc)
        else:
            _assign(policy, item, terms, position, enrollable, acc)


def _assign(
    policy: Policy,
    item: Item,
    terms: Terms,
    position: Position,
    users: Mapping[str, tuple[str, ...]],
    acc: _Accumulator,
) -> None:
    acc.items[item.id] = item
    acc.item_policies[item.id].add(policy.name)
    if policy.prune:
        acc.prune_by[item.id].add(Source(policy.name, policy.position, "prune: true"))
        if policy.prune_catalog:
            acc.prune_catalog.add(item.id)
    terms_id = acc.intern_terms(terms)
    by_rules: dict[tuple[str, ...], list[str]] = {}  # the users each set of matching rules selected
    for user_id, rules in users.items():
        same = by_rules.get(rules)
        if same is None:
            same = by_rules[rules] = []
        same.append(user_id)
    for rules, matched in by_rules.items():
        sources = acc.intern_sources(Source(policy.name, position, rule) for rule in rules)
        acc.contribute(_Contribution(item.kind, terms_id, sources, policy.notify), item.id, matched)


# a wanted enrollment's item kind, terms, sources, notify and contending terms
_Combined = tuple[ItemKind, Terms, tuple[Source, ...], bool, tuple[Terms, ...]]


class _Combiner:
    """A wanted enrollment's kind, terms and sources from the contributions it received, worked out once
    per distinct list of them: the strictest terms (`combine_terms`), every source once, in source order."""

    def __init__(self, acc: _Accumulator) -> None:
        self.acc = acc
        order = sorted(range(len(acc.sources)), key=acc.sources.__getitem__)
        self.rank = {i: r for r, i in enumerate(order)}
        self.combined: dict[frozenset[int], tuple[Terms, tuple[Terms, ...]]] = {}
        self.ordered: dict[frozenset[int], tuple[Source, ...]] = {}
        self.made: dict[tuple[int, ...], _Combined] = {}

    def wanted(self, user_id: str, item_id: str, received: list[int]) -> DesiredEnrollment:
        key = tuple(received)
        made = self.made.get(key)
        if made is None:
            made = self.made[key] = self._combine([self.acc.contributions[n] for n in key])
        kind, terms, sources, notify, contenders = made
        return DesiredEnrollment(user_id, item_id, kind, terms, sources, notify, contenders)

    def _combine(self, received: list[_Contribution]) -> _Combined:
        terms_ids = frozenset(c.terms for c in received)
        source_ids = frozenset().union(*(c.sources for c in received))
        if terms_ids not in self.combined:
            # one order, whatever the input's
            contending = sorted({self.acc.terms[i] for i in terms_ids}, key=repr)
            mixed = tuple(contending) if mixes_dates_and_periods(contending) else ()
            self.combined[terms_ids] = (combine_terms(contending), mixed)
        if source_ids not in self.ordered:
            ranked = sorted(source_ids, key=self.rank.__getitem__)
            self.ordered[source_ids] = tuple({self.acc.sources[i]: None for i in ranked})
        terms, contenders = self.combined[terms_ids]
        notify = all(c.notify for c in received)
        return received[0].kind, terms, self.ordered[source_ids], notify, contenders


def _desired_state(acc: _Accumulator) -> DesiredState:
    combiner = _Combiner(acc)
    # by user, then item (sorted): no key tuple per enrollment kept (UserItemMap)
    enrollments = UserItemMap.of_users(
        {
            user_id: {
                item_id: combiner.wanted(user_id, item_id, received[item_id]) for item_id in sorted(received)
            }
            for user_id, received in sorted(acc.wanted.items())
        }
    )
    items = {
        item_id: ManagedItem(
            item=item,
            policies=tuple(sorted(acc.item_policies[item_id])),
            prune_by=tuple(sorted(acc.prune_by.get(item_id, ()))),
            prune_catalog=item_id in acc.prune_catalog,
        )
        for item_id, item in sorted(acc.items.items())
    }
    return DesiredState(enrollments, items)
