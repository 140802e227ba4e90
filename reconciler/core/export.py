"""Export: the admin-assigned enrollments an LMS holds today, as compact policies that reproduce them.

Pure (no I/O, no clock: `now` is passed in). Contract: for every snapshot, `plan` over the exported policies
shows no changes. Per item, enrollments are grouped by the terms they would be exported with; each group
becomes one policy whose targets are `everyone` (when every enrollable user holds the enrollment), else the
departments (recursive where the whole subtree qualifies) and groups whose enrollable members all hold it,
chosen greedily largest first, then the remaining users by login.
- Only administrator assignments are exported: catalog self-enrollments are the learner's own choice.
- Users the directory does not know are skipped (nothing can name them); users whose status is outside
  `settings.user_statuses` are exported too (by login, or inside a chosen department), so the policy keeps
  wanting what they hold when they come back; until then `plan` lists them as not enrollable, and changes
  nothing for them.
- Terms: a reported date → `due: <date>`; a stored period → `due: {within: ...}`; the vendor's default →
  `due: default`; none → `due: unlimited`. `access` only when it lies after the day of `now` (a
  scheduled start; earlier access dates are when the enrollment was made). What the vendor cannot set is
  left at its default.
- `prune` is never set: an export must never cause removals.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core import terms as term_compare
from reconciler.core.directory import DirectoryIndex, normalize_path
from reconciler.core.model import (
    Assignment,
    Capabilities,
    DepartmentRef,
    Due,
    DueKind,
    Enrollment,
    GroupRef,
    Item,
    ItemRef,
    Origin,
    Policy,
    RefBy,
    Settings,
    Snapshot,
    Targets,
    Terms,
    UserRef,
)

MIN_COVER = 2  # a department or group must cover at least this many enrolled users; one is a login
MAX_NAME = 63


@dataclass(frozen=True)
class ExportedItem:
    """The policies exported for one item, one per distinct set of terms, largest first."""

    item: Item
    policies: tuple[Policy, ...]
    enrollments: int  # admin-assigned enrollments reproduced


@dataclass(frozen=True)
class ExportResult:
    """Everything one export of one provider produced, with the counts its summary reports."""

    items: tuple[ExportedItem, ...]
    skipped_catalog: int = 0  # self-enrollments, left out on purpose
    skipped_unknown_users: int = 0  # enrollments of users the directory does not list
    not_enrollable: int = 0  # exported enrollments of users outside settings.user_statuses

    @property
    def policies(self) -> tuple[Policy, ...]:
        return tuple(p for item in self.items for p in item.policies)

    @property
    def enrollments(self) -> int:
        return sum(item.enrollments for item in self.items)


@dataclass
class _Counts:
    catalog: int = 0
    unknown: int = 0
    not_enrollable: int = 0


def export_policies(
    snapshot: Snapshot,
    settings: Settings,
    *,
    now: dt.datetime,
    capabilities: Capabilities,
    provider: str | None = None,
    taken_names: Iterable[str] = (),
    name_prefix: str = "",
) -> ExportResult:
    """Policies reproducing the snapshot's admin-assigned enrollments; `provider` sets spec.provider."""
    index = DirectoryIndex.build(snapshot.directory)
    cover = _Coverer(index, frozenset(settings.user_statuses))
    names = _Names(set(taken_names))
    counts = _Counts()
    by_item: defaultdict[str, list[Enrollment]] = defaultdict(list)
    for enrollment in snapshot.enrollments:
        if enrollment.origin is not Origin.ADMIN:
            counts.catalog += 1
        elif enrollment.user_id not in index.users_by_id:
            counts.unknown += 1
        elif enrollment.item_id in index.items_by_id:
            by_item[enrollment.item_id].append(enrollment)
    exported = []
    for item in sorted((index.items_by_id[i] for i in by_item), key=lambda i: (i.title, i.kind, i.id)):
        enrollments = by_item[item.id]
        counts.not_enrollable += sum(1 for e in enrollments if not cover.enrollable(e.user_id))
        groups = _terms_groups(enrollments, capabilities, now)
        base = names.base(name_prefix + item.title)
        policies = tuple(
            Policy(
                name=names.claim(base),
                targets=cover.targets(users),
                assign=(Assignment(_item_ref(item, index), terms),),
                provider=provider,
            )
            for terms, users in groups
        )
        exported.append(ExportedItem(item, policies, len(enrollments)))
    return ExportResult(tuple(exported), counts.catalog, counts.unknown, counts.not_enrollable)


