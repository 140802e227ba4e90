"""Litmos list answers into records, checked against the shape the call documents.

Litmos answers XML by default and JSON with `format=json`; both become `Record`s (field name to value), so
one set of accessors reads both. Every list call names its `Shape`: a JSON array of objects (or an object
wrapping one in `Items`), or the XML container of its record elements (or `<…Collection>` with `<Items>`).
Anything else, an object where a list belongs, a renamed element, a row without an id, is a
`ProtocolError` saying what was expected and what came: a misshapen answer is never read as a directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from lxml import etree

from reconciler.errors import ProtocolError
from reconciler.providers.strict import names_seen
from reconciler.transport.safexml import local_name, parse_xml

Value: TypeAlias = "str | bool | int | float | list[Record] | Record | None"
Record: TypeAlias = "dict[str, Value]"

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# Container elements whose children are list entries even when there is only one (or none).
LIST_CONTAINERS = frozenset({"Items", "Users", "Courses", "LearningPaths", "Teams", "Modules"})


@dataclass(frozen=True)
class Shape:
    """What a list call answers: `<container>` of `<record>` (JSON: an array), each with `required` fields."""

    container: str
    record: str
    required: tuple[str, ...] = ("Id",)
    nested: tuple[str, Shape] | None = None  # a list field whose rows have a shape of their own

    def expected(self) -> str:
        return f"a list of {self.record} (JSON array or XML <{self.container}>)"


USERS = Shape("Users", "User")
TEAMS = Shape("Teams", "Team")
COURSES = Shape("Courses", "Course")
LEARNING_PATHS = Shape("LearningPaths", "LearningPath")
# POST /users/courses: users each with their list of courses (possibly empty, never missing)
BULK_RESULTS = Shape("Users", "User", ("Id", "Courses"), nested=("Courses", COURSES))


_BY_LAST_SEGMENT = {"users": USERS, "teams": TEAMS, "courses": COURSES, "learningpaths": LEARNING_PATHS}


def shape_for(method: str, path: str) -> Shape:
    """The shape a list call answers, named by its path's last segment (`/teams/{id}/users`: users)."""
    if method.upper() == "POST" and path.rstrip("/") == "/users/courses":
        return BULK_RESULTS
    shape = _BY_LAST_SEGMENT.get(path.rstrip("/").rsplit("/", 1)[-1].lower())
    if shape is None:
        raise ValueError(f"no known list shape for {method} {path}")
    return shape


def shape_error(shape: Shape, seen: str) -> ProtocolError:
    """The error for an answer that is not `shape`: the caller adds provider and call."""
    return ProtocolError(f"expected {shape.expected()}, got {seen}")


# --- XML -----------------------------------------------------------------------------------------------


