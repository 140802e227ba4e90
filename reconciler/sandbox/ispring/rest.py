"""The iSpring Learn REST v3 emulator: the spec's paths (`ispring-rest-openapi.yaml`) over the same store.

Each REST call is answered by the SOAP method handler that has the same meaning (so scope, paging, terms
and faults behave identically through both APIs): the query or JSON body becomes the handler's parameters,
and the handler's records become the spec's JSON objects. Faults become `ErrorResponse {code, message}`
with 401 (authorization), 403 (permission) or 400 (anything else), the statuses the spec lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from lxml import etree

from reconciler.sandbox.ispring import reads, rest_reenroll, writes
from reconciler.sandbox.ispring.context import Context
from reconciler.sandbox.ispring.results import list_learners_results
from reconciler.sandbox.ispring.soap import (
    AUTHORIZATION_FAILED,
    ENVELOPE_NS,
    PERMISSION_DENIED,
    SOAP_NS,
    WRONG_PARAMETERS,
    SoapCall,
    SoapFault,
    local,
)
from reconciler.sandbox.store.ids import ispring_uuid

JsonObject = dict[str, Any]
Convert = Callable[[dict[str, Any]], JsonObject]
INHERIT = {"subordinationType": "inherit"}
EPOCH = "2020-01-01T00:00:00+00:00"  # for required dates the store does not keep
# any one segment: the spec's `enrollmentId` is a plain string, so a malformed id is a 400, never a 404
ENROLLMENT_PATH = re.compile(r"^/enrollment/(?P<id>[^/]+)$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Listing:
    """A paged GET: the SOAP handler behind it, its record element and the spec's list key."""

    handler: Callable[[Context], bytes]
    record: str
    key: str
    convert: Convert
    pages_itself: bool = True  # else the SOAP method answers everything and REST pages it here


@dataclass(frozen=True)
class RestAnswer:
    """What the app sends back."""

    status: int
    body: bytes
    action: str
    content_type: str = "application/json"
    detail: str = ""  # for the request log only, never sent


def _department(r: dict[str, Any]) -> JsonObject:
    out: JsonObject = {k: r[k] for k in ("departmentId", "name", "parentDepartmentId", "code") if k in r}
    return {**out, "subordination": INHERIT, "coSubordination": INHERIT}


def _group(r: dict[str, Any]) -> JsonObject:
    return {"groupId": r["groupId"], "name": r.get("name", ""), "isSmart": False}


def _user(r: dict[str, Any]) -> JsonObject:
    pairs = {str(f.get("name", "")).lower(): f.get("value", "") for f in r.get("fields", {}).get("field", [])}
    roles = r.get("userRoles", {}).get("userRole", [])
    user = {
        "userId": r["userId"],
        "role": r.get("role", "learner"),
        "roleId": ispring_uuid("role", r.get("role", "learner")),
        "status": int(r["status"]),
        "fields": {"login": pairs.pop("login", ""), "email": pairs.pop("email", ""), **pairs},
        "addedDate": r.get("addedDate", EPOCH),
        "lastLoginDate": r.get("addedDate", EPOCH),
        "userRoles": [
            {"roleId": x["roleId"], "manageableDepartmentIds": _ids(x.get("manageableDepartmentIds"))}
            for x in roles
        ],
        "groups": _ids(r.get("groups")),
        "manageableDepartmentIds": _ids(r.get("manageableDepartmentIds")),
        "subordination": INHERIT,
        "coSubordination": INHERIT,
    }
    if "departmentId" in r:
        user["departmentId"] = r["departmentId"]
    return user


def _content(r: dict[str, Any]) -> JsonObject:
    return {
        "contentItemId": r["contentItemId"],
        "title": r.get("title", ""),
        "subtitle": "",
        "description": "",
        "userId": ispring_uuid("user", "sandbox-author"),
        "addedDate": r.get("addedDate", EPOCH),
        "viewUrl": r.get("viewUrl", ""),
        "type": r.get("type", ""),
        "contentItemType": r.get("contentItemType", ""),
        # required by the spec, which does not define it; inferred value
        "viewType": "player",
    }


def _typed(
    r: dict[str, Any], *, bools: Iterable[str] = (), ints: Iterable[str] = (), floats: Iterable[str] = ()
) -> JsonObject:
    out: JsonObject = dict(r)
    for name in bools:
        if name in out:
            out[name] = out[name] == "true"
    for name in ints:
        if name in out:
            out[name] = int(out[name])
    for name in floats:
        if name in out:
            out[name] = float(out[name])
    return out


def _enrollment(r: dict[str, Any]) -> JsonObject:
    return _typed(r, bools=("shouldLockAfterDueDate",), ints=("enrollmentTypeGroup",))


