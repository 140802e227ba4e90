"""`targets.where` and `joined_within` narrow a policy's users; `due: {from: hire_date}` is per learner."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from reconciler.core.attributes import FieldCondition, FieldOp
from reconciler.core.desired import expand
from reconciler.core.model import Directory, Due, DueKind, Settings, Targets, User
from reconciler.core.where import narrows
from reconciler.errors import ResolutionError
from tests.support.builders import NOW, Org, course, policy

ISPRING_FIELDS = ("LOGIN", "EMAIL", "FIRST_NAME", "LAST_NAME", "JOB_TITLE", "COUNTRY")


def _org() -> Directory:
    org = Org()
    people = [
        ("ann", "Acme/Sales", "Forklift Operator", "643", 5),
        ("bob", "Acme/Ops", "Forklift Operator", "840", 40),
        ("cy", "Acme/Ops", "Engineer", "643", 2),
        ("dee", "Acme/Ops", "", "840", None),
    ]
    for login, dept, *_ in people:
        org.user(login, dept=dept)
    org.course("Forklift")
    directory = org.directory()
    users = []
    for user, (_, _, title, country, days) in zip(directory.users, people, strict=True):
        fields = tuple((k, v) for k, v in (("JOB_TITLE", title), ("COUNTRY", country)) if v)
        joined = None if days is None else NOW - dt.timedelta(days=days)
        users.append(replace(user, fields=fields, joined=joined))
    return replace(directory, users=tuple(users), user_fields=ISPRING_FIELDS, joined_from="addedDate")


def _targeted(targets_policy, directory=None) -> list[str]:
    result = expand([targets_policy], directory or _org(), Settings(), provider="lms", now=NOW)
    result.raise_for_diagnostics()
    return sorted(u for u, _ in result.desired.enrollments)


def _narrowed(where=(), joined=None, **targets):
    base = policy("p", assign=[course("Forklift")], **targets)
    return replace(base, targets=replace(base.targets, where=tuple(where), joined_within_hours=joined))


def cond(field: str, op: FieldOp, *values: str) -> FieldCondition:
    return FieldCondition(field, op, values)


def test_where_alone_selects_from_everyone_and_field_names_ignore_case_and_underscores() -> None:
    assert _targeted(_narrowed([cond("job_title", FieldOp.EQUALS, "Forklift Operator")])) == [
        "u:ann",
        "u:bob",
    ]
    assert _targeted(_narrowed([cond("JobTitle", FieldOp.MATCHES, "Fork.*")])) == ["u:ann", "u:bob"]


def test_where_narrows_other_targets_and_exclude_still_applies() -> None:
    where = [cond("JOB_TITLE", FieldOp.EQUALS, "Forklift Operator")]
    assert _targeted(_narrowed(where, departments=["Acme/Ops"])) == ["u:bob"]
    assert _targeted(_narrowed(where, everyone=True, exclude_users=["bob"])) == ["u:ann"]


def test_conditions_combine_with_and_in_takes_any_listed_value() -> None:
    where = [cond("COUNTRY", FieldOp.IN, "643", "999"), cond("JOB_TITLE", FieldOp.MATCHES, "Forklift.*")]
    assert _targeted(_narrowed(where)) == ["u:ann"]


def test_matches_must_match_the_whole_value_and_a_missing_field_matches_nothing() -> None:
    assert _targeted(_narrowed([cond("JOB_TITLE", FieldOp.MATCHES, "Fork")])) == []
    assert _targeted(_narrowed([cond("JOB_TITLE", FieldOp.IN, "", "Engineer")])) == ["u:cy"]


def test_joined_within_uses_the_join_date_and_never_admits_an_unknown_one() -> None:
    assert _targeted(_narrowed(joined=7 * 24)) == ["u:ann", "u:cy"]
    assert _targeted(_narrowed([cond("COUNTRY", FieldOp.EQUALS, "643")], joined=3 * 24)) == ["u:cy"]


def test_an_unknown_field_is_an_error_listing_the_vendors_fields() -> None:
    with pytest.raises(ResolutionError) as error:
        _targeted(_narrowed([cond("job_titel", FieldOp.EQUALS, "x")]))
    (diagnostic,) = error.value.diagnostics
    assert "unknown user field 'job_titel'" in diagnostic.message
    assert "JOB_TITLE" in diagnostic.hint


def test_joined_within_on_a_vendor_without_join_dates_is_an_error() -> None:
    directory = replace(_org(), joined_from="")
    with pytest.raises(ResolutionError, match="reports no join date"):
        _targeted(_narrowed(joined=24), directory)


def test_plans_name_the_narrowing_in_the_rule() -> None:
    result = expand(
        [_narrowed([cond("JOB_TITLE", FieldOp.EQUALS, "Engineer")], departments=["Acme"])],
        _org(),
        Settings(),
        provider="lms",
        now=NOW,
    )
    (wanted,) = result.desired.enrollments.values()
    assert wanted.sources[0].rule == "departments: Acme, where: JOB_TITLE equals Engineer"


def test_due_from_hire_date_is_a_date_per_learner_and_a_period_without_one() -> None:
    hire = Due(DueKind.WITHIN, hours=14 * 24, from_hire_date=True)
    pol = policy("p", everyone=True, assign=[course("Forklift", due=hire)])
    result = expand([pol], _org(), Settings(), provider="lms", now=NOW)
    dues = {u: e.terms.due for (u, _), e in result.desired.enrollments.items()}
    assert dues["u:ann"] == Due(
        DueKind.DATE, date=(NOW - dt.timedelta(days=5) + dt.timedelta(days=14)).date()
    )
    assert dues["u:dee"] == Due(DueKind.WITHIN, hours=14 * 24)  # no join date: counted from access


def test_targets_without_narrowing_are_unchanged() -> None:
    assert not narrows(Targets(everyone=True))
    assert _targeted(policy("p", everyone=True, assign=[course("Forklift")])) == [
        "u:ann",
        "u:bob",
        "u:cy",
        "u:dee",
    ]
    assert isinstance(_org().users[0], User)
