"""Every list read on both vendors refuses an answer of the wrong shape, naming the call (issue 17, item 3).

The emulator answers; `BodyRewriter` then turns its answer into the wrong shape: a JSON object where an
array belongs, a renamed id field, a renamed XML record element, an unknown wrapper. Each must end the read
with a `ProtocolError` naming the call, what was expected and what was seen; none may read as a directory,
an empty list or a partial one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from reconciler.core.model import ItemKind, ProviderConfig, ProviderKind
from reconciler.errors import ProtocolError
from reconciler.providers.base import Credentials
from reconciler.providers.litmos.provider import LitmosProvider, create
from reconciler.providers.litmos.read import ReadStrategy
from reconciler.providers.litmos.write import read_back
from reconciler.sandbox.litmos.app import make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store.database import Store
from tests.providers.test_ispring_provider import ACME, provider
from tests.support.litmos_provider import BASE_URL, KEY, ORG, Recorder
from tests.support.rewrite import BodyRewriter, Rewrite, first_object, rename_element, rename_key

# --- Litmos --------------------------------------------------------------------------------------------


def _ask_for_xml(request: httpx.Request) -> httpx.Request:
    params = [(k, v) for k, v in request.url.params.multi_items() if k != "format"]
    headers = {k: v for k, v in request.headers.items() if k.lower() != "accept"}
    return httpx.Request(
        request.method, request.url.copy_with(params=params), headers=headers, content=request.content
    )


def litmos(call: str, rewrite: Rewrite, *, xml: bool = False) -> tuple[LitmosProvider, BodyRewriter]:
    store = Store.open(":memory:")
    seed_store(store, parse_org(ORG))
    rewriter = BodyRewriter(make_litmos_app(store, rate_limit=RateLimit(requests_per_minute=100_000)))
    rewriter.rules.append((call, rewrite))
    client = httpx.Client(transport=Recorder(rewriter, _ask_for_xml if xml else None), base_url=BASE_URL)
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS, requests_per_minute=None)
    return create(config, client, Credentials(api_key=KEY), sleep=lambda _: None), rewriter


def _directory(p: LitmosProvider) -> None:
    p.read_directory()


def _enrollments(strategy: ReadStrategy) -> Callable[[LitmosProvider], None]:
    def read(p: LitmosProvider) -> None:
        directory = p.read_directory()
        p.strategy = strategy
        p.read_enrollments(directory, frozenset(i.id for i in directory.items))

    return read


def _read_back(kind: ItemKind) -> Callable[[LitmosProvider], None]:
    def read(p: LitmosProvider) -> None:
        helen = next(u.id for u in p.read_directory().users if u.login == "helen@acme.example")
        read_back(p.api, helen, kind)

    return read


# (the call as the error names it, the glob of the served call, its record element, how to make the read)
LITMOS_READS = [
    ("GET /users", "GET /users", "User", _directory),
    ("GET /teams", "GET /teams", "Team", _directory),
    ("GET /teams/{id}/users", "GET /teams/*/users", "User", _directory),
    ("GET /courses", "GET /courses", "Course", _directory),
    ("GET /learningpaths", "GET /learningpaths", "LearningPath", _directory),
    ("POST /users/courses", "POST /users/courses", "User", _enrollments(ReadStrategy.BULK)),
    ("GET /courses/{id}/users", "GET /courses/*/users", "User", _enrollments(ReadStrategy.ROSTERS)),
    (
        "GET /learningpaths/{id}/users",
        "GET /learningpaths/*/users",
        "User",
        _enrollments(ReadStrategy.ROSTERS),
    ),
    ("GET /users/{id}/courses", "GET /users/*/courses", "Course", _read_back(ItemKind.COURSE)),
    (
        "GET /users/{id}/learningpaths",
        "GET /users/*/learningpaths",
        "LearningPath",
        _read_back(ItemKind.LEARNING_PATH),
    ),
]
IDS = [r[0] for r in LITMOS_READS]


def _refused(read: Callable[[LitmosProvider], None], p: LitmosProvider, rewriter: BodyRewriter) -> str:
    with pytest.raises(ProtocolError) as caught:
        read(p)
    assert rewriter.rewritten, "the misshapen answer was never served"
    return str(caught.value)


@pytest.mark.parametrize(("call", "glob", "record", "read"), LITMOS_READS, ids=IDS)
def test_litmos_object_for_a_list_is_refused_naming_the_call(
    call: str, glob: str, record: str, read: Callable[[LitmosProvider], None]
) -> None:
    p, rewriter = litmos(glob, first_object)
    message = _refused(read, p, rewriter)
    assert f"academy {call}: expected a list of {record}" in message
    assert "got a JSON object with keys Id" in message


@pytest.mark.parametrize(("call", "glob", "record", "read"), LITMOS_READS, ids=IDS)
def test_litmos_rows_with_a_renamed_id_are_refused_naming_the_call(
    call: str, glob: str, record: str, read: Callable[[LitmosProvider], None]
) -> None:
    p, rewriter = litmos(glob, rename_key("Id", "ID"))
    message = _refused(read, p, rewriter)
    assert f"academy {call}: Litmos sent a {record}" in message and "without an Id" in message


@pytest.mark.parametrize(("call", "glob", "record", "read"), LITMOS_READS, ids=IDS)
def test_litmos_renamed_xml_record_elements_are_refused_naming_the_call(
    call: str, glob: str, record: str, read: Callable[[LitmosProvider], None]
) -> None:
    p, rewriter = litmos(glob, rename_element(record, "Renamed"), xml=True)
    message = _refused(read, p, rewriter)
    assert f"academy {call}: expected a list of {record}" in message and "<Renamed>" in message


def test_litmos_bulk_courses_of_the_wrong_shape_are_refused() -> None:
    p, rewriter = litmos(
        "POST /users/courses", lambda b: re.sub(rb'"Courses":\[[^\]]*\]', b'"Courses":{}', b)
    )
    message = _refused(_enrollments(ReadStrategy.BULK), p, rewriter)
    assert "academy POST /users/courses: Litmos sent a User without its Courses list" in message


def test_litmos_an_empty_body_for_a_list_is_refused() -> None:
    p, rewriter = litmos("GET /courses", lambda _: b"")
    assert "GET /courses: expected a list of Course" in _refused(_directory, p, rewriter)


# --- iSpring -------------------------------------------------------------------------------------------


def _wrap_result(method: str) -> Rewrite:
    """The result's content put into an unknown `<list>` wrapper."""
    opening = re.compile(rb"(<(?:\w+:)?" + method.encode() + rb"Result>)")
    closing = re.compile(rb"(</(?:\w+:)?" + method.encode() + rb"Result>)")
    return lambda body: closing.sub(rb"</list>\1", opening.sub(rb"\1<list>", body))


