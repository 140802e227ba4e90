"""Writing to Litmos: assign a user's new items in one call, remove one assignment per call.

Litmos answers 201 to an assignment even when it ignores an id (unknown, inactive, already assigned). apply
confirms every write afterwards with bulk reads (25 users a call, or the item rosters), so by default an
assign call is just that one call, and an id Litmos dropped ends FAILED in apply's confirmation. With
`verify` on (callers writing without apply), each assign call is followed by reading the user's items back
and a dropped action is reported failed here, with the likely reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import httpx

from reconciler.core.model import ItemKind
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import ProviderError
from reconciler.providers.base import Outcome, WriteBatch
from reconciler.providers.litmos.api import LitmosApi, chunked, collection_of, segment
from reconciler.providers.litmos.body import COURSES, LEARNING_PATHS
from reconciler.providers.litmos.parse import as_text
from reconciler.transport.http import WriteOutcomeUnknown

# inferred: Litmos documents no limit on the courses of one assign call; keep bodies modest anyway
MAX_ITEMS_PER_ASSIGN = 100
UNSUPPORTED_UPDATE = (
    "Litmos cannot change the terms of an existing assignment (no per-assignment due or access dates); "
    "set due dates in the course settings in Litmos"
)

BatchKey = tuple[ActionKind, str, ItemKind, bool, str]


def _batch_key(action: Action) -> BatchKey:
    if action.kind is ActionKind.ADD:
        # notify and silent adds need separate calls: `sendmessage` applies to the whole call
        return (action.kind, action.user_id, action.item_kind, action.notify, "")
    # removals are one call each; updates are refused without a call
    return (action.kind, action.user_id, action.item_kind, True, action.item_id)


def plan_batches(actions: Sequence[Action], *, verify: bool = False) -> list[WriteBatch]:
    """Group actions into Litmos calls, in first-seen order; an add's `calls` include its read-back."""
    grouped: dict[BatchKey, list[Action]] = {}
    for action in actions:
        grouped.setdefault(_batch_key(action), []).append(action)
    batches: list[WriteBatch] = []
    for (kind, *_), group in grouped.items():
        if kind is ActionKind.ADD:
            calls = 2 if verify else 1
            batches.extend(WriteBatch(kind, tuple(c), calls) for c in chunked(group, MAX_ITEMS_PER_ASSIGN))
        else:
            one_call = kind in (ActionKind.REMOVE, ActionKind.REENROLL)
            batches.append(WriteBatch(kind, tuple(group), calls=1 if one_call else 0))
    return batches


