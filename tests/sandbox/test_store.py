"""The sandbox store: ids, lookups, filters, keyset paging and enrollment writes."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import ispring_uuid, litmos_id, original_id
from reconciler.sandbox.store.records import (
    DepartmentRow,
    EnrollmentQuery,
    EnrollmentRow,
    GroupRow,
    ItemRow,
    NotificationRow,
    Progress,
    RequestLogEntry,
    Terms,
    TokenRow,
    UserQuery,
    UserRow,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def department(path: str) -> DepartmentRow:
    parent = path.rsplit("/", 1)[0] if "/" in path else None
    return DepartmentRow(
        ispring_uuid("department", path),
        litmos_id("department", path),
        original_id("department", path),
        path.rsplit("/", 1)[-1],
        path,
        ispring_uuid("department", parent) if parent else None,
    )


def user(login: str, dept: str, status: str = "active", groups: tuple[str, ...] = ()) -> UserRow:
    return UserRow(
        ispring_uuid("user", login),
        litmos_id("user", login),
        original_id("user", login),
        login,
        login,
        login.split("@")[0].title(),
        "Doe",
        status,
        ispring_uuid("department", dept),
        group_uuids=tuple(ispring_uuid("group", g) for g in groups),
    )


def course(title: str) -> ItemRow:
    return ItemRow(
        ispring_uuid("course", title),
        litmos_id("course", title),
        original_id("course", title),
        "course",
        title,
    )


def small_store() -> Store:
    store = Store.open(":memory:")
    store.insert_departments(department(p) for p in ("Acme", "Acme/Sales", "Acme/Sales/EMEA", "Acme/Eng"))
    store.insert_groups(
        [GroupRow(ispring_uuid("group", "Managers"), litmos_id("group", "Managers"), 1, "Managers")]
    )
    store.insert_users(
        [
            user("helen@acme.example", "Acme/Sales/EMEA", groups=("Managers",)),
            user("kevin@acme.example", "Acme/Eng"),
            user("olga@acme.example", "Acme/Sales", status="blocked"),
        ]
    )
    store.insert_items([course("Security"), course("Bribery")])
    return store


def uid(login: str) -> str:
    return ispring_uuid("user", login)


def test_ids_are_stable_and_in_vendor_formats():
    assert ispring_uuid("user", "a") == ispring_uuid("user", "a") != ispring_uuid("group", "a")
    assert len(litmos_id("user", "a")) == 12 and litmos_id("user", "a").isalnum()
    assert original_id("user", "a") == original_id("user", "a") > 0


def test_department_subtree_includes_sub_departments():
    store = small_store()
    sales = ispring_uuid("department", "Acme/Sales")
    assert store.department_subtree([sales]) == {sales, ispring_uuid("department", "Acme/Sales/EMEA")}


def test_users_filter_by_department_group_status_and_search():
    store = small_store()
    emea = frozenset({ispring_uuid("department", "Acme/Sales/EMEA")})
    assert [u.login for u in store.users(UserQuery(department_uuids=emea))] == ["helen@acme.example"]
    managers = frozenset({ispring_uuid("group", "Managers")})
    assert [u.login for u in store.users(UserQuery(group_uuids=managers))] == ["helen@acme.example"]
    assert store.count_users(UserQuery(statuses=frozenset({"blocked"}))) == 1
    assert [u.login for u in store.users(UserQuery(search="KEV"))] == ["kevin@acme.example"]
    assert store.users(offset=1, limit=1)[0].login == "kevin@acme.example"


def test_lookups_by_every_vendor_id():
    store = small_store()
    helen = store.get_user("Helen@Acme.example", by="login")
    assert helen is not None and helen.group_uuids == (ispring_uuid("group", "Managers"),)
    assert store.get_user(helen.litmos_id, by="litmos_id") == helen
    assert store.get_item("Security", by="title") == course("Security")
    assert store.get_department("Acme/Eng", by="path") == department("Acme/Eng")


def test_enrolling_twice_changes_nothing():
    store = small_store()
    terms = Terms(NOW, "due_date", NOW + dt.timedelta(days=30), None, True)
    first, created = store.enroll(uid("helen@acme.example"), course("Security").uuid, terms, NOW)
    again, created_again = store.enroll(uid("helen@acme.example"), course("Security").uuid, Terms(NOW), NOW)
    assert created and not created_again and again == first
    assert first.terms.expiration_date == NOW + dt.timedelta(days=30)


def test_re_enrolling_after_unenroll_gets_a_new_id():
    store = small_store()
    first, _ = store.enroll(uid("helen@acme.example"), course("Security").uuid, Terms(NOW), NOW)
    assert store.delete_enrollment(first.uuid) and not store.delete_enrollment(first.uuid)
    second, created = store.enroll(uid("helen@acme.example"), course("Security").uuid, Terms(NOW), NOW)
    assert created and second.uuid != first.uuid


def test_update_terms_and_progress_replace_fields():
    store = small_store()
    row, _ = store.enroll(uid("kevin@acme.example"), course("Bribery").uuid, Terms(NOW), NOW)
    updated = store.update_terms(row.uuid, Terms(NOW, "unlimited"))
    assert updated is not None and updated.terms == Terms(NOW, "unlimited")
    done = store.update_progress(row.uuid, Progress("complete", 100.0, NOW, 90.0, 600, 2))
    assert done is not None and done.progress.status == "complete"
    assert store.update_terms("missing", Terms(NOW)) is None


def seeded_enrollments(store: Store, count: int) -> None:
    helen = uid("helen@acme.example")
    store.insert_items(course(f"Course {n}") for n in range(count))
    rows = [
        EnrollmentRow(
            ispring_uuid("enrollment", str(n)),
            n,
            course(f"Course {n}").uuid,
            helen,
            Terms(NOW + dt.timedelta(days=n)),
            progress=Progress("complete" if n % 2 else "not_started"),
        )
        for n in range(count)
    ]
    store.insert_enrollments(rows)


def test_keyset_paging_returns_every_row_once():
    store = small_store()
    seeded_enrollments(store, 25)
    seen: list[str] = []
    after = 0
    while page := store.enrollments(EnrollmentQuery(after_key=after), limit=7):
        seen.extend(e.uuid for e in page)
        after = page[-1].key
    assert len(seen) == len(set(seen)) == 25


def test_enrollment_filters_on_dates_statuses_and_departments():
    store = small_store()
    seeded_enrollments(store, 10)
    window = EnrollmentQuery(access_from=NOW + dt.timedelta(days=2), access_to=NOW + dt.timedelta(days=4))
    assert store.count_enrollments(window) == 3
    assert store.count_enrollments(EnrollmentQuery(completion_statuses=frozenset({"complete"}))) == 5
    eng = frozenset({ispring_uuid("department", "Acme/Eng")})
    assert store.count_enrollments(EnrollmentQuery(department_uuids=eng)) == 0
    assert store.count_enrollments(EnrollmentQuery(user_statuses=frozenset({"active"}))) == 10


def test_request_log_notifications_and_tokens_round_trip():
    store = small_store()
    store.log_request(RequestLogEntry("ispring", "POST", "/api/v2/soap/2.0", "GetUsers", 200, 1.5, NOW))
    store.log_request(RequestLogEntry("ispring", "POST", "/api/v2/soap/2.0", "GetUsers", 500, 1.5, NOW))
    assert store.request_summary() == [("ispring", "GetUsers", 200, 1), ("ispring", "GetUsers", 500, 1)]
    store.add_notification(NotificationRow("litmos", uid("helen@acme.example"), None, "course_assigned", NOW))
    assert store.notifications("litmos")[0].at == NOW
    token = TokenRow("t", "client", NOW, frozenset({"d1"}))
    store.save_token(token)
    assert store.get_token("t") == token and store.get_token("x") is None


def test_file_store_persists_between_opens(tmp_path):
    path = str(tmp_path / "lms.db")
    store = small_store()
    other = Store.open(path)
    other.insert_items([course("Security")])
    other.close()
    assert Store.open(path).get_item("Security", by="title") is not None
    assert not store.is_empty()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["enroll", "unenroll", "change"]),
        st.sampled_from(["helen@acme.example", "kevin@acme.example", "olga@acme.example"]),
        st.sampled_from(["Security", "Bribery"]),
        st.integers(0, 30),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(OPERATIONS)
def test_enrollments_behave_like_a_map_from_user_and_item_to_terms(operations):
    store = small_store()
    model: dict[tuple[str, str], Terms] = {}
    for operation, login, title, days in operations:
        key = (uid(login), course(title).uuid)
        terms = Terms(NOW + dt.timedelta(days=days), "unlimited")
        existing = store.find_enrollment(*key)
        if operation == "enroll":
            store.enroll(*key, terms, NOW)
            model.setdefault(key, terms)  # enrolling again changes nothing
        elif operation == "unenroll" and existing is not None:
            store.delete_enrollment(existing.uuid)
            del model[key]
        elif operation == "change" and existing is not None:
            store.update_terms(existing.uuid, terms)
            model[key] = terms
    rows = store.enrollments()
    assert {(r.user_uuid, r.item_uuid): r.terms for r in rows} == model
    assert len({r.uuid for r in rows}) == len(rows) == store.count_enrollments()
