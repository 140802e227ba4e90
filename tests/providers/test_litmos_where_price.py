"""What `targets.where` costs on Litmos: the `/users` listing's fields for free, the other profile fields at
one `GET /users/{id}` per user the policies' other targets select, never more; the same plan either way."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from reconciler.core.attributes import FieldCondition, FieldOp
from reconciler.core.desired import expand
from reconciler.core.model import Directory, Policy, Settings, Targets
from reconciler.core.profiles import NOTHING, ProfileNeed, profile_need
from reconciler.engine.directory import read_directory
from reconciler.providers.litmos.profiles import LISTED_FIELDS, USER_FIELDS
from tests.support.builders import course, dept_ref, policy
from tests.support.litmos_provider import ORG, FakeClock, Sandbox, sandbox

WHERE_ORG = ORG.replace(
    "  - {login: ann@acme.example, department: Acme}",
    "  - {login: ann@acme.example, department: Acme, job_title: Forklift Operator}\n"
    "  - {login: otto@acme.example, department: Acme/Sales/EMEA, job_title: Forklift Operator}\n"
    "  - {login: pia@acme.example, department: Acme/Sales/Americas, job_title: Account Executive}",
)


def _where(pol: Policy, field: str, value: str, **targets: object) -> Policy:
    condition = FieldCondition(field, FieldOp.EQUALS, (value,))
    return dataclasses.replace(
        pol, targets=dataclasses.replace(pol.targets, where=(condition,), **targets), provider="academy"
    )


def _profile_calls(box: Sandbox) -> int:
    return sum(1 for e in box.store.request_log() if e.action == "GET /users/{user}")


def _logins(box: Sandbox, directory: Directory, policies: list[Policy]) -> set[str]:
    result = expand(policies, directory, Settings(), provider="academy")
    logins = {u.id: u.login for u in directory.users}
    return {logins[user] for user, _ in result.desired.enrollments}


def _read(box: Sandbox, policies: list[Policy]) -> tuple[Directory, int]:
    """The directory as plan reads it for `policies`, and the profile calls that cost."""
    before = _profile_calls(box)
    directory = read_directory(box.provider, policies)
    return directory, _profile_calls(box) - before


@pytest.fixture
def box() -> Sandbox:
    return sandbox(WHERE_ORG)


def test_a_where_on_a_listed_field_reads_no_profile(box: Sandbox) -> None:
    pol = _where(
        policy("guests", assign=[course("Anti-Bribery")]), "email", "pia@acme.example", everyone=True
    )
    directory, calls = _read(box, [pol])
    assert calls == 0
    assert _logins(box, directory, [pol]) == {"pia@acme.example"}
    assert directory.user_fields == USER_FIELDS  # an unknown field still lists every candidate


def test_a_profile_field_reads_only_the_users_the_other_targets_select(box: Sandbox) -> None:
    sales = [dept_ref("Acme/Sales")]
    pol = _where(policy("forklift", assign=[course("Anti-Bribery")]), "job_title", "Forklift Operator")
    pol = dataclasses.replace(pol, targets=dataclasses.replace(pol.targets, departments=tuple(sales)))
    directory, calls = _read(box, [pol])
    assert calls == 3  # helen, otto, pia: the Sales subtree; not ann, kevin, ina
    assert _logins(box, directory, [pol]) == {"otto@acme.example"}


def test_a_where_alone_reads_every_profile_and_selects_the_same_as_a_full_read(box: Sandbox) -> None:
    pol = _where(policy("forklift", assign=[course("Anti-Bribery")]), "JobTitle", "Forklift Operator")
    directory, calls = _read(box, [pol])
    assert calls == len(directory.users)
    full = box.provider.read_user_profiles(box.directory(), ProfileNeed(frozenset({"jobtitle"}), True, None))
    assert (
        _logins(box, directory, [pol])
        == _logins(box, full, [pol])
        == {"ann@acme.example", "otto@acme.example"}
    )


def test_the_price_is_logged_before_and_after_the_read(
    box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sales = (dept_ref("Acme/Sales"),)
    pol = _where(policy("forklift", assign=[course("Anti-Bribery")]), "job_title", "x", departments=sales)
    with caplog.at_level(logging.INFO, logger="enrollctl.litmos"):
        _read(box, [pol])
    lines = [r.getMessage() for r in caplog.records if "user profiles" in r.getMessage()]
    assert lines == [
        "academy: starts reading 3 user profiles: 3 calls (GET /users/{id}, one per user); 3 other users "
        "skipped (not selected by the policies' other targets)",
        "academy: read 3 user profiles: 3 calls (GET /users/{id}, one per user); 3 other users skipped "
        "(not selected by the policies' other targets)",
    ]


def test_the_need_names_fields_join_dates_and_the_users_cheaper_targets_select() -> None:
    box = sandbox(WHERE_ORG)
    directory = box.directory()
    ids = {u.login: u.id for u in directory.users}
    plain = policy("all", assign=[course("Anti-Bribery")], everyone=True)
    assert profile_need([plain], directory, provider="academy") == NOTHING
    listed = _where(plain, "JobTitle", "x", everyone=False, departments=(dept_ref("Acme/Sales/EMEA"),))
    listed = dataclasses.replace(
        listed, targets=dataclasses.replace(listed.targets, exclude=Targets().exclude, joined_within_hours=24)
    )
    need = profile_need([listed], directory, provider="academy")
    assert need == ProfileNeed(
        frozenset({"jobtitle"}), True, frozenset({ids["helen@acme.example"], ids["otto@acme.example"]})
    )
    alone = _where(policy("x", assign=[course("Anti-Bribery")]), "Email", "x")
    assert profile_need([listed, alone], directory, provider="academy").user_ids is None
    elsewhere = dataclasses.replace(alone, provider="lms")
    assert profile_need([elsewhere], directory, provider="academy") == NOTHING
    assert set(LISTED_FIELDS) < set(USER_FIELDS)


def test_profile_calls_are_paced_by_the_providers_rate_limit() -> None:
    clock = FakeClock()
    box = sandbox(WHERE_ORG, clock=clock, client_limit=2)  # two calls in any minute
    directory = box.directory()
    started = clock.now
    box.provider.read_user_profiles(directory, ProfileNeed(frozenset({"jobtitle"}), False, None))
    assert len(directory.users) == 6 and _profile_calls(box) == 6
    # six calls, at most two in any minute: the 1st, 3rd and 5th are a minute apart at least
    assert clock.now - started >= 120
