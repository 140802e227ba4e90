"""Small builders for hand-made plans, shared by the renderer and plan-file tests."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from reconciler.core.model import Completion, Due, DueKind, Enrollment, ItemKind, Origin, ProviderKind, Terms
from reconciler.core.plan import (
    Action,
    ActionKind,
    IdentityIssue,
    IdentityProblem,
    IdentityReport,
    Kept,
    KeptReason,
    Plan,
    ProviderPlan,
    Risk,
    RunOptions,
    Source,
    Summary,
    Warning,
)
from reconciler.errors import Position

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
DIGEST = "sha256:" + "ab" * 32
SECURITY = "Security Awareness 2026"
BRIBERY = "Anti-Bribery"
ONBOARDING = "Onboarding"


GUARDS_OK = {
    "max_removals": "ok: 1 removals, limit 25",
    "max_removal_share": "ok: 1 of 45 managed enrollments (2.2%), limit 10.0%",
}


def item_id(title: str) -> str:
    return "c-" + title.lower().replace(" ", "-")


def user_id(login: str) -> str:
    return "u-" + login.split("@")[0]


def source(policy: str, line: int = 10, rule: str = "everyone") -> Source:
    return Source(policy, Position(f"policies/{policy}.yaml", line, 7), rule)


def due(date: str | None = None, *, within: str | None = None) -> Due:
    if date is not None:
        return Due(DueKind.DATE, date=dt.date.fromisoformat(date))
    if within is not None:
        return Due(DueKind.WITHIN, hours=int(within.rstrip("d")) * 24)
    return Due()


def add(
    login: str,
    title: str = SECURITY,
    *,
    policies: Iterable[str] = ("security-awareness",),
    terms: Terms | None = None,
    department: str = "Acme/Sales/EMEA",
    risks: tuple[Risk, ...] = (),
    notify: bool = True,
    kind: ItemKind = ItemKind.COURSE,
) -> Action:
    return Action(
        kind=ActionKind.ADD,
        user_id=user_id(login),
        user_login=login,
        item_id=item_id(title),
        item_kind=kind,
        item_title=title,
        terms=terms or Terms(due=due("2026-12-31"), lock_after_due=True),
        sources=tuple(source(p) for p in policies),
        risks=risks,
        notify=notify,
        department=department,
    )


def update(
    login: str,
    title: str = SECURITY,
    *,
    old: Enrollment | None = None,
    terms: Terms,
    changes: tuple[str, ...] = ("due",),
    risks: tuple[Risk, ...] = (),
    policy: str = "security-awareness",
    department: str = "Acme/Engineering",
) -> Action:
    before = old or enrollment(login, title, due_at=dt.datetime(2026, 12, 31))
    return Action(
        kind=ActionKind.UPDATE,
        user_id=user_id(login),
        user_login=login,
        item_id=item_id(title),
        item_kind=ItemKind.COURSE,
        item_title=title,
        terms=terms,
        before=before,
        sources=(source(policy),),
        changes=changes,
        risks=risks,
        department=department,
    )


def remove(
    login: str,
    title: str = BRIBERY,
    *,
    policy: str = "sales-compliance",
    completion: Completion = Completion.NOT_STARTED,
    progress: float = 0.0,
    risks: tuple[Risk, ...] = (),
    department: str = "Acme/Engineering/Platform",
) -> Action:
    return Action(
        kind=ActionKind.REMOVE,
        user_id=user_id(login),
        user_login=login,
        item_id=item_id(title),
        item_kind=ItemKind.COURSE,
        item_title=title,
        before=enrollment(login, title, completion=completion, progress=progress),
        sources=(source(policy, line=4, rule="prune"),),
        risks=risks,
        notify=False,
        department=department,
    )


def enrollment(
    login: str,
    title: str,
    *,
    due_at: dt.datetime | None = None,
    lock: bool = False,
    completion: Completion = Completion.NOT_STARTED,
    progress: float = 0.0,
    origin: Origin = Origin.ADMIN,
) -> Enrollment:
    return Enrollment(
        user_id=user_id(login),
        item_id=item_id(title),
        id=f"e-{user_id(login)}-{item_id(title)}",
        access=dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC),
        due=due_at,
        lock_after_due=lock,
        origin=origin,
        completion=completion,
        progress=progress,
        completed_at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
        if completion is Completion.COMPLETED
        else None,
    )


def kept(reason: KeptReason, login: str, title: str = BRIBERY, detail: str = "") -> Kept:
    return Kept(
        reason, user_id(login), login, item_id(title), title, detail, (source("sales-compliance", 4),)
    )


def issue(
    reference: str, problem: IdentityProblem, *, policy: str = "security-awareness", status: str = ""
) -> IdentityIssue:
    return IdentityIssue(policy, reference, problem, Position(f"policies/{policy}.yaml", 21, 9), status)


def provider_plan(
    actions: Iterable[Action] = (),
    *,
    name: str = "lms",
    kind: ProviderKind = ProviderKind.ISPRING,
    account: str = "acme.ispringlearn.com",
    kept_records: Iterable[Kept] = (),
    identity: IdentityReport | None = None,
    warnings: Iterable[Warning] = (),
    unchanged: int = 0,
    untouched: int = 0,
) -> ProviderPlan:
    """A provider plan whose summary is counted from its contents, as diff would."""
    actions, kept_records = tuple(actions), tuple(kept_records)
    count = {kind: sum(1 for a in actions if a.kind is kind) for kind in ActionKind}
    summary = Summary(
        add=count[ActionKind.ADD],
        update=count[ActionKind.UPDATE],
        remove=count[ActionKind.REMOVE],
        kept=len(kept_records),
        unchanged=unchanged,
        managed=unchanged + count[ActionKind.UPDATE] + count[ActionKind.REMOVE] + len(kept_records),
        untouched=untouched,
        notifications=sum(1 for a in actions if a.notify and a.kind is not ActionKind.REMOVE),
        estimated_calls=len({(a.kind, a.terms) for a in actions}),
    )
    return ProviderPlan(
        provider=name,
        kind=kind,
        account=account,
        actions=actions,
        kept=kept_records,
        identity=identity or IdentityReport(),
        warnings=tuple(warnings),
        summary=summary,
        managed_item_ids=tuple(sorted({a.item_id for a in actions} | {k.item_id for k in kept_records})),
    )


def plan(
    *providers: ProviderPlan, guard: dict[str, str] | None = None, options: RunOptions | None = None
) -> Plan:
    return Plan(
        created_at=NOW,
        manifest_digest=DIGEST,
        providers=providers,
        options=options or RunOptions(),
        guard=guard if guard is not None else GUARDS_OK,
    )


# --- the sample plans the golden files show --------------------------------------------------------------


def small_mixed_plan() -> Plan:
    """Two policies, adds (one past due, one wanted twice), a tightened and a loosened update, a removal."""
    actions = [
        add("helen@acme.example", policies=("security-awareness", "sales-compliance")),
        add("bob@acme.example", department="Acme/Sales/Americas"),
        add(
            "ivan@acme.example",
            terms=Terms(due=due("2026-11-01")),
            risks=(Risk.PAST_DUE,),
            department="Acme/Sales",
        ),
        update(
            "carol@acme.example",
            terms=Terms(due=due("2026-11-30"), lock_after_due=True),
            changes=("due",),
            risks=(Risk.TIGHTENED,),
        ),
        update(
            "dave@acme.example",
            old=enrollment("dave@acme.example", SECURITY, due_at=dt.datetime(2026, 12, 31), lock=True),
            terms=Terms(due=due("2026-12-31")),
            changes=("lock_after_due",),
            risks=(Risk.LOOSENED,),
        ),
        add(
            "helen@acme.example",
            BRIBERY,
            policies=("sales-compliance",),
            terms=Terms(due=due(within="30d")),
            notify=False,
        ),
        remove("erin@acme.example"),
    ]
    return plan(provider_plan(actions, unchanged=42, untouched=1200))


def empty_plan() -> Plan:
    """Nothing to do: the LMS already matches."""
    return plan(
        provider_plan(unchanged=42, untouched=1200), guard={"max_removals": "ok: 0 removals, limit 25"}
    )


def kept_identity_plan() -> Plan:
    """Kept records of every reason, identity problems, warnings, flags, and a second (Litmos) provider."""
    ispring = provider_plan(
        [
            remove(
                "frank@acme.example",
                progress=40.0,
                completion=Completion.IN_PROGRESS,
                risks=(Risk.PROTECTED_OVERRIDE,),
            )
        ],
        kept_records=[
            kept(KeptReason.HAS_PROGRESS, "gina@acme.example", detail="55% done"),
            kept(KeptReason.COMPLETED, "hank@acme.example", detail="completed 2026-03-01"),
            kept(KeptReason.CATALOG, "iris@acme.example"),
            kept(KeptReason.USER_NOT_ENROLLABLE, "jack@acme.example", detail="blocked"),
        ],
        identity=IdentityReport(
            issues=(
                issue("ghost@acme.example", IdentityProblem.UNKNOWN),
                issue("kevin@acme.example", IdentityProblem.NOT_ENROLLABLE, status="blocked"),
            ),
            excluded=3,
            not_enrollable=5,
        ),
        warnings=[
            Warning("policy sales-compliance: prune touches 2 items", Position("policies/sales.yaml", 3, 1))
        ],
        unchanged=10,
    )
    litmos = provider_plan(
        [add("lena@acme.example", ONBOARDING, kind=ItemKind.LEARNING_PATH, terms=Terms())],
        name="academy",
        kind=ProviderKind.LITMOS,
        account="acme-enrollctl",
        kept_records=[
            kept(KeptReason.UNSUPPORTED, "mia@acme.example", ONBOARDING, "Litmos cannot change due dates")
        ],
        warnings=[Warning("Litmos stores no lock-after-due; ignored")],
    )
    return plan(ispring, litmos, options=RunOptions(allow_remove_started=True))


@functools.lru_cache(maxsize=4)
def large_plan(n: int) -> Plan:
    """n adds spread over many departments, two items and two policies, plus some removals (built once per
    process for each n: a Plan is frozen, and the 50,000-action one is rendered by two tests)."""
    regions = ["EMEA", "Americas", "APAC"]
    teams = ["Sales", "Engineering", "Support", "Finance", "Legal"]
    actions = []
    for i in range(n):
        department = f"Acme/{teams[i % len(teams)]}/{regions[i % len(regions)]}"
        title = SECURITY if i % 2 else BRIBERY
        if i % 50 == 0:
            actions.append(remove(f"user{i:06d}@acme.example", title, department=department))
        else:
            policy = "security-awareness" if i % 2 else "sales-compliance"
            actions.append(add(f"user{i:06d}@acme.example", title, policies=(policy,), department=department))
    return plan(provider_plan(actions))