def _elements(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _is_list(element: etree._Element, children: list[etree._Element]) -> bool:
    name = local_name(element)
    if name in LIST_CONTAINERS:
        return True
    tags = {local_name(c) for c in children}
    return len(tags) == 1 and (len(children) > 1 or name == f"{tags.pop()}s")


def xml_value(element: etree._Element) -> Value:
    """One XML element as a value: text, None for `i:nil`, a list for containers, a record otherwise."""
    if element.get(XSI_NIL) == "true":
        return None
    children = _elements(element)
    if _is_list(element, children):
        return [xml_record(c) for c in children]
    if children:
        return xml_record(element)
    return element.text or ""


def xml_record(element: etree._Element) -> Record:
    """The child elements of `element` as a record; a repeated field keeps its first value."""
    record: Record = {}
    for child in _elements(element):
        record.setdefault(local_name(child), xml_value(child))
    return record


def _xml_rows(container: etree._Element, shape: Shape, where: str) -> list[Record]:
    rows = _elements(container)
    names = [local_name(r) for r in rows]
    if any(n != shape.record for n in names):
        raise shape_error(shape, f"{where} holding <{names_seen(names)}>")
    return [xml_record(r) for r in rows]


def records_from_xml(body: bytes, shape: Shape) -> list[Record]:
    """`<Users><User>…` (an empty `<Users xmlns:i="…"/>` included) or `<UserCollection>…<Items><User>…`."""
    root = parse_xml(body)
    name = local_name(root)
    if name == shape.container:
        return _xml_rows(root, shape, f"<{name}>")
    items = [c for c in _elements(root) if local_name(c) == "Items"]
    if name.endswith("Collection") and len(items) == 1:
        # `/users/paginated` wraps the list: <UserCollection><Pagination/><Items>…</Items>
        return _xml_rows(items[0], shape, f"<{name}><Items>")
    children = names_seen(local_name(c) for c in _elements(root))
    raise shape_error(shape, f"an XML document <{name}> holding <{children}>")


# --- JSON ----------------------------------------------------------------------------------------------


def _json_type(data: object) -> str:
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a JSON boolean"
    if isinstance(data, int | float):
        return "a JSON number"
    if isinstance(data, str):
        return "a JSON string"
    if isinstance(data, dict):
        return f"a JSON object with keys {names_seen(str(k) for k in data)}"
    return "a JSON array"


def _json_rows(data: list[object], shape: Shape) -> list[Record]:
    odd = [_json_type(row) for row in data if not isinstance(row, dict)]
    if odd:
        raise shape_error(shape, f"a JSON array holding {names_seen(odd)}")
    return [row for row in data if isinstance(row, dict)]


def records_from_json(body: bytes, shape: Shape) -> list[Record]:
    """A JSON array of objects, or an object whose `Items` is one; `[]` is the empty list."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise ProtocolError(f"Litmos sent malformed JSON: {error}") from error
    if isinstance(data, list):
        return _json_rows(data, shape)
    if isinstance(data, dict) and isinstance(data.get("Items"), list):
        return _json_rows(data["Items"], shape)
    raise shape_error(shape, _json_type(data))


def records_from_body(body: bytes, content_type: str, shape: Shape) -> list[Record]:
    """Records of a list answer in whichever format the server chose, each with `shape`'s fields."""
    stripped = body.lstrip()
    if not stripped:
        raise shape_error(shape, "an empty body")
    if "json" in content_type or stripped[:1] in (b"[", b"{") or stripped == b"null":
        rows = records_from_json(body, shape)
    elif stripped[:1] == b"<":
        rows = records_from_xml(body, shape)
    else:
        raise ProtocolError(f"Litmos sent neither JSON nor XML ({content_type or 'no content type'})")
    check_required(rows, shape)
    if shape.nested is not None:
        name, inner = shape.nested
        for index, row in enumerate(rows):
            _check_nested(row.get(name), inner, f" in {shape.record} row {index}'s {name}")
    return rows


def _check_nested(value: Value, shape: Shape, where: str) -> None:
    rows = value if isinstance(value, list) else []
    odd = [_json_type(row) for row in rows if not isinstance(row, dict)]
    if odd:
        raise shape_error(shape, f"{names_seen(odd)}{where}")
    check_required(rows, shape, where)


def check_required(rows: Sequence[Mapping[str, Value]], shape: Shape, where: str = "") -> None:
    """Every row has each of `shape.required`: an id non-empty, a list field as a list (`[]` allowed)."""
    for index, row in enumerate(rows):
        for name in shape.required:
            value = row.get(name)
            present = isinstance(value, list) if name == "Courses" else _text(value) != ""
            if not present:
                what = f"an {name}" if name == "Id" else f"its {name} list"
                excerpt = row_excerpt(row)
                raise ProtocolError(
                    f"Litmos sent a {shape.record}{where} without {what} (row {index}): {excerpt}"
                )


def _text(value: Value) -> str:
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return str(value).strip()


def row_excerpt(row: Mapping[str, Value]) -> str:
    """A short, readable view of a row for an error message (a few fields, never whole bodies)."""
    fields = ", ".join(f"{k}={str(v)[:40]!r}" for k, v in list(row.items())[:4] if k != "Id")
    return f"{{{fields}}}"
