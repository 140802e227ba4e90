"""Profile fields and join dates for `targets.where` / `joined_within`, as each vendor reports them."""

from __future__ import annotations

import datetime as dt

from reconciler.core.profiles import ProfileNeed
from reconciler.providers.ispring import records
from reconciler.providers.ispring.soap import Fault, descendants, parse_response
from reconciler.providers.litmos.profiles import PROFILE_FIELDS
from tests.support.ispring_samples import GET_USERS_RESPONSE
from tests.support.litmos_provider import ORG, sandbox


def test_ispring_get_users_sample_carries_profile_fields_and_added_date() -> None:
    result = parse_response(GET_USERS_RESPONSE, "GetUsers")
    assert not isinstance(result, Fault)
    users = [records.parse_user(e) for e in descendants(result, "userProfile")]
    helen = users[0]
    assert dict(helen.fields)["JOB_TITLE"] == "Accountant"
    assert dict(helen.fields)["COUNTRY"] == "643"
    assert helen.joined == dt.datetime(2019, 4, 30, tzinfo=dt.UTC)
    assert records.user_fields(users)[:6] == records.STANDARD_USER_FIELDS


def test_litmos_profiles_cost_one_call_per_user_and_fill_fields_and_created_date() -> None:
    org = ORG.replace(
        "  - {login: ann@acme.example, department: Acme}",
        "  - {login: ann@acme.example, department: Acme, job_title: Forklift Operator, added: 2026-11-01}",
    )
    box = sandbox(org)
    directory = box.directory()
    everyone = ProfileNeed(frozenset({"jobtitle"}), join_dates=True, user_ids=None)
    profiled = box.provider.read_user_profiles(directory, everyone)
    ann = next(u for u in profiled.users if u.login == "ann@acme.example")
    assert dict(ann.fields)["JobTitle"] == "Forklift Operator"
    assert ann.joined == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert set(PROFILE_FIELDS) <= set(profiled.user_fields) and profiled.joined_from == "CreatedDate"
    calls = [e for e in box.store.request_log() if e.action.startswith("GET /users/")]
    assert len(calls) == len(directory.users)
