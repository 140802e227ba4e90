"""Sandbox organisation files: the MANIFEST.md example loads, generation is deterministic, seeding exact."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ConfigError
from reconciler.sandbox.org.load import (
    department_uuid,
    dump_org_json,
    dump_org_yaml,
    expand_org,
    generate_org,
    item_uuid,
    load_org,
    parse_org,
    seed_store,
    user_uuid,
)
from reconciler.sandbox.org.spec import ORG_EPOCH
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import EnrollmentQuery, UserQuery

MANIFEST_EXAMPLE = """
departments:                  # a tree; Litmos emulation presents it as teams with sub-teams
  - name: Acme
    children:
      - name: Engineering
        children: [{name: Platform}, {name: Contractors}]
      - {name: Sales, children: [{name: EMEA}, {name: Americas}]}
groups: [New hires, Managers]
users:
  - login: helen@acme.example          # also the email unless `email` is given
    first_name: Helen
    last_name: Jones
    department: Acme/Sales/EMEA
    groups: [Managers]
    status: active                     # active | blocked | inactive | employment_ended
courses: [{title: Security Awareness 2026}, {title: Anti-Bribery}]
learning_paths:
  - {title: Onboarding, courses: [Security Awareness 2026]}
enrollments:                           # what the LMS already holds
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, progress: 100, due: 2026-01-31}
  - {user: helen@acme.example, learning_path: Onboarding, status: not_started}
generate:                              # optional: add a synthetic organisation of this size
  {users: 100, departments: 20, groups: 5, courses: 10, learning_paths: 2, enrollments_per_user: 4, seed: 1}
"""


def seeded(text: str) -> Store:
    store = Store.open(":memory:")
    seed_store(store, parse_org(text))
    return store


def test_the_manifest_example_loads_and_seeds(tmp_path):
    path = tmp_path / "sandbox.yaml"
    path.write_text(MANIFEST_EXAMPLE)
    org = load_org(str(path))
    assert org.generate is not None and org.generate.users == 100
    store = Store.open(":memory:")
    seed_store(store, org)
    assert store.count_users() == 101
    helen = store.get_user("helen@acme.example", by="login")
    assert helen is not None and helen.email == "helen@acme.example"
    assert helen.department_uuid == department_uuid("Acme/Sales/EMEA")
    done = store.find_enrollment(helen.uuid, item_uuid("Anti-Bribery"))
    assert (
        done is not None and done.progress.status == "complete" and done.progress.completion_date is not None
    )
    assert (
        done.terms.due_date == dt.datetime(2026, 1, 31, tzinfo=dt.UTC) and done.terms.access_date == ORG_EPOCH
    )
    path_item = store.get_item("Onboarding", by="title")
    assert path_item is not None and path_item.course_uuids == (item_uuid("Security Awareness 2026"),)


def test_generated_names_the_file_already_uses_mean_the_files_entities():
    org = expand_org(parse_org(MANIFEST_EXAMPLE))
    assert org.groups.count("Managers") == 1  # the generator also makes "New hires" and "Managers"


def test_ids_are_the_same_on_every_run():
    first, second = seeded(MANIFEST_EXAMPLE), seeded(MANIFEST_EXAMPLE)
    assert first.users() == second.users()
    assert first.enrollments() == second.enrollments()
    assert first.get_user(user_uuid("helen@acme.example")) is not None


def test_generation_is_deterministic_and_sized():
    org = generate_org(
        users=300, departments=30, groups=6, courses=12, learning_paths=3, enrollments_per_user=5, seed=4
    )
    assert org == generate_org(300, 30, 6, 12, 3, 5, 4)
    assert org != generate_org(300, 30, 6, 12, 3, 5, 5)
    assert len(org.users) == 300 and len(org.enrollments) == 1500
    assert len(org.groups) == 6 and len(org.courses) == 12 and len(org.learning_paths) == 3
    store = Store.open(":memory:")
    seed_store(store, org)
    assert len(store.departments()) == 30
    assert store.count_enrollments() == 1500
    assert store.count_users(UserQuery(statuses=frozenset({"active"}))) > 200


def test_dump_and_parse_round_trip():
    org = generate_org(
        users=40, departments=8, groups=3, courses=6, learning_paths=2, enrollments_per_user=3, seed=2
    )
    assert parse_org(dump_org_yaml(org)) == org
    example = parse_org(MANIFEST_EXAMPLE)
    assert parse_org(dump_org_yaml(example)) == example
    as_json = dump_org_json(org)
    assert parse_org(as_json) == org
    assert yaml.safe_load(as_json) == json.loads(as_json)  # JSON org files are YAML org files too
    assert parse_org(dump_org_json(example)) == example


@settings(max_examples=25, deadline=None)
@given(
    users=st.integers(0, 30),
    departments=st.integers(1, 12),
    courses=st.integers(0, 6),
    per_user=st.integers(0, 8),
    seed=st.integers(0, 1000),
)
def test_any_generated_org_seeds_cleanly(
    users: int, departments: int, courses: int, per_user: int, seed: int
):
    org = generate_org(users, departments, 3, courses, 2, per_user, seed)
    store = Store.open(":memory:")
    seed_store(store, org)
    assert store.count_users() == users
    assert (
        store.count_enrollments()
        == len(org.enrollments)
        == users * min(per_user, courses + len(org.learning_paths))
    )
    for row in store.enrollments(EnrollmentQuery()):
        assert 0 <= row.progress.progress <= 100


def test_every_problem_in_a_file_is_reported_at_once():
    bad = """
departments: [{name: Acme}]
groups: [G]
users:
  - {login: a@x, department: Acme/Nowhere, groups: [H], status: sleeping}
  - {login: a@x}
courses: [{title: C}]
learning_paths: [{title: P, courses: [D]}]
enrollments:
  - {user: b@x, course: C}
  - {user: a@x, course: C, learning_path: P}
  - {user: a@x, course: C, due: someday, status: done}
colour: blue
"""
    with pytest.raises(ConfigError) as caught:
        parse_org(bad)
    message = str(caught.value)
    for expected in (
        "unknown department 'Acme/Nowhere'",
        "unknown group 'H'",
        "'sleeping' is not one of",
        "'a@x' appears more than once",
        "unknown course 'D'",
        "unknown user 'b@x'",
        "exactly one of `course` or `learning_path`",
        "expected a date, unlimited, default",
        "'done' is not one of",
        "colour: unknown key",
    ):
        assert expected in message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_org(str(tmp_path / "nope.yaml"))


def test_relative_due_and_extension_keys():
    org = parse_org(
        """
departments: [{name: Acme}]
users: [{login: a@x, department: Acme, role: department_administrator, manages: [Acme]}]
courses: [{title: C}]
enrollments:
  - {user: a@x, course: C, due: {within: 2w}, access: 2026-02-01, origin: catalog, lock_after_due: true}
"""
    )
    store = Store.open(":memory:")
    seed_store(store, org)
    row = store.enrollments()[0]
    assert row.terms.due_type == "due_period" and row.terms.due_period_hours == 336
    assert row.terms.due_date == dt.datetime(2026, 2, 15, tzinfo=dt.UTC)
    assert row.origin == "catalog" and row.terms.lock_after_due
    admin = store.users()[0]
    assert admin.manageable_department_uuids == (department_uuid("Acme"),)