# --- terms -------------------------------------------------------------------------------------------


def exported_terms(enrollment: Enrollment, capabilities: Capabilities, now: dt.datetime) -> Terms:
    """The terms that reproduce an enrollment: they compare equal to it in `term_compare`."""
    due = Due()
    if capabilities.due_dates or capabilities.due_periods:
        due = _exported_due(enrollment)
    access = None
    if capabilities.access_dates and enrollment.access is not None:
        start = term_compare.utc_date(enrollment.access)
        access = start if start > term_compare.utc_date(now) else None
    lock = enrollment.lock_after_due and capabilities.lock_after_due
    return Terms(due=due, lock_after_due=lock, access=access)


def _exported_due(enrollment: Enrollment) -> Due:
    if enrollment.due_is_default:
        return Due(DueKind.DEFAULT)  # never compared, and the most faithful: the item's own default
    if enrollment.due_hours:
        return Due(DueKind.WITHIN, hours=enrollment.due_hours)
    if enrollment.due is not None:
        # either of a moment's calendar dates matches (term_compare.calendar_dates); take its own offset's
        return Due(DueKind.DATE, date=enrollment.due.date())
    return Due(DueKind.UNLIMITED)


def _terms_key(terms: Terms) -> tuple[str, str, bool, str]:
    due = terms.due
    detail = due.date.isoformat() if due.date else str(due.hours or "")
    return (due.kind.value, detail, terms.lock_after_due, terms.access.isoformat() if terms.access else "")


def _terms_groups(
    enrollments: Sequence[Enrollment], capabilities: Capabilities, now: dt.datetime
) -> list[tuple[Terms, frozenset[str]]]:
    """(terms, user ids) per distinct exported terms, the largest group first."""
    grouped: defaultdict[Terms, set[str]] = defaultdict(set)
    for enrollment in enrollments:
        grouped[exported_terms(enrollment, capabilities, now)].add(enrollment.user_id)
    ordered = sorted(grouped.items(), key=lambda pair: (-len(pair[1]), _terms_key(pair[0])))
    return [(terms, frozenset(users)) for terms, users in ordered]


# --- targets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A department or group target: who it matches, and whom of them policies can enroll."""

    order: tuple[int, str]  # departments before groups, then by path or name
    members: frozenset[str]
    enrollable: frozenset[str]
    department: DepartmentRef | None = None
    group: GroupRef | None = None


