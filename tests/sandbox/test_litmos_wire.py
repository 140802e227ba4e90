"""The Litmos wire format, as the vendor page `litmos-rest-user-assignments.txt` shows it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from reconciler.sandbox.litmos.http import (
    LitmosError,
    LitmosRequest,
    check_credentials,
    page_bounds,
    path_segments,
)
from reconciler.sandbox.litmos.wire import (
    XSI,
    Entity,
    EntityList,
    MalformedBody,
    json_date,
    parse_id_list,
    percentage,
    to_json,
    to_xml,
    xml_date,
)
from tests.support.litmos_org import json_to_text, xml_to_data

UTC = dt.UTC


def course(**overrides: object) -> Entity:
    fields: dict[str, object] = {
        "Id": "bYWg1D67tgo1",
        "Code": "",
        "Name": "Example Course Name",
        "Active": True,
        "PercentageComplete": percentage(0),
        "AssignedDate": dt.datetime(2020, 12, 12, 9, 18, 0, 647000, tzinfo=UTC),
        "StartDate": None,
        "OriginalId": 1234567,
    }
    fields.update(overrides)
    return Entity("Course", tuple(fields.items()))  # type: ignore[arg-type]


def test_xml_dates_have_milliseconds_and_no_zone() -> None:
    assert xml_date(dt.datetime(2020, 12, 12, 9, 18, 0, 647000, tzinfo=UTC)) == "2020-12-12T09:18:00.647"
    assert xml_date(dt.datetime(2020, 4, 7, 11, 4, 33)) == "2020-04-07T11:04:33.000"


def test_json_dates_are_milliseconds_since_epoch_with_zero_offset() -> None:
    moment = dt.datetime.fromtimestamp(1234567891.011, tz=UTC)
    assert json_date(moment) == "/Date(1234567891011-0000)/"


def test_json_date_converts_other_zones_to_utc() -> None:
    cet = dt.timezone(dt.timedelta(hours=1))
    assert json_date(dt.datetime(1970, 1, 1, 1, 0, tzinfo=cet)) == "/Date(0-0000)/"


@given(st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_json_date_round_trips_to_the_millisecond(moment: dt.datetime) -> None:
    millis = int(json_date(moment)[6:-7])
    back = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=millis)
    assert back == moment.replace(tzinfo=UTC, microsecond=moment.microsecond // 1000 * 1000)


def test_xml_nulls_are_i_nil_with_the_xsi_namespace_on_the_root() -> None:
    body = to_xml(EntityList("Courses", (course(),)))
    root = etree.fromstring(body)
    assert root.nsmap == {"i": XSI}
    start = root.find("Course/StartDate")
    assert start is not None and start.get(f"{{{XSI}}}nil") == "true"
    assert b'<StartDate i:nil="true"/>' in body


def test_xml_empty_string_is_an_empty_element() -> None:
    assert b"<Code/>" in to_xml(EntityList("Courses", (course(),)))


def test_empty_list_is_a_self_closing_root_element() -> None:
    assert to_xml(EntityList("Users", ())) == b'<Users xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>'
    assert to_json(EntityList("Users", ())) == b"[]"


def test_json_keeps_two_decimals_and_vendor_dates() -> None:
    text = to_json(EntityList("Courses", (course(),))).decode()
    assert '"PercentageComplete":0.00' in text
    parsed = json.loads(text)
    assert parsed[0]["AssignedDate"] == "/Date(1607764680647-0000)/"
    assert parsed[0]["StartDate"] is None
    assert parsed[0]["Active"] is True
    assert parsed[0]["OriginalId"] == 1234567


def test_xml_field_order_follows_the_entity() -> None:
    root = etree.fromstring(to_xml(course()))
    assert [child.tag for child in root] == [
        "Id",
        "Code",
        "Name",
        "Active",
        "PercentageComplete",
        "AssignedDate",
        "StartDate",
        "OriginalId",
    ]
    assert root.findtext("Active") == "true"
    assert root.findtext("PercentageComplete") == "0.00"


def test_nested_lists_render_wrapped_in_both_formats() -> None:
    user = Entity("User", (("Id", "u1"), ("Courses", EntityList("Courses", (course(),)))))
    root = etree.fromstring(to_xml(EntityList("Users", (user,))))
    assert root.findtext("User/Courses/Course/Name") == "Example Course Name"
    assert json.loads(to_json(EntityList("Users", (user,))))[0]["Courses"][0]["Name"] == "Example Course Name"


def test_strings_are_escaped() -> None:
    entity = Entity("User", (("FirstName", 'Zoë "<&>"'),))
    assert etree.fromstring(to_xml(entity)).findtext("FirstName") == 'Zoë "<&>"'
    assert json.loads(to_json(entity))["FirstName"] == 'Zoë "<&>"'


def test_parse_ids_from_the_vendor_xml_and_json_samples() -> None:
    xml = (
        b"<Courses>\n    <Course>\n        <Id>a1</Id>\n    </Course>\n"
        b"    <Course><Id>b2</Id></Course>\n</Courses>"
    )
    assert parse_id_list(xml, "application/xml") == ["a1", "b2"]
    assert parse_id_list(b'[\n  {\n    "Id": "bYWg1D67tgo1"\n  }\n]', "application/json") == ["bYWg1D67tgo1"]


def test_parse_ids_sniffs_the_format_without_a_content_type() -> None:
    assert parse_id_list(b'[{"Id": "x"}]', "") == ["x"]
    assert parse_id_list(b"<Users><User><Id>x</Id></User></Users>", "") == ["x"]


@pytest.mark.parametrize(
    "body", [b"", b"<Courses><Course>", b"[{]", b'[{"Name": "x"}]', b"[1]", b"just text"]
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_id_list(body, "")


def test_xml_elements_without_an_id_are_skipped() -> None:
    body = (
        b"<LearningPaths><LearningPath><Id>a</Id></LearningPath>"
        b"<LearningPath>...</LearningPath></LearningPaths>"
    )
    assert parse_id_list(body, "application/xml") == ["a"]


def test_xml_body_with_an_entity_declaration_is_not_expanded() -> None:
    body = b'<!DOCTYPE x [<!ENTITY e "boom">]><Courses><Course><Id>&e;</Id></Course></Courses>'
    assert parse_id_list(body, "text/xml") != ["boom"]


def request(**query: str) -> LitmosRequest:
    return LitmosRequest("GET", "/v1.svc/users", query=query, headers={"apikey": "k"})


def test_paging_defaults_to_100_rows_from_the_start() -> None:
    assert page_bounds(request()) == (0, 100)


def test_paging_clamps_the_limit_to_1000() -> None:
    assert page_bounds(request(limit="5000", start="7")) == (7, 1000)


@pytest.mark.parametrize("raw", ["-1", "ten", "1.5"])
def test_paging_refuses_non_integers(raw: str) -> None:
    with pytest.raises(LitmosError) as caught:
        page_bounds(request(limit=raw))
    assert caught.value.status == 400


def test_credentials_need_a_known_key_and_a_source() -> None:
    check_credentials(request(source="app"), {"k"})
    for bad in (request(), request(source=""), request(source="x" * 51)):
        with pytest.raises(LitmosError) as caught:
            check_credentials(bad, {"k"})
        assert caught.value.status == 403
    with pytest.raises(LitmosError):
        check_credentials(request(source="app"), {"other"})


def test_key_may_come_from_the_query_as_in_older_docs() -> None:
    old_style = LitmosRequest("GET", "/v1.svc/users", query={"apikey": "k", "source": "app"})
    check_credentials(old_style, {"k"})


def test_format_json_or_accept_header_selects_json() -> None:
    assert request(format="json").wants_json
    assert not request().wants_json
    accept = LitmosRequest("GET", "/v1.svc/users", headers={"accept": "application/json"})
    assert accept.wants_json


def test_paths_outside_v1_svc_are_not_api_paths() -> None:
    assert path_segments("/v1.svc/users/abc/courses") == ("users", "abc", "courses")
    assert path_segments("/v1.svc/users/") == ("users",)
    assert path_segments("/api/users") is None


def test_percentage_has_two_decimals() -> None:
    assert percentage(100) == Decimal("100.00")
    assert str(percentage(33.333)) == "33.33"


# --- XML and JSON agree for any entity ---------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.decimals(min_value=0, max_value=100, places=2),
    st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    _TEXT,
)
_NAMES = st.sampled_from(["Id", "Name", "Active", "StartDate", "Score", "Code"])


def _entities(tag: str) -> st.SearchStrategy[Entity]:
    fields = st.lists(st.tuples(_NAMES, _SCALARS), min_size=1, max_size=6, unique_by=lambda pair: pair[0])
    return fields.map(lambda pairs: Entity(tag, tuple(pairs)))


@given(st.lists(_entities("Course"), max_size=4))
def test_xml_and_json_renderings_of_any_list_agree(courses: list[Entity]) -> None:
    document = EntityList("Courses", tuple(courses))
    from_xml = xml_to_data(etree.fromstring(to_xml(document)), frozenset({"Courses"}))
    from_json = json_to_text(json.loads(to_json(document), parse_float=Decimal))
    assert from_xml == from_json


def test_characters_xml_cannot_carry_are_dropped_from_xml_only() -> None:
    entity = Entity("Error", (("Message", "no resource at /v1.svc/\x00\x1f"),))
    assert etree.fromstring(to_xml(entity)).findtext("Message") == "no resource at /v1.svc/"
    assert json.loads(to_json(entity))["Message"].endswith("\x00\x1f")
