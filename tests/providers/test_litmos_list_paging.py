"""The Litmos provider pages every list it reads with `limit`/`start` until an empty page, as the recorded
client does, `/users/{id}/courses`, `/users/{id}/learningpaths` and `/learningpaths` included.

Pages here are 2 rows (`PAGE_LIMIT` lowered), so four rows take three calls, the last one answered `[]`.
"""

from __future__ import annotations

import pytest

from reconciler.core.model import ItemKind
from reconciler.providers.litmos import api as litmos_api
from reconciler.providers.litmos.write import read_back
from tests.support.litmos_provider import Sandbox, by_login, sandbox

TITLES = ["C1", "C2", "C3", "C4"]
ENROLLMENTS = [f"{{user: ann@acme.example, course: {t}}}" for t in TITLES] + [
    f"{{user: ann@acme.example, learning_path: P{t}}}" for t in TITLES
]
ORG = f"""
departments: [{{name: Acme}}]
users: [{{login: ann@acme.example, department: Acme}}]
courses: [{", ".join(f"{{title: {t}}}" for t in TITLES)}]
learning_paths: [{", ".join(f"{{title: P{t}, courses: [{t}]}}" for t in TITLES)}]
enrollments: [{", ".join(ENROLLMENTS)}]
"""


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setattr(litmos_api, "PAGE_LIMIT", 2)
    return sandbox(ORG)


def pages_read(box: Sandbox, path: str) -> list[tuple[str, str]]:
    """(limit, start) of every call the provider made to `path` (below /v1.svc)."""
    calls = [r.url for r in box.recorder.requests if r.url.path == f"/v1.svc{path}"]
    return [(url.params["limit"], url.params["start"]) for url in calls]


def test_learning_paths_are_paged_to_an_empty_page(box: Sandbox) -> None:
    directory = box.directory()
    paths = sorted(i.title for i in directory.items if i.kind is ItemKind.LEARNING_PATH)
    assert paths == [f"P{t}" for t in TITLES]
    assert pages_read(box, "/learningpaths") == [("2", "0"), ("2", "2"), ("2", "4")]


def test_a_users_learning_paths_are_paged_to_an_empty_page(box: Sandbox) -> None:
    ann = by_login(box.directory())["ann@acme.example"]
    found = read_back(box.provider.api, ann, ItemKind.LEARNING_PATH)
    assert len(found) == len(TITLES)
    assert pages_read(box, f"/users/{ann}/learningpaths") == [("2", "0"), ("2", "2"), ("2", "4")]


def test_a_users_courses_are_paged_to_an_empty_page(box: Sandbox) -> None:
    ann = by_login(box.directory())["ann@acme.example"]
    found = read_back(box.provider.api, ann, ItemKind.COURSE)
    # the list holds learning paths too (IsLearningPath): 8 rows, so 4 full pages and an empty one
    assert len(found) == 2 * len(TITLES)
    starts = [start for _, start in pages_read(box, f"/users/{ann}/courses")]
    assert starts == ["0", "2", "4", "6", "8"]