def _result(r: dict[str, Any]) -> JsonObject:
    return _typed(
        r,
        bools=("isOverdue",),
        ints=("timeSpent", "viewsCount", "duration"),
        floats=("progress", "awardedScore", "passingScore"),
    )


LISTINGS: dict[str, Listing] = {
    # GetUsers streams (the SOAP call is unpaged); REST pages what it joins
    "/users": Listing(
        lambda ctx: b"".join(reads.list_users(ctx)), "userProfile", "userProfiles", _user, False
    ),
    "/departments": Listing(reads.get_departments, "department", "departments", _department, False),
    "/groups": Listing(reads.get_groups, "group", "groups", _group, False),
    "/contents": Listing(reads.list_content, "contentItem", "contentItems", _content),
    "/enrollments": Listing(reads.list_enrollments, "enrollment", "enrollments", _enrollment),
    "/learners/results": Listing(list_learners_results, "learnerResult", "results", _result),
}
OPERATIONS = {
    "/users": "ListUsers",
    "/departments": "ListDepartments",
    "/groups": "ListGroups",
    "/contents": "ListContent",
    "/enrollments": "ListEnrollments",
    "/learners/results": "ListLearnerResults",
}
# REST query names → the SOAP parameter the handler reads
QUERY_NAMES = {"departments": "departmentIds", "groups": "groupIds", "learnerIds": "learnerIds"}


def operation(path: str) -> str:
    """The spec's operation name for a REST path (`ListUsers`), as the request log and fault switches use."""
    return OPERATIONS.get(path) or _write_action(path)


def is_rest_path(path: str) -> bool:
    """Whether the REST emulator answers `path`."""
    return (
        path in LISTINGS
        or path in ("/enrollment", "/enrollment/delete")
        or bool(ENROLLMENT_PATH.match(path))
        or rest_reenroll.matches(path)
    )


def allowed(path: str) -> str:
    """The `Allow` header of a 405 on a REST path (RFC 9110): the one method the spec gives it."""
    return "GET" if path in LISTINGS else "POST"


def answer(
    method: str, path: str, query: str, body: bytes, context: Callable[[SoapCall], Context]
) -> RestAnswer:
    """Answer one REST call; `context` authorizes the caller and gives the handler's context."""
    action = operation(path)
    if method != allowed(path):
        return RestAnswer(405, _error(405, "Method Not Allowed"), action)
    try:
        try:
            if method == "GET":
                return _listing(LISTINGS[path], _query(query), context, action)
            return _write(path, _request_body(body), context, action)
        except SoapFault as fault:
            if fault.faultstring not in (AUTHORIZATION_FAILED, PERMISSION_DENIED):
                context(_call({}))  # the token before the parameters: without a valid one, 401 whatever
            raise
    except SoapFault as fault:
        status = {AUTHORIZATION_FAILED: 401, PERMISSION_DENIED: 403}.get(fault.faultstring, 400)
        detail = f"fault {fault.faultstring}" + (f": {fault.detail}" if fault.detail else "")
        return RestAnswer(status, _error(status, fault.faultstring), action, detail=detail)


def _write_action(path: str) -> str:
    if rest_reenroll.matches(path):
        return rest_reenroll.OPERATION
    if path == "/enrollment":
        return "EnrollLearnersInCourses"
    return "Unenroll" if path == "/enrollment/delete" else "ChangeEnrollment"


def _listing(
    listing: Listing, params: dict[str, list[str]], context: Callable[[SoapCall], Context], action: str
) -> RestAnswer:
    ctx = context(_call(params))
    start, size = 0, 0
    if not listing.pages_itself:  # the SOAP method answers everything: it must not see the page position
        start, size = ctx.page_start(listing.key), ctx.page_size()
        ctx = context(_call({k: v for k, v in params.items() if k not in ("pageToken", "pageSize")}))
    root = etree.fromstring(listing.handler(ctx))
    elements = list(root.iter(f"{{*}}{listing.record}"))  # any namespace, matched by lxml itself
    token = next((e.text for e in root.iter("{*}nextPageToken")), None)
    if not listing.pages_itself:
        token = ctx.next_token(listing.key, start + size) if start + size < len(elements) else None
        elements = elements[start : start + size]
    records = [_plain(e) for e in elements]
    page: JsonObject = {listing.key: [listing.convert(r) for r in records]}
    if token:
        page["nextPageToken"] = token
    return RestAnswer(200, json.dumps(page).encode(), action)


