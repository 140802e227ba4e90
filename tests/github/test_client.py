"""The sticky plan comment, the drift issue and the reviewed-plan lookup, against recorded GitHub answers."""

from __future__ import annotations

import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import AuthError, ConfigError, PermissionDenied, ProtocolError, UsageError
from reconciler.github.client import GitHub, repository
from reconciler.github.comment import COMMENT_LIMIT, drift_issue, fit_body, hidden_marker, upsert_comment
from tests.github.test_replay import TOKEN, Replay

REPO = "acme/training-policies"
PLAN_1 = "### enrollctl plan\n\nPlan: 53 to add, 9 to change, 1 to remove, 3 kept.\n"
PLAN_2 = "### enrollctl plan\n\nPlan: 54 to add, 9 to change, 1 to remove, 3 kept.\n"
DRIFT_TITLE = "enrollctl: the LMS differs from the manifests"


def replayed(name: str) -> tuple[Replay, GitHub]:
    replay = Replay(name)
    return replay, replay.github()


def test_first_push_creates_the_plan_comment() -> None:
    replay, github = replayed("comment_first_push.json")
    written = upsert_comment(github, REPO, 42, PLAN_1, marker="enrollctl-plan: .")
    replay.assert_done()
    assert written.action == "created"
    assert written.url.endswith("#issuecomment-2496123456")


def test_second_push_updates_the_same_comment_instead_of_adding_one() -> None:
    first, github = replayed("comment_first_push.json")
    created = upsert_comment(github, REPO, 42, PLAN_1, marker="enrollctl-plan: .")
    second, github = replayed("comment_second_push.json")
    updated = upsert_comment(github, REPO, 42, PLAN_2, marker="enrollctl-plan: .")
    first.assert_done()
    second.assert_done()
    assert updated.action == "updated"
    assert updated.url == created.url
    assert [r.method for r in second.seen] == ["GET", "PATCH"]  # no POST: no second comment


def test_the_marker_comment_is_found_on_the_second_page_whoever_wrote_it() -> None:
    replay, github = replayed("comment_marker_on_page_2.json")
    written = upsert_comment(github, REPO, 42, PLAN_2, marker="enrollctl-plan: .")
    replay.assert_done()
    assert written.action == "updated"


def test_an_unchanged_plan_writes_nothing() -> None:
    replay, github = replayed("comment_second_push.json")
    written = upsert_comment(github, REPO, 42, PLAN_1, marker="enrollctl-plan: .")
    assert written.action == "unchanged"
    assert [r.method for r in replay.seen] == ["GET"]


def test_a_refused_comment_says_which_permission_is_missing_without_the_token() -> None:
    _, github = replayed("comment_forbidden.json")
    with pytest.raises(PermissionDenied) as raised:
        upsert_comment(github, REPO, 42, PLAN_1, marker="enrollctl-plan: .")
    message = str(raised.value)
    assert "Resource not accessible by integration" in message
    assert "HTTP 403" in message
    assert "pull-requests: write" in message
    assert TOKEN not in message


def test_drift_opens_an_issue_when_none_is_open() -> None:
    replay, github = replayed("drift_create.json")
    body = "Nightly drift check: Plan: 2 to add, 0 to change, 0 to remove.\n"
    written = drift_issue(github, REPO, body, drifted=True, marker="enrollctl-drift", title=DRIFT_TITLE)
    replay.assert_done()
    assert (written.action, written.number) == ("created", 51)


def test_drift_updates_the_open_issue_instead_of_opening_another() -> None:
    replay, github = replayed("drift_update.json")
    body = "Nightly drift check: Plan: 3 to add, 1 to change, 0 to remove.\n"
    written = drift_issue(github, REPO, body, drifted=True, marker="enrollctl-drift", title=DRIFT_TITLE)
    replay.assert_done()
    assert (written.action, written.number) == ("updated", 51)


def test_drift_gone_closes_the_issue_with_a_last_comment() -> None:
    replay, github = replayed("drift_resolve.json")
    body = "Nightly drift check: no changes. The LMS matches the manifests.\n"
    written = drift_issue(github, REPO, body, drifted=False, marker="enrollctl-drift", title=DRIFT_TITLE)
    replay.assert_done()
    assert (written.action, written.number) == ("closed", 51)


