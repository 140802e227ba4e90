"""Invariants over random organisations, enrollments and policies.

(a) plan → apply (in memory) → plan has no actions; (b) nothing outside pruned items, nothing a learner chose
from the catalog (without prune_catalog) and nothing protected (without the flag) is ever removed;
(c) expansion does not depend on the order of policies; (d) expansion (which interns terms and sources and
combines each distinct set once) means the plain combination of everything each enrollment receives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.desired import DesiredEnrollment, expand
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import (
    Assignment,
    Capabilities,
    Completion,
    Enrollment,
    Origin,
    Policy,
    Settings,
    UserStatus,
)
from reconciler.core.plan import ActionKind, RunOptions, Source
from reconciler.core.references import Resolver
from reconciler.core.safety import is_completed
from reconciler.core.terms import combine_terms, mixes_dates_and_periods
from reconciler.core.where import terms_for
from tests.support.builders import (
    DEFAULT,
    ISPRING_CAPS,
    LITMOS_CAPS,
    NOW,
    UNLIMITED,
    Org,
    apply_in_memory,
    course,
    date_due,
    dept_ref,
    enrollment,
    learning_path,
    plan_for,
    policy,
    snapshot,
    within,
)

PATHS = ["Acme", "Acme/Sales", "Acme/Sales/EMEA", "Acme/Eng", "Acme/Eng/Platform"]
GROUPS = ["G1", "G2"]
COURSES = ["C1", "C2", "C3"]
ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=5)), dt.timezone(dt.timedelta(hours=-5))]


@dataclass(frozen=True)
class World:
    org: Org
    enrollments: tuple[Enrollment, ...]
    policies: tuple[Policy, ...]
    options: RunOptions
    caps: Capabilities
    tz: dt.tzinfo
    statuses: tuple[UserStatus, ...]


dues = st.one_of(
    st.just(DEFAULT),
    st.just(UNLIMITED),
    st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)).map(lambda d: date_due(d.year, d.month, d.day)),
    st.sampled_from([24, 36, 72, 24 * 14]).map(within),
)
moments = st.datetimes(dt.datetime(2025, 6, 1), dt.datetime(2026, 11, 1), timezones=st.sampled_from(ZONES))


@st.composite
def assignments(draw: st.DrawFn) -> Assignment:
    title = draw(st.sampled_from([*COURSES, "P1"]))
    make = learning_path if title == "P1" else course
    access = draw(st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    return make(title, due=draw(dues), lock=draw(st.booleans()), access=access)


@st.composite
def policies(draw: st.DrawFn, name: str, logins: list[str]) -> Policy:
    some = lambda values: draw(st.lists(st.sampled_from(values), max_size=2, unique=True))  # noqa: E731
    departments = [dept_ref(p, recursive=draw(st.booleans())) for p in some(PATHS)]
    return policy(
        name,
        everyone=draw(st.booleans()),
        departments=departments,
        groups=some(GROUPS),
        users=some([*logins, "ghost"]),
        exclude_departments=some(PATHS[1:]),
        exclude_groups=some(GROUPS),
        exclude_users=some(logins),
        assign=draw(st.lists(assignments(), min_size=1, max_size=3)),
        prune=draw(st.booleans()),
        prune_catalog=draw(st.booleans()),
        notify=draw(st.booleans()),
    )


@st.composite
def held_enrollment(draw: st.DrawFn, org: Org, user_index: int, item_index: int) -> Enrollment:
    completion = draw(st.sampled_from(list(Completion)))
    return enrollment(
        org.users[user_index],
        org.items[item_index],
        due=draw(st.none() | moments),
        due_hours=draw(st.none() | st.sampled_from([24, 72])),
        access=draw(st.none() | moments),
        lock=draw(st.booleans()),
        origin=draw(st.sampled_from(list(Origin))),
        completion=completion,
        progress=100.0 if completion is Completion.COMPLETED else draw(st.sampled_from([0.0, 0.0, 30.0])),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    org = Org()
    for path in PATHS:
        org.dept(path)
    for group in GROUPS:
        org.group(group)
    for n in range(draw(st.integers(1, 7))):
        org.user(
            f"user{n}",
            dept=draw(st.sampled_from(PATHS)),
            groups=draw(st.lists(st.sampled_from(GROUPS), unique=True)),
            status=draw(st.sampled_from([UserStatus.ACTIVE, UserStatus.ACTIVE, UserStatus.INACTIVE])),
        )
    for title in COURSES:
        org.course(title)
    org.learning_path("P1")
    org.course("Unmanaged")
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, len(org.users) - 1), st.integers(0, len(org.items) - 1)),
            unique=True,
            max_size=12,
        )
    )
    logins = [u.login for u in org.users]
    return World(
        org=org,
        enrollments=tuple(draw(held_enrollment(org, u, i)) for u, i in pairs),
        policies=tuple(draw(policies(f"p{n}", logins)) for n in range(draw(st.integers(1, 3)))),
        options=RunOptions(
            allow_remove_started=draw(st.booleans()), allow_remove_completed=draw(st.booleans())
        ),
        caps=draw(st.sampled_from([ISPRING_CAPS, LITMOS_CAPS])),
        tz=draw(st.sampled_from(ZONES)),
        statuses=draw(st.sampled_from([(UserStatus.ACTIVE,), (UserStatus.ACTIVE, UserStatus.INACTIVE)])),
    )


def first_plan(world: World):  # type: ignore[no-untyped-def]
    snap = snapshot(world.org, world.enrollments)
    plan = plan_for(
        world.policies,
        snap,
        settings=Settings(user_statuses=world.statuses),
        options=world.options,
        caps=world.caps,
    )
    return snap, plan


@settings(max_examples=200, deadline=None)
@given(worlds(), st.integers(0, 30))
def test_plan_apply_plan_has_no_changes(world: World, days_later: int) -> None:
    snap, plan = first_plan(world)
    after = apply_in_memory(snap, plan, caps=world.caps, tz=world.tz)
    again = plan_for(
        world.policies,
        after,
        settings=Settings(user_statuses=world.statuses),
        options=world.options,
        caps=world.caps,
        now=NOW + dt.timedelta(days=days_later),
    )
    assert again.actions == (), [a.id + str(a.changes) for a in again.actions]


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_nothing_outside_pruned_items_or_protection_is_ever_removed(world: World) -> None:
    _, plan = first_plan(world)
    pruned = {
        f"c:{a.item.value}" if a.item.kind.value == "course" else f"lp:{a.item.value}"
        for p in world.policies
        if p.prune
        for a in p.assign
    }
    prune_catalog = {
        f"c:{a.item.value}" if a.item.kind.value == "course" else f"lp:{a.item.value}"
        for p in world.policies
        if p.prune and p.prune_catalog
        for a in p.assign
    }
    users = {u.id: u for u in world.org.users}
    for action in plan.actions:
        if action.kind is not ActionKind.REMOVE:
            continue
        before = action.before
        assert before is not None and action.item_id in pruned
        assert before.origin is Origin.ADMIN or action.item_id in prune_catalog
        assert users[action.user_id].status in world.statuses
        if is_completed(before):
            assert world.options.allow_remove_completed
        elif before.started:
            assert world.options.allow_remove_started or world.options.allow_remove_completed


@settings(max_examples=100, deadline=None)
@given(worlds(), st.randoms(use_true_random=False))
def test_expansion_does_not_depend_on_policy_order(world: World, random) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(world.policies)
    random.shuffle(shuffled)
    directory = world.org.directory()
    settings_ = Settings(user_statuses=world.statuses)
    assert expand(world.policies, directory, settings_, provider="lms") == expand(
        shuffled, directory, settings_, provider="lms"
    )


def plainly_wanted(world: World) -> dict[tuple[str, str], DesiredEnrollment]:
    """Every (terms, sources, notify) each enrollment receives from each policy, combined on its own."""
    index = DirectoryIndex.build(world.org.directory())
    resolver = Resolver(index, Settings(user_statuses=world.statuses))
    received: dict[tuple[str, str], list[tuple[Assignment, Policy, list[Source], str]]] = {}
    for p in sorted(world.policies, key=lambda p: p.name):
        excluded = resolver.exclusions(p)
        for user_id, rules in resolver.targets(p, excluded).items():
            if user_id in excluded or not resolver.enrollable(index.users_by_id[user_id]):
                continue
            for position, i, item in resolver.items(p):
                sources = [Source(p.name, position, rule) for rule in rules]
                received.setdefault((user_id, item.id), []).append((p.assign[i], p, sources, item.kind.value))
    wanted = {}
    for (user_id, item_id), parts in sorted(received.items()):
        every = [terms_for(a.terms, index.users_by_id[user_id]) for a, *_ in parts]
        contending = sorted(set(every), key=repr)
        wanted[(user_id, item_id)] = DesiredEnrollment(
            user_id,
            item_id,
            index.items_by_id[item_id].kind,
            combine_terms(contending),
            tuple(sorted({s for *_, sources, _ in parts for s in sources})),
            all(p.notify for _, p, *_ in parts),
            tuple(contending) if mixes_dates_and_periods(contending) else (),
        )
    return wanted


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_expansion_means_the_plain_combination_per_enrollment(world: World) -> None:
    settings_ = Settings(user_statuses=world.statuses)
    expanded = expand(world.policies, world.org.directory(), settings_, provider="lms").desired.enrollments
    assert list(expanded.items()) == list(plainly_wanted(world).items())
