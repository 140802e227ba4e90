"""The plan: what would change in the LMS and why, as frozen data.

A plan is data; rendering (`reconciler.render`) and applying (`reconciler.apply.run`) are separate steps.
`build_plan()` (in `core.diff`) builds one `ProviderPlan` per provider from a desired state and a snapshot.
Each action carries the enrollment it was computed from (`before`), so apply can refuse stale actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

from reconciler.core.model import Enrollment, ItemKind, ProviderKind, Terms
from reconciler.errors import Position

FORMAT_VERSION = 1


class OutcomeStatus(StrEnum):
    DONE = "done"  # the vendor made the change
    ALREADY = "already"  # the LMS was already as wanted (re-applied plan, concurrent change to the same end)
    FAILED = "failed"  # the vendor refused; `detail` says why
    UNKNOWN = "unknown"  # the call's fate is unknown (connection lost after sending); resolve by reading back


class ActionKind(StrEnum):
    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"
    REENROLL = "reenroll"  # start a completed enrollment over (`recur:`): iSpring reenroll, Litmos reset


class Risk(StrEnum):
    """Labels that make a reviewer look twice."""

    TIGHTENED = "tightened"  # due date moves earlier, or lock switched on
    LOOSENED = "loosened"  # due date moves later or goes away, or lock switched off
    PAST_DUE = "past_due"  # an add or update whose due date has already passed
    PROTECTED_OVERRIDE = "protected_override"  # a removal of a started/completed enrollment, allowed by flag


class KeptReason(StrEnum):
    """Why an enrollment that differs from the desired state was deliberately left alone."""

    HAS_PROGRESS = "has_progress"  # removal would destroy progress; --allow-remove-started to override
    COMPLETED = "completed"  # removal would destroy a completion; --allow-remove-completed
    CATALOG = "catalog"  # the learner enrolled themselves from the catalog
    UNSUPPORTED = "unsupported"  # the vendor cannot make this change (e.g. Litmos due dates)
    # the user status is outside settings.user_statuses: they keep their assignments
    USER_NOT_ENROLLABLE = "user_not_enrollable"
    # fail closed: the LMS's answer about it could not be read; never removed, whatever the flags
    UNKNOWN = "unknown"
    COMPLETED_TERMS = "completed_terms"  # completed: its terms are history; --update-completed changes them


@dataclass(frozen=True, order=True)
class Source:
    """Why an enrollment is wanted: which policy, where, and which target rule matched the user."""

    policy: str
    position: Position  # the `assign` entry in the policy file
    rule: str  # e.g. "departments: Acme/Sales", "groups: New hires", "users: helen@acme.example", "everyone"


@dataclass(frozen=True, slots=True)  # slots: a first run holds one per enrollment (100,000s)
class Action:
    """One change to make. `before` is the enrollment it was computed from (None for an add)."""

    kind: ActionKind
    user_id: str
    user_login: str
    item_id: str
    item_kind: ItemKind
    item_title: str
    terms: Terms | None = None  # the terms to set (add, update); None for remove
    before: Enrollment | None = None
    sources: tuple[Source, ...] = ()
    changes: tuple[str, ...] = ()  # update: the fields that differ, e.g. ("due", "lock_after_due")
    risks: tuple[Risk, ...] = ()
    notify: bool = True  # the vendor may e-mail the learner about this action
    department: str = ""  # the user's department path, for summaries

    @property
    def id(self) -> str:
        """Stable identity within a plan: the journal and staleness checks key on it."""
        return f"{self.kind.value}:{self.user_id}:{self.item_id}"


PLAN_ORDER = (ActionKind.ADD, ActionKind.UPDATE, ActionKind.REMOVE)  # the kinds `core.diff` plans, in order
_BY_LOGIN = attrgetter("user_login", "user_id", "item_id")


def in_plan_order(by_kind: Mapping[ActionKind, Sequence[Action]]) -> tuple[Action, ...]:
    """The actions of `PLAN_ORDER`'s kinds in plan order: kind, item title, login, user id, item id; stable.

    Bucketed by kind and title first, so the sort compares logins rather than five-field keys: a first run
    sorts 100,000s of actions, nearly all of them in a few items.
    """
    ordered: list[Action] = []
    for kind in PLAN_ORDER:
        by_title: dict[str, list[Action]] = {}
        for action in by_kind.get(kind, ()):
            same = by_title.get(action.item_title)
            if same is None:
                same = by_title[action.item_title] = []
            same.append(action)
        for title in sorted(by_title):
            ordered.extend(sorted(by_title[title], key=_BY_LOGIN))
    return tuple(ordered)


@dataclass(frozen=True)
class Kept:
    """An enrollment deliberately left as it is, with the reason a reviewer needs."""

    reason: KeptReason
    user_id: str
    user_login: str
    item_id: str
    item_title: str
    detail: str = ""
    sources: tuple[Source, ...] = ()


class IdentityProblem(StrEnum):
    UNKNOWN = "unknown"  # no user matches the reference
    NOT_ENROLLABLE = "not_enrollable"  # the user exists but their status is outside settings.user_statuses


@dataclass(frozen=True, order=True)
class IdentityIssue:
    """A user named in a manifest who will not be enrolled; never fatal unless --strict."""

    policy: str
    reference: str
    problem: IdentityProblem
    position: Position
    status: str = ""  # the user's status, for NOT_ENROLLABLE


@dataclass(frozen=True)
class IdentityReport:
    issues: tuple[IdentityIssue, ...] = ()
    excluded: int = 0  # users matched by targets but removed by `exclude`
    not_enrollable: int = 0  # users matched by targets but outside settings.user_statuses


@dataclass(frozen=True)
class Warning:
    message: str
    position: Position | None = None


@dataclass(frozen=True)
class Summary:
    add: int = 0
    update: int = 0
    remove: int = 0
    kept: int = 0
    unchanged: int = 0  # desired enrollments that already match
    managed: int = 0  # enrollments in managed items (the base of max_removal_share)
    untouched: int = 0  # enrollments in the LMS outside anything enrollctl manages
    notifications: int = 0  # learner e-mails applying would send
    estimated_calls: int = 0  # vendor API calls applying would make
    unknown: int = 0  # enrollments in pruned items whose state could not be read (Kept UNKNOWN when unwanted)
    reenroll: int = 0  # completed enrollments started over because their period (`recur:`) ran out

    @property
    def changes(self) -> int:
        return self.add + self.update + self.remove + self.reenroll


@dataclass(frozen=True)
class ProviderPlan:
    """The plan for one provider (one LMS account)."""

    provider: str
    kind: ProviderKind
    account: str
    actions: tuple[Action, ...] = ()
    kept: tuple[Kept, ...] = ()
    identity: IdentityReport = field(default_factory=IdentityReport)
    warnings: tuple[Warning, ...] = ()
    summary: Summary = field(default_factory=Summary)
    managed_item_ids: tuple[str, ...] = ()  # items whose enrollments the plan read and manages


@dataclass(frozen=True)
class RunOptions:
    """Flags that change what a plan may do; recorded in the plan so reviewers see them."""

    allow_remove_started: bool = False
    allow_remove_completed: bool = False
    policies: tuple[str, ...] = ()  # --policy filter; empty = all
    allow_unknown: bool = False  # plan a prune although some enrollments' state could not be read
    update_completed: bool = False  # change the terms of completed enrollments too


@dataclass(frozen=True)
class Plan:
    """Everything one `plan` run found, for every provider."""

    created_at: dt.datetime
    manifest_digest: str
    providers: tuple[ProviderPlan, ...] = ()
    options: RunOptions = field(default_factory=RunOptions)
    format_version: int = FORMAT_VERSION
    guard: Mapping[str, str] = field(default_factory=dict)  # guard name -> "ok 3/25" etc., for display
    policy_files: tuple[str, ...] = ()  # every policy file the plan was made from, relative to the root

    @property
    def has_changes(self) -> bool:
        return any(p.summary.changes for p in self.providers)

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for p in self.providers for a in p.actions)

    @property
    def refused_by(self) -> tuple[str, ...]:
        """The guards this plan tripped (a refused plan is still a whole plan; `apply --approve` takes it)."""
        return tuple(name for name in sorted(self.guard) if self.guard[name].startswith("tripped"))
