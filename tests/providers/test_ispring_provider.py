"""The iSpring provider end to end against the sandbox emulator, over httpx's WSGI transport."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import httpx
import pytest

from reconciler.core.model import (
    Completion,
    Due,
    DueKind,
    Enrollment,
    ItemKind,
    Origin,
    ProviderConfig,
    ProviderKind,
    Terms,
)
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import AuthError, PermissionDenied, ProviderError
from reconciler.providers.base import Credentials
from reconciler.providers.ispring import provider as ispring
from reconciler.providers.ispring.provider import IspringOptions, IspringProvider
from reconciler.sandbox.faults import Burst, Faults
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.org.spec import (
    CourseSpec,
    DepartmentSpec,
    EnrollmentSpec,
    LearningPathSpec,
    OrgSpec,
    UserSpec,
)
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store.database import Store

CREDS = SANDBOX_CREDENTIALS["ispring"]
ADMIN = Credentials(client_id=CREDS["client_id"], client_secret=CREDS["client_secret"])
DEPARTMENT_ADMIN = Credentials(
    client_id=CREDS["department_admin_client_id"], client_secret=CREDS["department_admin_client_secret"]
)
IN_30_DAYS = Terms(due=Due(DueKind.WITHIN, hours=720))
BY_NEW_YEAR = Terms(due=Due(DueKind.DATE, date=dt.date(2027, 1, 1)), lock_after_due=True)

ACME = OrgSpec(
    departments=(
        DepartmentSpec("Acme", (DepartmentSpec("Sales", (DepartmentSpec("EMEA"),)), DepartmentSpec("Ops"))),
    ),
    groups=("New hires",),
    users=(
        UserSpec("helen@acme.example", "Helen", "Jones", department="Acme/Sales", groups=("New hires",)),
        UserSpec("ivan@acme.example", department="Acme/Sales/EMEA"),
        UserSpec("olga@acme.example", department="Acme/Ops"),
        UserSpec("gone@acme.example", department="Acme/Ops", status="employment_ended"),
        UserSpec(
            "kevin@acme.example",
            department="Acme/Sales",
            role="department_administrator",
            manages=("Acme/Sales",),
        ),
    ),
    courses=(CourseSpec("Security Awareness"), CourseSpec("Anti-Bribery"), CourseSpec("Forklift Safety")),
    learning_paths=(LearningPathSpec("Onboarding", ("Security Awareness",)),),
    enrollments=(
        EnrollmentSpec("helen@acme.example", "Security Awareness", status="complete"),
        EnrollmentSpec("olga@acme.example", "Security Awareness", status="in_progress", progress=40),
        EnrollmentSpec("ivan@acme.example", "Anti-Bribery", origin="catalog"),
        EnrollmentSpec("olga@acme.example", "Onboarding", kind="learning_path"),
    ),
)


class EmulatorClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def sandbox(
    org: OrgSpec = ACME, faults: Faults | None = None, clock: EmulatorClock | None = None
) -> tuple[Store, httpx.Client]:
    store = Store.open(":memory:")
    seed_store(store, org)
    app = build_app("ispring", store, faults, clock)
    return store, httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox.ispring.invalid/"
    )


def provider(client: httpx.Client, credentials: Credentials = ADMIN, **kwargs: object) -> IspringProvider:
    sleeps: list[float] = []
    config = ProviderConfig("lms", ProviderKind.ISPRING, requests_per_minute=None)
    return ispring.create(config, client, credentials, sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]


def by_login(p: IspringProvider) -> Callable[[str], str]:
    users = {u.login: u.id for u in p.read_directory().users}
    return users.__getitem__


def item_id(p: IspringProvider, title: str) -> str:
    return next(i.id for i in p.read_directory().items if i.title == title)


def add(user: str, item: str, terms: Terms = IN_30_DAYS) -> Action:
    return Action(ActionKind.ADD, user, user, item, ItemKind.COURSE, item, terms=terms)


def enrollments(p: IspringProvider) -> dict[tuple[str, str], Enrollment]:
    directory = p.read_directory()
    found = p.read_enrollments(directory, frozenset(i.id for i in directory.items))
    return {e.key: e for e in found}


def write_all(p: IspringProvider, actions: list[Action]) -> dict[str, OutcomeStatus]:
    return {o.action_id: o.status for b in p.batches(actions) for o in p.write(b)}


# --- reads -----------------------------------------------------------------------------------------------


def test_reads_the_directory_of_a_generated_org() -> None:
    org = generate_org(60, departments=8, groups=4, courses=6, learning_paths=2, seed=5)
    _, client = sandbox(org)
    directory = provider(client).read_directory()
    assert len(directory.users) == 60 and len(directory.groups) == 4
    assert {i.kind for i in directory.items} == {ItemKind.COURSE, ItemKind.LEARNING_PATH}
    assert len(directory.items) == 8
    ids = {d.id for d in directory.departments}
    assert all(d.parent_id in ids for d in directory.departments if d.parent_id)
    assert all(u.department_id in ids for u in directory.users)


def test_reads_statuses_terms_origin_and_progress() -> None:
    _, client = sandbox()
    p = provider(client)
    user = by_login(p)
    directory = p.read_directory()
    assert {u.login: u.status.value for u in directory.users}["gone@acme.example"] in (
        "employment_ended",
        "inactive",
    )
    found = enrollments(p)
    helen = found[(user("helen@acme.example"), item_id(p, "Security Awareness"))]
    assert helen.completion is Completion.COMPLETED and helen.id
    olga = found[(user("olga@acme.example"), item_id(p, "Security Awareness"))]
    assert olga.completion is Completion.IN_PROGRESS and olga.progress == 40
    assert found[(user("ivan@acme.example"), item_id(p, "Anti-Bribery"))].origin is Origin.CATALOG
    assert found[(user("olga@acme.example"), item_id(p, "Onboarding"))].item_kind is ItemKind.LEARNING_PATH


def test_paging_follows_next_page_token_to_the_same_result() -> None:
    org = generate_org(40, courses=5, learning_paths=1, enrollments_per_user=3, seed=2)
    _, client = sandbox(org)
    whole = provider(client)
    paged = provider(client, options=IspringOptions(page_size=7, ids_per_filter=2))
    directory = whole.read_directory()
    items = frozenset(i.id for i in directory.items)
    assert paged.read_enrollments(directory, items) == whole.read_enrollments(directory, items)
    assert paged.api.http.stats.calls["ListEnrollments"] > 3 * whole.api.http.stats.calls["ListEnrollments"]


def test_reads_only_the_managed_items_and_users_asked_for() -> None:
    _, client = sandbox()
    p = provider(client)
    user = by_login(p)
    directory = p.read_directory()
    found = p.read_enrollments(
        directory, frozenset({item_id(p, "Security Awareness")}), frozenset({user("olga@acme.example")})
    )
    assert [(e.user_id, e.item_id) for e in found] == [
        (user("olga@acme.example"), item_id(p, "Security Awareness"))
    ]
    assert p.read_enrollments(directory, frozenset()) == ()


# --- writes ----------------------------------------------------------------------------------------------


def test_enroll_update_and_unenroll_round_trip() -> None:
    _, client = sandbox()
    p = provider(client)
    user = by_login(p)
    forklift, bribery = item_id(p, "Forklift Safety"), item_id(p, "Anti-Bribery")
    adds = [add(user(u), c) for u in ("helen@acme.example", "olga@acme.example") for c in (forklift, bribery)]
    assert set(write_all(p, adds).values()) == {OutcomeStatus.DONE}
    assert p.api.http.stats.calls["EnrollLearnersInCourses"] == 1
    helen = enrollments(p)[(user("helen@acme.example"), forklift)]
    assert helen.due is not None and helen.access is not None

    update = Action(
        ActionKind.UPDATE,
        helen.user_id,
        "helen",
        forklift,
        ItemKind.COURSE,
        "Forklift Safety",
        terms=BY_NEW_YEAR,
        before=helen,
    )
    assert write_all(p, [update]) == {update.id: OutcomeStatus.DONE}
    changed = enrollments(p)[helen.key]
    assert changed.due is not None and changed.due.date() == dt.date(2027, 1, 1) and changed.lock_after_due
    assert changed.access == helen.access  # full replace re-sent the access date

    remove = Action(
        ActionKind.REMOVE,
        helen.user_id,
        "helen",
        forklift,
        ItemKind.COURSE,
        "Forklift Safety",
        before=changed,
    )
    assert write_all(p, [remove]) == {remove.id: OutcomeStatus.DONE}
    assert helen.key not in enrollments(p)
    assert write_all(p, [remove]) == {remove.id: OutcomeStatus.ALREADY}  # re-applying is a no-op


def test_a_diagonal_of_adds_enrolls_nobody_in_what_was_not_asked() -> None:
    _, client = sandbox()
    p = provider(client)
    user = by_login(p)
    forklift, bribery = item_id(p, "Forklift Safety"), item_id(p, "Anti-Bribery")
    before = set(enrollments(p))
    write_all(p, [add(user("helen@acme.example"), forklift), add(user("olga@acme.example"), bribery)])
    assert set(enrollments(p)) - before == {
        (user("helen@acme.example"), forklift),
        (user("olga@acme.example"), bribery),
    }


def test_an_update_of_a_vanished_enrollment_fails_for_that_action_only() -> None:
    _, client = sandbox()
    p = provider(client)
    ghost = Enrollment(
        "u", "c", id="00000000-0000-0000-0000-000000000000", access=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    update = Action(ActionKind.UPDATE, "u", "u", "c", ItemKind.COURSE, "c", terms=IN_30_DAYS, before=ghost)
    (outcome,) = p.write(p.batches([update])[0])
    assert outcome.status is OutcomeStatus.FAILED and "Unknown Enrollment" in outcome.detail


def test_enrolling_in_an_unknown_course_fails_per_action() -> None:
    _, client = sandbox()
    p = provider(client)
    action = add(by_login(p)("helen@acme.example"), "00000000-0000-0000-0000-00000000c0de")
    (outcome,) = p.write(p.batches([action])[0])
    assert outcome.status is OutcomeStatus.FAILED


# --- scope, tokens, faults -------------------------------------------------------------------------------


def test_a_department_admin_token_sees_only_its_scope_and_cannot_enroll_outside_it() -> None:
    _, client = sandbox()
    admin_logins = {u.login for u in provider(client).read_directory().users}
    scoped = provider(client, DEPARTMENT_ADMIN)
    directory = scoped.read_directory()
    logins = {u.login for u in directory.users}
    assert logins < admin_logins and "olga@acme.example" not in logins and "helen@acme.example" in logins
    olga = by_login(provider(client))("olga@acme.example")
    (outcome,) = scoped.write(scoped.batches([add(olga, item_id(scoped, "Forklift Safety"))])[0])
    assert outcome.status is OutcomeStatus.FAILED and "department administrator" in outcome.detail


def test_an_expired_token_is_fetched_again_once_mid_run() -> None:
    clock = EmulatorClock()
    _, client = sandbox(faults=Faults(token_ttl_seconds=600), clock=clock)
    p = provider(client)
    p.read_directory()
    clock.now += dt.timedelta(hours=1)  # the emulator expired our token; our own clock did not notice
    assert p.read_directory().users
    assert p.api.http.stats.calls["token"] == 2


def test_a_refused_static_token_is_an_auth_error_that_does_not_echo_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _, client = sandbox()
    p = provider(client, Credentials(token="not-a-valid-token-FAKE"), log_bodies=True)
    with pytest.raises(AuthError) as caught:
        p.read_directory()
    assert "not-a-valid-token-FAKE" not in str(caught.value)
    assert all("not-a-valid-token-FAKE" not in r.getMessage() for r in caplog.records)


def test_wrong_client_credentials_are_an_auth_error() -> None:
    _, client = sandbox()
    with pytest.raises(AuthError, match="client credentials refused"):
        provider(
            client, Credentials(client_id=CREDS["client_id"], client_secret="wrong-secret-FAKE")
        ).read_directory()


def test_secrets_and_tokens_never_reach_the_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, client = sandbox()
    p = provider(client, log_bodies=True)
    p.read_directory()
    token = p.api.tokens.token()
    messages = [r.getMessage() for r in caplog.records]
    assert any("GetUsers" in m for m in messages)
    assert all(CREDS["client_secret"] not in m and token not in m for m in messages)


def test_throttled_calls_are_retried_after_retry_after() -> None:
    _, client = sandbox(faults=Faults(burst=Burst(every=3, length=1, status=429, retry_after=2)))
    p = provider(client)
    assert p.read_directory().users
    assert sum(p.api.http.stats.retries.values()) >= 1


def test_a_server_error_on_enroll_is_not_resent_and_reported_unknown() -> None:
    _, client = sandbox(faults=Faults(error_rates={"enrolllearnersincourses": 1.0}))
    p = provider(client)
    action = add(by_login(p)("helen@acme.example"), item_id(p, "Forklift Safety"))
    (outcome,) = p.write(p.batches([action])[0])
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert p.api.http.stats.calls["EnrollLearnersInCourses"] == 1


class MonotonicClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_token_about_to_expire_is_replaced_before_it_is_refused() -> None:
    clock = MonotonicClock()
    _, client = sandbox()
    p = ispring.create(
        ProviderConfig("lms", ProviderKind.ISPRING), client, ADMIN, clock=clock, sleep=clock.sleep
    )
    p.read_directory()
    clock.now += 1790  # within a minute of the 30-minute lifetime
    p.read_directory()
    assert p.api.http.stats.calls["token"] == 2 and not p.api.http.stats.retries


def test_requests_per_minute_from_the_config_paces_the_calls() -> None:
    clock = MonotonicClock()
    _, client = sandbox()
    config = ProviderConfig("lms", ProviderKind.ISPRING, requests_per_minute=3)
    p = ispring.create(config, client, ADMIN, clock=clock, sleep=clock.sleep)
    p.read_directory()  # token + 4 reads = 5 requests: the 4th and 5th wait for the window
    assert clock.slept == [60.0] and p.capabilities.requests_per_minute == 3


def test_an_unreadable_answer_to_a_write_is_an_unknown_outcome() -> None:
    store = Store.open(":memory:")
    seed_store(store, ACME)
    truncating = build_app("ispring", store, Faults(truncate_rate=1.0))
    client = httpx.Client(
        transport=httpx.WSGITransport(app=truncating), base_url="http://sandbox.ispring.invalid"
    )
    _, clean = sandbox()
    reader = provider(clean)
    action = add(by_login(reader)("helen@acme.example"), item_id(reader, "Forklift Safety"))
    writer = provider(client, Credentials(token=CREDS["token"]))
    (outcome,) = writer.write(writer.batches([action])[0])
    assert outcome.status is OutcomeStatus.UNKNOWN and "EnrollLearnersInCourses" in outcome.detail, (
        outcome.detail
    )


def test_permission_denied_names_the_department_admin_scope() -> None:
    _, client = sandbox()
    admin = provider(client)
    ops = next(d.id for d in admin.read_directory().departments if d.name == "Ops")
    scoped = provider(client, DEPARTMENT_ADMIN)
    with pytest.raises(PermissionDenied) as caught:
        scoped.api.call("GetUsers", [("departmentId", ops)], idempotent=True)
    assert "department administrator" in str(caught.value) and caught.value.call == "GetUsers"


def test_wrong_parameters_is_a_provider_error_and_is_not_resent() -> None:
    _, client = sandbox()
    p = provider(client)
    with pytest.raises(ProviderError, match="Wrong parameters") as caught:
        p.api.call("EnrollLearnersInCourses", [], idempotent=False)
    assert not caught.value.retryable and p.api.http.stats.calls["EnrollLearnersInCourses"] == 1


def test_declares_no_due_information_no_scope_and_counts_its_calls() -> None:
    store, client = sandbox()
    p = provider(client)
    assert p.call_count() == 0
    directory = p.read_directory()
    p.read_enrollments(directory, frozenset(i.id for i in directory.items))
    assert p.call_count() == sum(1 for _ in store.request_log()) > 0
    assert p.due_information() is None
    assert p.scope_department_ids is None
