"""The Litmos provider writing to the Litmos emulator: batching, read-back, throttling and faults."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from reconciler.apply.run import ApplyIncomplete
from reconciler.apply.run import run as apply_run
from reconciler.core.model import ItemKind, ProviderKind, Terms
from reconciler.core.plan import Action, ActionKind, OutcomeStatus, Plan, ProviderPlan
from reconciler.providers.litmos.read import ReadStrategy
from reconciler.sandbox.faults import Burst, Faults
from tests.support.litmos_provider import (
    FakeClock,
    Sandbox,
    add,
    by_login,
    by_title,
    generated_org,
    remove,
    sandbox,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

# --- writes --------------------------------------------------------------------------------------------


def test_adds_are_one_call_per_user_kind_and_notify_setting() -> None:
    box = sandbox()
    actions = [
        add("u1", "c1"),
        add("u1", "c2"),
        add("u1", "c3", notify=False),
        add("u1", "lp1", ItemKind.LEARNING_PATH),
        add("u2", "c1"),
        remove("u1", "c9"),
        remove("u1", "c8"),
        Action(ActionKind.UPDATE, "u2", "u2", "c2", ItemKind.COURSE, "c2"),
    ]
    batches = box.provider.batches(actions)
    shapes = [(b.kind, [a.item_id for a in b.actions], b.calls) for b in batches]
    assert shapes == [
        (ActionKind.ADD, ["c1", "c2"], 1),
        (ActionKind.ADD, ["c3"], 1),
        (ActionKind.ADD, ["lp1"], 1),
        (ActionKind.ADD, ["c1"], 1),
        (ActionKind.REMOVE, ["c9"], 1),
        (ActionKind.REMOVE, ["c8"], 1),
        (ActionKind.UPDATE, ["c2"], 0),
    ]
    box.provider.verify_adds = True  # a read-back after each assign call
    assert [b.calls for b in box.provider.batches(actions)] == [2, 2, 2, 2, 1, 1, 0]


def test_a_user_with_very_many_new_items_gets_several_assign_calls() -> None:
    box = sandbox()
    batches = box.provider.batches([add("u1", f"c{n}") for n in range(150)])
    assert [len(b.actions) for b in batches] == [100, 50]


def test_by_default_an_assign_is_one_call_and_reported_done() -> None:
    box = sandbox()
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    box.recorder.requests.clear()
    [batch] = box.provider.batches([add(ann, course)])
    assert [o.status for o in box.provider.write(batch)] == [OutcomeStatus.DONE]
    assert [r.method for r in box.recorder.requests] == ["POST"]


def test_enroll_and_remove_round_trip_including_learning_paths() -> None:
    box = sandbox()
    directory = box.directory()
    users, items = by_login(directory), by_title(directory)
    kevin = users["kevin@acme.example"]
    wanted = [
        add(kevin, items["Security Awareness 2026"], notify=False),
        add(kevin, items["Anti-Bribery"], notify=False),
        add(kevin, items["Onboarding"], ItemKind.LEARNING_PATH, notify=False),
    ]
    notes_before = len(box.store.notifications())
    outcomes = [o for b in box.provider.batches(wanted) for o in box.provider.write(b)]
    assert [o.status for o in outcomes] == [OutcomeStatus.DONE] * 3
    assert len(box.store.notifications()) == notes_before  # sendmessage=false: no e-mail
    posts = [r for r in box.recorder.requests if r.method == "POST"]
    assert len(posts) == 2 and all(r.url.params["sendmessage"] == "false" for r in posts)

    managed = frozenset(items.values())
    held = {e.item_id for e in box.provider.read_enrollments(directory, managed, frozenset({kevin}))}
    assert held == set(items.values())

    gone = [remove(kevin, items["Anti-Bribery"]), remove(kevin, items["Onboarding"], ItemKind.LEARNING_PATH)]
    outcomes = [o for b in box.provider.batches(gone) for o in box.provider.write(b)]
    assert [o.status for o in outcomes] == [OutcomeStatus.DONE] * 2
    held = {e.item_id for e in box.provider.read_enrollments(directory, managed, frozenset({kevin}))}
    assert held == {items["Security Awareness 2026"]}


def test_notified_adds_send_no_sendmessage_switch() -> None:
    box = sandbox()
    directory = box.directory()
    ann = by_login(directory)["ann@acme.example"]
    batch = box.provider.batches([add(ann, by_title(directory)["Anti-Bribery"])])[0]
    assert box.provider.write(batch)[0].status is OutcomeStatus.DONE
    [post] = [r for r in box.recorder.requests if r.method == "POST"]
    assert "sendmessage" not in post.url.params


def test_with_verification_ids_silently_dropped_by_litmos_are_reported_failed() -> None:
    box = sandbox()
    box.provider.verify_adds = True
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    batch = box.provider.batches([add(ann, course), add(ann, "NoSuchCourse1")])[0]
    done, dropped = box.provider.write(batch)
    assert done.status is OutcomeStatus.DONE
    assert dropped.status is OutcomeStatus.FAILED
    assert "does not have" in dropped.detail and "unknown or inactive course id" in dropped.detail


def test_removing_what_is_not_assigned_does_not_fail() -> None:
    box = sandbox()
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    [outcome] = box.provider.write(box.provider.batches([remove(ann, course)])[0])
    assert outcome.status in (OutcomeStatus.DONE, OutcomeStatus.ALREADY)


def test_updates_are_refused_with_the_vendor_limit() -> None:
    box = sandbox()
    update = Action(ActionKind.UPDATE, "u1", "u1", "c1", ItemKind.COURSE, "c1", changes=("due",))
    [outcome] = box.provider.write(box.provider.batches([update])[0])
    assert outcome.status is OutcomeStatus.FAILED
    assert "cannot change the terms" in outcome.detail
    assert not box.recorder.requests


def test_capabilities_say_what_litmos_cannot_do() -> None:
    caps = sandbox().provider.capabilities
    assert not (caps.due_dates or caps.due_periods or caps.lock_after_due or caps.access_dates)
    assert not caps.update_terms and caps.remove and caps.notify_switch
    assert caps.read_batch_users == 25 and caps.enroll_batch_users == 1 and caps.enroll_batch_items > 1
    assert caps.requests_per_minute == 100_000  # from config; 100 when the config says nothing


# --- throttling ----------------------------------------------------------------------------------------


def throttled_apply(client_limit: int) -> tuple[Sandbox, FakeClock, list[OutcomeStatus]]:
    clock = FakeClock()
    box = sandbox(generated_org(146), clock=clock, emulator_limit=100, client_limit=client_limit)
    box.provider.verify_adds = True  # 150 users: 150 posts + 150 read-backs
    directory = box.provider.read_directory()
    course = by_title(directory)["Security Awareness 2026"]
    actions = [add(u.id, course, notify=False) for u in directory.users]
    box.recorder.requests.clear()
    statuses = [o.status for b in box.provider.batches(actions) for o in box.provider.write(b)]
    return box, clock, statuses


def test_a_300_call_apply_under_a_100_per_minute_limit_fails_no_call() -> None:
    box, clock, statuses = throttled_apply(client_limit=100)
    assert len(box.recorder.requests) == 300
    assert statuses == [OutcomeStatus.DONE] * 150
    assert all(entry.status < 400 for entry in box.store.request_log())  # the limiter kept under the limit
    assert clock.now >= 120  # 300 calls at 100 a minute take at least two minutes (of fake time)


def test_a_client_faster_than_the_server_is_throttled_and_retries_after_the_wait() -> None:
    box, _, statuses = throttled_apply(client_limit=1000)
    assert statuses == [OutcomeStatus.DONE] * 150
    refused = [e for e in box.store.request_log() if e.status == 503]
    assert refused  # the emulator said 503 with Retry-After, and every refused call was sent again
    assert len(box.recorder.requests) == 300 + len(refused)


# --- faults --------------------------------------------------------------------------------------------


def test_an_assign_answered_with_500_is_unknown_and_never_sent_twice() -> None:
    box = sandbox(faults=Faults(error_rates={"POST /users/*/courses": 1.0}))
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    box.recorder.requests.clear()
    [outcome] = box.provider.write(box.provider.batches([add(ann, course)])[0])
    assert outcome.status is OutcomeStatus.UNKNOWN  # apply settles it with its confirmation read
    assert [r.method for r in box.recorder.requests] == ["POST"]
    box.provider.verify_adds = True
    box.recorder.requests.clear()
    [outcome] = box.provider.write(box.provider.batches([add(ann, course)])[0])
    assert outcome.status is OutcomeStatus.FAILED
    assert "reading back shows it was not made" in outcome.detail
    assert [r.method for r in box.recorder.requests] == ["POST", "GET"]


def test_bursts_of_503_with_retry_after_are_waited_out() -> None:
    clock = FakeClock()
    box = sandbox(
        generated_org(30), clock=clock, faults=Faults(burst=Burst(every=4, length=1, retry_after=7))
    )
    directory = box.directory()
    assert len(directory.users) == 34
    refused = [e for e in box.store.request_log() if e.status == 503]
    assert refused and clock.slept.count(7) == len(refused)


def test_a_long_read_reports_progress_at_most_every_ten_seconds() -> None:
    clock = FakeClock()
    box = sandbox(generated_org(96), clock=clock)
    directory = box.directory()
    box.provider.strategy = ReadStrategy.BULK
    box.provider.api.clock = clock.ticking(6)
    steps: list[tuple[str, int, int, float]] = []
    box.provider.api.progress = lambda *step: steps.append(step)
    box.provider.read_enrollments(directory, frozenset(i.id for i in directory.items))
    assert steps
    assert {(label, total) for label, _, total, _ in steps} == {("academy: users' enrollments read", 100)}
    assert ("academy: users' enrollments read", 50, 100) in [s[:3] for s in steps]
    elapsed = [s[3] for s in steps]
    assert all(later - earlier >= 10 for earlier, later in itertools.pairwise(elapsed))


def test_an_assignment_litmos_silently_ignores_ends_failed_in_apply_without_read_backs(
    tmp_path: Path,
) -> None:
    def ignore_anti_bribery(request: httpx.Request) -> httpx.Request:
        # Litmos answers 201 and assigns nothing for an id it ignores: drop that id from the body on the way
        if request.method != "POST" or request.url.path.endswith("/users/courses"):
            return request
        kept = [row for row in json.loads(request.content) if row["Id"] != anti_bribery]
        return httpx.Request("POST", request.url, headers=request.headers, json=kept)

    box = sandbox(rewrite=ignore_anti_bribery)
    directory = box.directory()
    users, items = by_login(directory), by_title(directory)
    ann, kevin = users["ann@acme.example"], users["kevin@acme.example"]
    anti_bribery, security = items["Anti-Bribery"], items["Security Awareness 2026"]
    actions = tuple(replace(add(u, i), terms=Terms()) for u, i in ((ann, security), (kevin, anti_bribery)))
    part = ProviderPlan(box.provider.name, ProviderKind.LITMOS, box.provider.account, actions=actions)
    plan = Plan(created_at=NOW, manifest_digest="sha256:abc", providers=(part,))
    box.recorder.requests.clear()
    with pytest.raises(ApplyIncomplete) as failed:
        name = box.provider.name
        apply_run(plan, {name: box.provider}, tmp_path / "journal", now=NOW, directories={name: directory})
    statuses = {o.action.user_id: o.status for o in failed.value.result.outcomes}
    assert statuses == {ann: OutcomeStatus.DONE, kevin: OutcomeStatus.FAILED}
    calls = [f"{r.method} {r.url.path.removeprefix('/v1.svc')}" for r in box.recorder.requests]
    # staleness read, one assign call per user and no read-back, confirmation read (2 users: 1 bulk call);
    # the two assigns run concurrently (Litmos concurrency 4), so their order is not fixed
    assert (calls[0], calls[-1], len(calls)) == ("POST /users/courses", "POST /users/courses", 4)
    assert sorted(calls[1:3]) == sorted([f"POST /users/{ann}/courses", f"POST /users/{kevin}/courses"])