@dataclass
class _Coverer:
    index: DirectoryIndex
    statuses: frozenset[object]
    candidates: list[_Candidate] = field(default_factory=list)
    everyone: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        users = self.index.users_by_id
        self.everyone = frozenset(u for u in users if self.enrollable(u))
        for dept_id in sorted(self.index.departments_by_id, key=self.index.department_path):
            self._department(dept_id)
        for group in sorted(self.index.directory.groups, key=lambda g: (g.name, g.id)):
            members = frozenset(self.index.group_members.get(group.id, ()))
            ref = GroupRef(*_name_or_id(group.name, group.id, self._group_named(group.name, group.id)))
            self._add(_Candidate((1, group.name), members, members & self.everyone, group=ref))

    def enrollable(self, user_id: str) -> bool:
        return self.index.users_by_id[user_id].status in self.statuses

    def _department(self, dept_id: str) -> None:
        index = self.index
        path = index.department_path(dept_id)
        value, by = _name_or_id(path, dept_id, _department_named(index, path, dept_id))
        recursive = frozenset(index.department_users(dept_id, recursive=True))
        direct = frozenset(index.department_members.get(dept_id, ()))
        self._add(_Candidate((0, path), recursive, recursive & self.everyone, DepartmentRef(value, by)))
        if direct != recursive:
            ref = DepartmentRef(value, by, recursive=False)
            self._add(_Candidate((0, path), direct, direct & self.everyone, ref))

    def _add(self, candidate: _Candidate) -> None:
        if candidate.enrollable:
            self.candidates.append(candidate)

    def _group_named(self, name: str, group_id: str) -> bool:
        found = self.index.groups_by_name.get(name.strip(), ())
        return name == name.strip() and len(found) == 1 and found[0].id == group_id

    def targets(self, users: frozenset[str]) -> Targets:
        """Targets matching exactly the enrollable users of `users` (and holding all of `users`)."""
        if self.everyone and self.everyone <= users and len(self.everyone) >= MIN_COVER:
            return Targets(everyone=True)
        eligible = [c for c in self.candidates if c.enrollable <= users]
        eligible.sort(key=lambda c: (-len(c.members & users), c.order))
        chosen: list[_Candidate] = []
        covered: set[str] = set()
        while eligible:
            best, gain = _best(eligible, users, covered)
            if best is None or gain < MIN_COVER:
                break
            chosen.append(best)
            covered |= best.members & users
            eligible.remove(best)
        chosen.sort(key=lambda c: c.order)
        left = sorted((self.index.users_by_id[u] for u in users - covered), key=lambda u: (u.login, u.id))
        return Targets(
            departments=tuple(c.department for c in chosen if c.department is not None),
            groups=tuple(c.group for c in chosen if c.group is not None),
            users=tuple(UserRef(*_name_or_id(u.login, u.id, self._login_names(u.login, u.id))) for u in left),
        )

    def _login_names(self, login: str, user_id: str) -> bool:
        found = self.index.users_named(login) if login else ()
        return login == login.strip() and len(found) == 1 and found[0].id == user_id


def _best(
    eligible: Sequence[_Candidate], users: frozenset[str], covered: set[str]
) -> tuple[_Candidate | None, int]:
    """The candidate covering most not-yet-covered users (ties: departments first, then by name)."""
    best: _Candidate | None = None
    gain = 0
    for candidate in eligible:  # sorted by total coverage, so nothing later can beat a found gain
        if len(candidate.members & users) <= gain:
            break
        new = len((candidate.members & users) - covered)
        if new > gain:
            best, gain = candidate, new
    return best, gain


def _department_named(index: DirectoryIndex, path: str, dept_id: str) -> bool:
    found = index.departments_by_path.get(normalize_path(path), ())
    return bool(path) and len(found) == 1 and found[0].id == dept_id


def _name_or_id(name: str, item_id: str, by_name: bool) -> tuple[str, RefBy]:
    """A name where it names exactly this thing, else the id (duplicate names, stray spaces)."""
    return (name, RefBy.NAME) if by_name else (item_id, RefBy.ID)


def _item_ref(item: Item, index: DirectoryIndex) -> ItemRef:
    found = index.items_by_title.get((item.kind, item.title), ())
    unique = len(found) == 1 and item.title == item.title.strip() and item.title != ""
    return ItemRef(item.kind, *_name_or_id(item.title, item.id, unique))


# --- names -------------------------------------------------------------------------------------------


@dataclass
class _Names:
    """Policy names unique in the repository: `<slug>`, `<slug>-2`, ..."""

    taken: set[str]

    @staticmethod
    def base(title: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")
        return slug[: MAX_NAME - 6].strip("-") or "item"

    def claim(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}-{n}"
        self.taken.add(name)
        return name


def slug(title: str) -> str:
    """A file-name-safe slug of an item title ([a-z0-9-], never empty)."""
    return _Names.base(title)


def summary_counts(result: ExportResult) -> Mapping[str, int]:
    """The figures an export summary reports."""
    policies = result.policies
    return {
        "items": len(result.items),
        "policies": len(policies),
        "enrollments": result.enrollments,
        "listed_users": sum(len(p.targets.users) for p in policies),
        "catalog_skipped": result.skipped_catalog,
        "unknown_users_skipped": result.skipped_unknown_users,
        "not_enrollable": result.not_enrollable,
    }