def _write(path: str, body: JsonObject, context: Callable[[SoapCall], Context], action: str) -> RestAnswer:
    if rest_reenroll.matches(path):  # POST /enrollment/{id}/reenroll → 200, no body
        rest_reenroll.reenroll(path, _params(body), _call, context)
        return RestAnswer(200, b"", action)
    if path == "/enrollment":
        writes.enroll_learners_in_courses(context(_call(_params(body))))
        return RestAnswer(201, b"", action)
    if path == "/enrollment/delete":
        ids = body.get("enrollmentIds")
        if not isinstance(ids, list):  # an empty list is allowed by the spec: nothing to remove, 204
            raise SoapFault(WRONG_PARAMETERS, "enrollmentIds is required")
        if not all(UUID.match(str(i)) for i in ids):  # the spec's items are uuids: anything else is a 400
            raise SoapFault(WRONG_PARAMETERS, "enrollmentIds holds a value that is not an enrollment id")
        ctx = context(_call({}))
        writes.unenroll_many(ctx, [str(i) for i in ids])
        return RestAnswer(204, b"", action)
    match = ENROLLMENT_PATH.match(path)
    if match is None or not UUID.match(match["id"]):
        raise SoapFault(WRONG_PARAMETERS, "enrollmentId is not an enrollment id")
    params = {**_params(body), "enrollmentId": [match["id"]]}
    writes.change_enrollment(context(_call(params)))
    return RestAnswer(200, b"", action)


def _params(body: JsonObject) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in body.items():
        if isinstance(value, list):
            params[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            params[name] = ["true" if value else "false"]
        elif value is not None:
            params[name] = [str(value)]
    return params


def _query(query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, found in parse_qs(query, keep_blank_values=False).items():
        key = name.removesuffix("[]")
        params.setdefault(QUERY_NAMES.get(key, key), []).extend(found)
    return params


LIST_PARAMETERS = {
    "courseIds",
    "learnerIds",
    "userIds",
    "enrollmentIds",
    "departmentIds",
    "groupIds",
    "userStatuses",
    "completionStatuses",
    "contentItemIds",
    "contentTypes",
    "logins",
    "emails",
}


_NAME = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<key>[A-Za-z_][A-Za-z0-9_]*)\])?$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _call(params: Mapping[str, list[str]]) -> SoapCall:
    """The SOAP request a handler would get for these parameters; `name[key]` (the spec's deepObject date
    ranges) becomes `<name><key>`. A name or value XML cannot carry is a 400, never a server error."""
    body = etree.Element(f"{{{ENVELOPE_NS}}}Body")
    request = etree.SubElement(body, f"{{{SOAP_NS}}}RestRequest")
    for name, found in params.items():
        parsed = _NAME.match(name)
        if parsed is None or any(_NOT_XML.search(value) for value in found):
            raise SoapFault(WRONG_PARAMETERS, f"parameter {name[:40]!r} cannot be read")
        if parsed["key"]:
            parent = request.find(f"{{{SOAP_NS}}}{parsed['name']}")
            if parent is None:
                parent = etree.SubElement(request, f"{{{SOAP_NS}}}{parsed['name']}")
            etree.SubElement(parent, f"{{{SOAP_NS}}}{parsed['key']}").text = found[-1]
        elif name in LIST_PARAMETERS:
            node = etree.SubElement(request, f"{{{SOAP_NS}}}{name}")
            for value in found:
                etree.SubElement(node, f"{{{SOAP_NS}}}id").text = value
        else:
            etree.SubElement(request, f"{{{SOAP_NS}}}{name}").text = found[-1]
    return SoapCall(ENVELOPE_NS, SOAP_NS, "RestRequest", request, body, recovered=False)


def _plain(element: etree._Element) -> dict[str, Any]:
    """An XML record as a dict: leaf text as str, repeated children as lists under their name."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = local(child)
        value: Any = _plain(child) if len(child) else (child.text or "")
        if len(child) and name in ("groups", "manageableDepartmentIds"):
            value = [c.text or "" for c in child]
        if name in ("field", "userRole"):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _ids(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _request_body(body: bytes) -> JsonObject:
    """A write's body: JSON, or the XML form the spec documents beside it (`<request>`, lists of `<id>`)."""
    return _xml_body(body) if body.lstrip()[:1] == b"<" else _json_body(body)


_LIST_FIELDS = LIST_PARAMETERS | {"courseIds", "learnerIds", "enrollmentIds"}


def _xml_body(body: bytes) -> JsonObject:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)  # entities and network are disabled above
    except etree.XMLSyntaxError:
        raise SoapFault(WRONG_PARAMETERS, "the body is not well-formed XML") from None
    data: JsonObject = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        items = [item.text or "" for item in child if isinstance(item.tag, str)]
        data[local(child)] = items if items or local(child) in _LIST_FIELDS else (child.text or "")
    return data


def _json_body(body: bytes) -> JsonObject:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise SoapFault(WRONG_PARAMETERS, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise SoapFault(WRONG_PARAMETERS, "the body is not a JSON object")
    return data


def _error(status: int, message: str) -> bytes:
    return json.dumps({"code": status, "message": message}).encode()
