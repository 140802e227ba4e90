"""Values that decide a removal are read strictly on both vendors: unreadable means unknown, never 0.

An unknown enrollment is kept (never dropped) with a reason naming the field and quoting the raw value,
cut to 60 characters and stripped of control characters (issue 17, item 1).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree

from reconciler.core.model import Completion, Enrollment, Item, ItemKind, Origin
from reconciler.providers.ispring import records
from reconciler.providers.litmos.body import BULK_RESULTS, USERS, records_from_body, records_from_json
from reconciler.providers.litmos.parse import parse_bulk_results, parse_roster
from reconciler.providers.strict import Unreadable

COURSE = Item("c1", ItemKind.COURSE, "Anti-Bribery")


def litmos_row(**fields: object) -> list[object]:
    return [{"Id": "u1", "Courses": [{"Id": "c1", "Complete": False, **fields}]}]


def litmos_enrollment(**fields: object) -> Enrollment:
    body = json.dumps(litmos_row(**fields)).encode()
    [enrollment] = parse_bulk_results(records_from_json(body, BULK_RESULTS))
    return enrollment


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("40,00", "PercentageComplete '40,00' is not a number"),
        ("40%", "PercentageComplete '40%' is not a number"),
        ("NaN", "PercentageComplete 'NaN' is not a number"),
        ("inf", "PercentageComplete 'inf' is not a number"),
        ("abc", "PercentageComplete 'abc' is not a number"),
        ("4e1", "PercentageComplete '4e1' is not a number"),
        (True, "PercentageComplete 'true' is not a number"),
        (-5, "PercentageComplete '-5' is outside 0..100"),
        ("-5", "PercentageComplete '-5' is not a number"),
        (100.5, "PercentageComplete '100.5' is outside 0..100"),
        ("250.00", "PercentageComplete '250.00' is outside 0..100"),
        ([40], "PercentageComplete '[40]' is not a number"),
        ({"value": 40}, "PercentageComplete '{\"value\":40}' is not a number"),
    ],
)
def test_litmos_unreadable_progress_makes_the_enrollment_unknown(raw: object, reason: str) -> None:
    enrollment = litmos_enrollment(PercentageComplete=raw)
    assert enrollment.unknown == reason
    assert enrollment.started and enrollment.progress == 0.0
    assert enrollment.completion is not Completion.NOT_STARTED


@pytest.mark.parametrize(
    ("raw", "progress"), [("40.00", 40.0), (40, 40.0), ("0", 0.0), (0.0, 0.0), (100, 100.0)]
)
def test_litmos_readable_progress_parses_as_before(raw: object, progress: float) -> None:
    enrollment = litmos_enrollment(PercentageComplete=raw)
    assert (enrollment.unknown, enrollment.progress) == ("", progress)


@pytest.mark.parametrize("raw", [None, ""])
def test_litmos_progress_not_reported_stays_zero(raw: object) -> None:
    enrollment = litmos_enrollment(PercentageComplete=raw)
    assert enrollment.unknown == "" and enrollment.progress == 0.0 and not enrollment.started


def test_litmos_xml_progress_reads_as_before_and_unreadable_xml_is_unknown() -> None:
    def roster(progress: str) -> str:
        body = (
            "<Users><User><Id>u1</Id><Completed>false</Completed>"
            f"<PercentageComplete>{progress}</PercentageComplete></User></Users>"
        )
        [enrollment] = parse_roster(records_from_body(body.encode(), "application/xml", USERS), COURSE)
        return enrollment.unknown or str(enrollment.progress)

    assert roster("0.00") == "0.0"
    assert roster("40.00") == "40.0"
    assert roster("") == "0.0"  # the vendor's own sample has <PercentageComplete></PercentageComplete>
    assert roster("40,00") == "PercentageComplete '40,00' is not a number"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"Complete": "yes"}, "Complete 'yes' is not true or false"),
        ({"Complete": 2}, "Complete '2' is not true or false"),
        ({"DateCompleted": "last week"}, "DateCompleted 'last week' is not a date"),
        ({"DateCompleted": 1600000000}, "DateCompleted '1600000000' is not a date"),
    ],
)
def test_litmos_unreadable_completion_flag_or_date_is_unknown(fields: dict[str, object], reason: str) -> None:
    enrollment = litmos_enrollment(PercentageComplete=0, **fields)
    assert enrollment.unknown == reason and enrollment.started


def test_a_quoted_raw_value_is_cut_to_60_characters_without_control_characters() -> None:
    raw = "4\x00\x1b[31m0" + "x" * 100
    enrollment = litmos_enrollment(PercentageComplete=raw)
    quoted = enrollment.unknown.removeprefix("PercentageComplete '").removesuffix("' is not a number")
    assert len(quoted) <= 60
    assert not any(ord(c) < 32 or ord(c) == 127 for c in enrollment.unknown)
    assert quoted.startswith("4[31m0xx")


# --- iSpring -------------------------------------------------------------------------------------------


def element(tag: str, **values: str) -> etree._Element:
    node = etree.Element(tag)
    for name, value in values.items():
        etree.SubElement(node, name).text = value
    return node


ENROLLMENT = {"enrollmentId": "e1", "courseId": "c1", "learnerId": "u1", "accessDate": "2026-01-01"}
RESULT = {"enrollmentId": "e1", "courseId": "c1", "userId": "u1", "completionStatus": "in_progress"}


def ispring_enrollment(enrollment: dict[str, str], result: dict[str, str] | None = None) -> Enrollment:
    record = records.parse_enrollment(element("enrollment", **{**ENROLLMENT, **enrollment}))
    results = (
        [records.parse_result(element("learnerResult", **{**RESULT, **result}))] if result is not None else []
    )
    [joined] = records.join([record], results, {})
    return joined


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("40,00", "progress '40,00' is not a number"),
        ("NaN", "progress 'NaN' is not a number"),
        ("-5", "progress '-5' is not a number"),
        ("150", "progress '150' is outside 0..100"),
        ("abc", "progress 'abc' is not a number"),
    ],
)
def test_ispring_unreadable_progress_makes_the_enrollment_unknown(raw: str, reason: str) -> None:
    enrollment = ispring_enrollment({}, {"progress": raw})
    assert enrollment.unknown == reason and enrollment.started


@pytest.mark.parametrize(("raw", "progress"), [("40", 40.0), ("40.00", 40.0), ("0", 0.0), ("0.00", 0.0)])
def test_ispring_readable_progress_parses_as_before(raw: str, progress: float) -> None:
    enrollment = ispring_enrollment({}, {"progress": raw})
    assert (enrollment.unknown, enrollment.progress) == ("", progress)


@pytest.mark.parametrize(
    ("enrollment", "result", "reason"),
    [
        ({"enrollmentTypeGroup": "2"}, {}, "enrollmentTypeGroup '2' is not one of 0, 1"),
        ({"shouldLockAfterDueDate": "maybe"}, {}, "shouldLockAfterDueDate 'maybe' is not one of true, false"),
        ({"dueDate": "31/01/2026"}, {}, "dueDate '31/01/2026' is not a date"),
        ({"duePeriod": "30d"}, {}, "duePeriod '30d' is not a whole number of hours"),
        ({"dueDateType": "sometime"}, {}, "dueDateType 'sometime' is not one of"),
        ({}, {"completionStatus": "archived"}, "completionStatus 'archived' is not one of"),
        ({}, {"completionDate": "yesterday"}, "completionDate 'yesterday' is not a date"),
        ({}, {"accessDate": "soon"}, "accessDate 'soon' is not a date"),
    ],
)
def test_ispring_unreadable_terms_status_dates_and_origin_are_unknown(
    enrollment: dict[str, str], result: dict[str, str], reason: str
) -> None:
    joined = ispring_enrollment(enrollment, result)
    assert joined.unknown.startswith(reason) and joined.started
    assert joined.completion is not Completion.NOT_STARTED


def test_ispring_values_left_out_keep_their_defaults() -> None:
    joined = ispring_enrollment({}, {"completionStatus": "not_started"})
    assert joined.unknown == "" and joined.origin is Origin.ADMIN and not joined.lock_after_due
    assert not joined.started


def test_ispring_reasons_of_terms_and_results_are_joined() -> None:
    joined = ispring_enrollment({"enrollmentTypeGroup": "x"}, {"progress": "40,00"})
    assert joined.unknown == "enrollmentTypeGroup 'x' is not one of 0, 1; progress '40,00' is not a number"


def test_ispring_dates_read_the_same_every_time_and_an_unreadable_one_is_never_remembered() -> None:
    # parsed once per distinct text (a listing repeats few): the second read must equal the first, in UTC
    for _ in range(2):
        assert records.parse_datetime("2026-11-25 10:30:00", field="dueDate") == dt.datetime(
            2026, 11, 25, 10, 30, tzinfo=dt.UTC
        )
        assert records.parse_datetime("2026-11-25T12:30:00+02:00", field="dueDate") == dt.datetime(
            2026, 11, 25, 10, 30, tzinfo=dt.UTC
        )
        assert records.parse_datetime(None, field="dueDate") is None
        with pytest.raises(Unreadable, match="accessDate 'soon' is not a date"):
            records.parse_datetime("soon", field="accessDate")
    # the reason names the field of each read, also for a text already read under another field
    with pytest.raises(Unreadable, match="completionDate 'soon' is not a date"):
        records.parse_datetime("soon", field="completionDate")