def write_calls(actions: Sequence[Action], *, verify: bool = False) -> int:
    """The calls `plan_batches(actions, verify=verify)` costs, counted without making the batches; the
    actions are a plan's (no two with one id), so each removal and re-enrollment is a call of its own."""
    per_assign = 2 if verify else 1
    assigns: Counter[tuple[str, ItemKind, bool]] = Counter()
    singles = 0
    for action in actions:
        if action.kind is ActionKind.ADD:
            assigns[action.user_id, action.item_kind, action.notify] += 1
        elif action.kind is not ActionKind.UPDATE:  # updates are refused without a call
            singles += 1
    return singles + per_assign * sum(-(-size // MAX_ITEMS_PER_ASSIGN) for size in assigns.values())


def read_back(api: LitmosApi, user_id: str, kind: ItemKind) -> set[str]:
    """Ids of the items of `kind` assigned to a user now."""
    collection = collection_of(kind)
    shape = COURSES if kind is ItemKind.COURSE else LEARNING_PATHS
    path = f"/users/{segment(user_id)}/{collection}"
    rows = api.pages(path, call=f"GET /users/{{id}}/{collection}", shape=shape)
    return {as_text(r.get("Id")) for r in rows}


def write_batch(api: LitmosApi, batch: WriteBatch, *, verify: bool = False) -> list[Outcome]:
    """Perform one batch from `plan_batches`; one outcome per action. `verify`: read adds back."""
    if not batch.actions:
        return []
    if batch.kind is ActionKind.ADD:
        return _assign(api, batch.actions, verify=verify)
    if batch.kind is ActionKind.REMOVE:
        return [_remove(api, a) for a in batch.actions]
    if batch.kind is ActionKind.REENROLL:
        return [_reset(api, a) for a in batch.actions]
    return [Outcome(a.id, OutcomeStatus.FAILED, UNSUPPORTED_UPDATE) for a in batch.actions]


def _refusal(response: httpx.Response, api: LitmosApi) -> str:
    text = api.vendor_message(response)  # `Detail` of `{"Detail": …}`, redacted and short
    return f"Litmos refused it (HTTP {response.status_code}{': ' + text if text else ''})"


def _assign(api: LitmosApi, actions: tuple[Action, ...], *, verify: bool) -> list[Outcome]:
    first = actions[0]
    collection = collection_of(first.item_kind)
    call = f"POST /users/{{id}}/{collection}"
    params: dict[str, str | int] = {} if first.notify else {"sendmessage": "false"}
    body = [{"Id": a.item_id} for a in actions]
    try:
        response = api.send(
            "POST",
            f"/users/{segment(first.user_id)}/{collection}",
            call=call,
            params=params,
            body=body,
            idempotent=False,
        )
    except WriteOutcomeUnknown as lost:
        # a 5xx or a connection lost after sending: the assignment may or may not have been made
        if not verify:
            return [Outcome(a.id, OutcomeStatus.UNKNOWN, lost.message) for a in actions]
        return _settle(api, actions, lost=lost.message)
    # the shared client returns 5xx answers to writes only as WriteOutcomeUnknown
    if response.status_code >= 400:
        return [Outcome(a.id, OutcomeStatus.FAILED, _refusal(response, api)) for a in actions]
    if not verify:
        return [Outcome(a.id, OutcomeStatus.DONE) for a in actions]
    return _settle(api, actions)


def _settle(api: LitmosApi, actions: Sequence[Action], *, lost: str = "") -> list[Outcome]:
    """Outcomes of adds from a read-back: present is done; absent was dropped by Litmos, or never arrived."""
    first = actions[0]
    try:
        present = read_back(api, first.user_id, first.item_kind)
    except ProviderError as error:
        # only the effect of the assign call is unknown now: apply resolves it by reading back itself
        detail = f"{lost or 'assigned'}; reading back failed: {error}"
        return [Outcome(a.id, OutcomeStatus.UNKNOWN, detail) for a in actions]
    return [_settled(action, action.item_id in present, lost) for action in actions]


def _settled(action: Action, present: bool, lost: str) -> Outcome:
    if present:
        return Outcome(action.id, OutcomeStatus.DONE, "confirmed by reading back" if lost else "")
    if lost:
        detail = f"{lost}; reading back shows it was not made"
        return Outcome(action.id, OutcomeStatus.FAILED, detail, absent_after_loss=True)
    detail = (
        f"Litmos accepted the call but {action.user_login} does not have {action.item_title!r} "
        f"afterwards (unknown or inactive {action.item_kind.value} id?)"
    )
    return Outcome(action.id, OutcomeStatus.FAILED, detail)


def _remove(api: LitmosApi, action: Action) -> Outcome:
    """One `DELETE`; no read-back: Litmos does not silently ignore removals, and apply confirms anyway."""
    collection = collection_of(action.item_kind)
    call = f"DELETE /users/{{id}}/{collection}/{{id}}"
    path = f"/users/{segment(action.user_id)}/{collection}/{segment(action.item_id)}"
    # not re-sent blindly after a lost answer (even though DELETE is idempotent): the removal's outcome is
    # unknown then, and apply resolves it by reading back, so one removal is one write call
    try:
        response = api.send("DELETE", path, call=call, idempotent=False)
    except WriteOutcomeUnknown as lost:
        return Outcome(action.id, OutcomeStatus.UNKNOWN, lost.message)
    if response.status_code == 404:
        # inferred: Litmos answers 404 when the user does not have the item (nothing to remove)
        return Outcome(action.id, OutcomeStatus.ALREADY, "not assigned in Litmos")
    if response.status_code >= 400:
        return Outcome(action.id, OutcomeStatus.FAILED, _refusal(response, api))
    # 200 for courses, 201 for learning paths (sic, as documented)
    return Outcome(action.id, OutcomeStatus.DONE)


def _reset(api: LitmosApi, action: Action) -> Outcome:
    """`PUT /users/{id}/courses/{id}/reset`: the course starts over; Litmos keeps the earlier attempt."""
    if action.item_kind is not ItemKind.COURSE:
        return Outcome(action.id, OutcomeStatus.FAILED, "Litmos resets only courses, not learning paths")
    path = f"/users/{segment(action.user_id)}/courses/{segment(action.item_id)}/reset"
    try:
        response = api.send("PUT", path, call="PUT /users/{id}/courses/{id}/reset", idempotent=False)
    except WriteOutcomeUnknown as lost:
        return Outcome(action.id, OutcomeStatus.UNKNOWN, lost.message)  # apply reads back to settle it
    if response.status_code >= 400:
        return Outcome(action.id, OutcomeStatus.FAILED, _refusal(response, api))
    return Outcome(action.id, OutcomeStatus.DONE)