def test_no_drift_and_no_issue_writes_nothing() -> None:
    replay, github = replayed("drift_nothing_to_resolve.json")
    written = drift_issue(github, REPO, "clean\n", drifted=False, marker="enrollctl-drift", title=DRIFT_TITLE)
    replay.assert_done()
    assert written.action == "unchanged"


def test_the_reviewed_plan_is_the_last_successful_run_on_the_merged_head() -> None:
    replay, github = replayed("reviewed_plan.json")
    found = github.reviewed_plan_run(
        REPO, "9f3c1d2e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "plan-on-pull-request.yml"
    )
    replay.assert_done()
    assert found == (42, 11998877665)


def test_a_direct_push_has_no_reviewed_plan() -> None:
    replay, github = replayed("reviewed_plan_direct_push.json")
    found = github.reviewed_plan_run(
        REPO, "9f3c1d2e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "plan-on-pull-request.yml"
    )
    replay.assert_done()
    assert found == (None, None)


def test_a_next_page_link_to_another_host_is_not_followed() -> None:
    sent: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        link = '<https://attacker.example/page2>; rel="next"'
        return httpx.Response(200, json=[], headers={"Link": link})

    client = httpx.Client(base_url="https://api.github.com", transport=httpx.MockTransport(answer))
    github = GitHub(client, TOKEN, sleep=lambda _s: None)
    with pytest.raises(ProtocolError, match="another host"):
        upsert_comment(github, REPO, 42, PLAN_1, marker="enrollctl-plan")
    assert [u.host for u in sent] == ["api.github.com"]


def test_a_missing_token_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="GITHUB_TOKEN"):
        GitHub.from_env({})


def test_the_api_url_comes_from_the_environment_for_github_enterprise() -> None:
    sent: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        return httpx.Response(200, json=[])

    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": "https://ghe.acme.example/api/v3/"}
    github = GitHub.from_env(env, transport=httpx.MockTransport(answer))
    github.reviewed_plan_run(REPO, "9f3c1d2", "plan.yml")
    github.close()
    assert (
        str(sent[0]) == "https://ghe.acme.example/api/v3/repos/acme/training-policies/commits/9f3c1d2/pulls"
    )


@pytest.mark.parametrize("bad", ["acme", "acme/", "/x", "acme/x/y", "acme/..", "ac me/x"])
def test_repository_must_be_owner_slash_name(bad: str) -> None:
    with pytest.raises(UsageError):
        repository(bad)


@pytest.mark.parametrize("bad", ["a -- b", "x -->", "two\nlines"])
def test_a_marker_cannot_break_out_of_its_html_comment(bad: str) -> None:
    with pytest.raises(UsageError):
        hidden_marker(bad)


def test_a_huge_body_is_cut_at_a_line_with_its_fence_and_details_closed() -> None:
    body = "<details><summary>all</summary>\n\n```diff\n" + "+ someone@acme.example\n" * 10_000
    text = fit_body("<!-- m -->", body)
    assert len(text) < COMMENT_LIMIT
    assert text.startswith("<!-- m -->\n<details>")
    assert text.count("```") % 2 == 0
    assert text.count("<details>") == text.count("</details>")
    assert "truncated" in text.splitlines()[-1]


@given(st.text(min_size=0, max_size=3_000), st.integers(min_value=200, max_value=2_000))
def test_a_fitted_body_always_keeps_the_marker_and_stays_under_the_limit(body: str, limit: int) -> None:
    text = fit_body("<!-- m -->", body, limit=limit)
    assert text.startswith("<!-- m -->\n")
    assert len(text.encode("utf-16-le")) // 2 < limit


def test_debug_logs_never_contain_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    replay, github = replayed("comment_marker_on_page_2.json")
    github.vendor.log_bodies = True
    upsert_comment(github, REPO, 42, PLAN_2, marker="enrollctl-plan: .")
    replay.assert_done()
    assert "list comments" in caplog.text
    assert TOKEN not in caplog.text


def test_a_refused_token_is_an_auth_error_naming_the_variable_not_the_value() -> None:
    _, github = replayed("comment_bad_credentials.json")
    with pytest.raises(AuthError) as raised:
        upsert_comment(github, REPO, 42, PLAN_1, marker="enrollctl-plan: .")
    assert str(raised.value) == (
        "github list comments: Bad credentials (HTTP 401) (GITHUB_TOKEN was refused: expired or not a token)"
    )