ISPRING_READS = [
    # (method, record, how the answer is misshapen)
    ("GetUsers", "userProfile", rename_element("userProfile", "user")),
    ("GetUsers", "userProfile", _wrap_result("GetUsers")),
    ("GetDepartments", "department", rename_element("department", "dept")),
    ("GetDepartments", "department", _wrap_result("GetDepartments")),
    ("GetGroups", "group", rename_element("group", "team")),
    ("GetGroups", "group", _wrap_result("GetGroups")),
    ("ListContent", "contentItem", rename_element("contentItem", "item")),
    ("ListContent", "contentItem", rename_element("contentItems", "items")),
    ("ListEnrollments", "enrollment", rename_element("enrollment", "enrolment")),
    ("ListEnrollments", "enrollment", rename_element("enrollments", "enrollmentList")),
    ("ListLearnersResults", "learnerResult", rename_element("learnerResult", "result")),
    ("ListLearnersResults", "learnerResult", rename_element("learnersResults", "results")),
]


@pytest.mark.parametrize(
    ("method", "record", "rewrite"),
    ISPRING_READS,
    ids=[f"{m}-{'renamed' if i % 2 == 0 else 'wrapped'}" for i, (m, _, _) in enumerate(ISPRING_READS)],
)
def test_ispring_renamed_or_rewrapped_records_are_refused_naming_the_call(
    method: str, record: str, rewrite: Rewrite
) -> None:
    store = Store.open(":memory:")
    seed_store(store, ACME)
    rewriter = BodyRewriter(build_app("ispring", store, None, None))
    rewriter.rules.append((method, rewrite))
    client = httpx.Client(
        transport=httpx.WSGITransport(app=rewriter), base_url="http://sandbox.ispring.invalid/"
    )
    p = provider(client)
    with pytest.raises(ProtocolError) as caught:
        directory = p.read_directory()
        p.read_enrollments(directory, frozenset(i.id for i in directory.items))
    assert rewriter.rewritten == [method], "the misshapen answer was served once, and the read stopped there"
    message = str(caught.value)
    assert f"lms {method}: expected <{record}> records" in message and "got <" in message
