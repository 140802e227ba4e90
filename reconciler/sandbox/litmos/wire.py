"""Litmos v1.svc wire format: entities, XML and JSON serialisation, dates, nulls, request bodies.

Pure functions only. An `Entity` is one object with ordered fields (XML element order follows the vendor
pages); an `EntityList` is a wrapped list (`<Courses><Course>…`, JSON `[…]`). Fields that only the XML form
carries (the vendor pages document them, recorded JSON lacks them) are named in `xml_only`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

Scalar: TypeAlias = str | int | bool | Decimal | dt.datetime | None
Value: TypeAlias = "Scalar | EntityList | Entity"


@dataclass(frozen=True)
class Entity:
    """One Litmos object: an XML element named `tag`, or a JSON object, with fields in vendor order."""

    tag: str
    fields: tuple[tuple[str, Value], ...]
    xml_only: frozenset[str] = frozenset()  # left out of the JSON form (recorded JSON has no such key)

    def get(self, name: str) -> Value:
        """The value of the first field called `name` (None when absent)."""
        return next((value for key, value in self.fields if key == name), None)


@dataclass(frozen=True)
class EntityList:
    """A list wrapped in an element (`<Users>` of `<User>`); a JSON array."""

    tag: str
    items: tuple[Entity, ...]


class MalformedBody(ValueError):
    """A request body that is neither the documented XML nor the documented JSON."""


# --- dates -------------------------------------------------------------------------------------------


def as_utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC; naive datetimes are taken to be UTC already (the store keeps UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def xml_date(moment: dt.datetime) -> str:
    """`2020-12-12T09:18:00.647`: the vendor's XML form, milliseconds and no zone."""
    utc = as_utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


def json_date(moment: dt.datetime) -> str:
    """`/Date(1234567891011-0000)/`: milliseconds since the epoch, as in the vendor's JSON samples."""
    delta = as_utc(moment) - _EPOCH
    millis = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    return f"/Date({millis}-0000)/"


def percentage(value: float | int | Decimal) -> Decimal:
    """A percentage as the vendor prints it: two decimals (`0.00`, `100.00`)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


# --- XML ---------------------------------------------------------------------------------------------


# Characters XML 1.0 cannot carry; they are dropped (a path or name holding them must not cause a 500).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return xml_date(value)
    return _NOT_XML.sub("", str(value))


def _xml_fill(element: etree._Element, value: Value) -> None:
    if value is None:
        element.set(f"{{{XSI}}}nil", "true")
    elif isinstance(value, EntityList):
        for item in value.items:
            _xml_entity(element, item)
    elif isinstance(value, Entity):
        for name, field_value in value.fields:
            _xml_fill(etree.SubElement(element, name), field_value)
    elif value != "":
        element.text = _xml_text(value)


def _xml_entity(parent: etree._Element, entity: Entity) -> None:
    _xml_fill(etree.SubElement(parent, entity.tag), entity)


def to_xml(document: Entity | EntityList) -> bytes:
    """The XML body: root named after the entity or list, `xmlns:i` declared on it, nulls as `i:nil`."""
    root = etree.Element(document.tag, nsmap={"i": XSI})
    _xml_fill(root, document)
    return etree.tostring(root, encoding="utf-8")


# --- JSON --------------------------------------------------------------------------------------------


def _json_value(value: Value) -> str:
    # Hand-written so decimals keep the vendor's `0.00` and dates become `/Date(…)/` strings.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return json.dumps(json_date(value))
    if isinstance(value, EntityList):
        return "[" + ",".join(_json_value(item) for item in value.items) + "]"
    if isinstance(value, Entity):
        pairs = (
            f"{json.dumps(name)}:{_json_value(v)}" for name, v in value.fields if name not in value.xml_only
        )
        return "{" + ",".join(pairs) + "}"
    return json.dumps(value, ensure_ascii=False)


def to_json(document: Entity | EntityList) -> bytes:
    """The JSON body: an object for an entity, an array for a list."""
    return _json_value(document).encode("utf-8")


# --- error bodies ------------------------------------------------------------------------------------


def error_document(message: str) -> Entity:
    """The body of a 4xx/5xx answer: `{"Detail": …}` as recorded (a 409, create-user-already-exists.yml).

    # inferred: the vendor pages show no error body at all; XML says `<Error><Detail>…` by analogy.
    """
    return Entity("Error", (("Detail", message),))


# --- request bodies ----------------------------------------------------------------------------------


def _ids_from_json(body: bytes) -> list[str]:
    try:
        parsed = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedBody(f"request body is not valid JSON: {error}") from error
    rows = parsed if isinstance(parsed, list) else [parsed]
    ids: list[str] = []
    for row in rows:
        if not isinstance(row, dict) or "Id" not in row:
            raise MalformedBody('each element of the JSON body must be an object with an "Id"')
        ids.append(str(row["Id"] if row["Id"] is not None else ""))
    return ids


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _ids_from_xml(body: bytes) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)  # entities and network are disabled above
    except etree.XMLSyntaxError as error:
        raise MalformedBody(f"request body is not well-formed XML: {error}") from error
    # An element without <Id> is skipped, as a forgiving server would: the vendor's own learning-path
    # sample has a second `<LearningPath>` holding only "...".
    ids: list[str] = []
    for row in root:
        id_elements = [child for child in row if _local(child.tag) == "Id"]
        ids.extend((child.text or "").strip() for child in id_elements[:1])
    return ids


def parse_id_list(body: bytes, content_type: str) -> list[str]:
    """The ids of `<Courses><Course><Id>…` / `<Users><User><Id>…` or `[{"Id": …}]`, in body order."""
    kind = content_type.lower()
    text = body.lstrip()
    if "json" in kind or ("xml" not in kind and text[:1] in (b"[", b"{")):
        return _ids_from_json(body)
    if not text:
        raise MalformedBody("request body is empty")
    return _ids_from_xml(body)


def unique(ids: Iterable[str]) -> list[str]:
    """`ids` without repeats, first occurrence kept (the vendor ignores duplicates)."""
    return list(dict.fromkeys(ids))
