"""Writing one phase of a plan (all adds, all updates or all removals of one provider) on a bounded pool.

Up to `concurrency` vendor calls are in flight at once; the shared rate limiter still paces them. The worker
that sends a batch journals it first (the `batch` line is fsync'd before the call) and its outcomes right
after the call (written at once, made durable by the next fsync and at the end of the phase; the journal
shares one fsync among the threads appending at the same time), so the journal is true at every instant:
a kill leaves at most `concurrency` batches started without an outcome, and the next run reads those back.
Journaling on the worker keeps the calling thread's fsyncs off the path between one call ending and the
next starting.

Phases run one after the other, so a user's adds land before their updates, and those before their
removals; within a phase, batches of different users interleave freely.

A batch that keeps failing across runs is bisected before it is sent again (issue 17): after k > 1 sends
in earlier runs its actions go out in 2^(k-1) pieces, split by learner (or by item for a single learner), so
the healthy part of an all-or-nothing vendor call lands even when one part keeps failing. One failure (a
crash, a dropped connection) does not split anything, so a resumed run makes the calls a whole run makes.
Pieces are re-grouped by the provider, so each is still exactly the calls the vendor's API needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from reconciler.apply.journal import Journal
from reconciler.core.plan import Action, OutcomeStatus
from reconciler.errors import ProviderError
from reconciler.providers.base import Outcome, Provider, WriteBatch

Advance = Callable[[int, int], None]  # (actions written so far, actions to write in all), after each batch
Written = Callable[[WriteBatch, list[Outcome]], None]  # called on the calling thread after each batch
MAX_SPLIT_DEPTH = 10  # a batch is cut into at most 2^10 pieces, however often it failed


def write_phase(
    provider: Provider,
    batches: Sequence[WriteBatch],
    journal: Journal,
    written: Written,
    *,
    concurrency: int = 1,
) -> tuple[int, ProviderError | None]:
    """Send `batches`, at most `concurrency` at a time; returns the calls made and the error that stopped it.

    After an error that is not about one batch (auth, throttling past its retries) no new batch starts;
    those in flight finish and are journaled.
    """
    calls = 0
    stopped: ProviderError | None = None

    def finish(batch: WriteBatch, outcomes: list[Outcome], error: ProviderError | None) -> None:
        nonlocal calls, stopped
        calls += batch.calls
        written(batch, outcomes)
        stopped = stopped or error

    try:
        if concurrency <= 1:
            for batch in batches:
                if stopped is not None:
                    break
                finish(batch, *_write_and_journal(provider, batch, journal))
            return calls, stopped
        queue = iter(batches)
        in_flight: dict[Future[tuple[list[Outcome], ProviderError | None]], tuple[int, WriteBatch]] = {}
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="enrollctl-write") as pool:
            for order, batch in enumerate(_feed(queue, lambda: stopped is None)):
                in_flight[pool.submit(_write_and_journal, provider, batch, journal)] = (order, batch)
                if len(in_flight) >= concurrency:
                    _drain(in_flight, finish, all_of_them=False)
            _drain(in_flight, finish, all_of_them=True)
        return calls, stopped
    finally:
        journal.sync()  # the phase's last outcomes are on disk before anything reads or reports them


def _feed(queue: Iterator[WriteBatch], go_on: Callable[[], bool]) -> Iterator[WriteBatch]:
    while go_on():
        batch = next(queue, None)
        if batch is None:
            return
        yield batch


def _drain(
    in_flight: dict[Future[tuple[list[Outcome], ProviderError | None]], tuple[int, WriteBatch]],
    finish: Callable[[WriteBatch, list[Outcome], ProviderError | None], None],
    *,
    all_of_them: bool,
) -> None:
    """Journal what has finished (at least one batch; every one with `all_of_them`), in submission order."""
    while in_flight:
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: in_flight[f][0]):
            _, batch = in_flight.pop(future)
            finish(batch, *future.result())
        if not all_of_them:
            return


def _write_and_journal(
    provider: Provider, batch: WriteBatch, journal: Journal
) -> tuple[list[Outcome], ProviderError | None]:
    """On the worker: the batch journaled (on disk), the call, its outcomes journaled (written)."""
    journal.batch_started(batch.kind.value, [a.id for a in batch.actions], batch.calls)
    outcomes, error = write_batch(provider, batch)
    journal.outcomes(((o.action_id, o.status, o.detail) for o in outcomes), durable=False)
    return outcomes, error


def write_batch(provider: Provider, batch: WriteBatch) -> tuple[list[Outcome], ProviderError | None]:
    """One vendor call; an error leaves every action of the batch unknown (resolved by reading back)."""
    try:
        outcomes = provider.write(batch)
    except ProviderError as error:
        return [Outcome(a.id, OutcomeStatus.UNKNOWN, str(error)) for a in batch.actions], error
    reported = {o.action_id for o in outcomes}
    # a provider that forgets an action leaves its fate unknown, not silently done
    missing = [
        Outcome(a.id, OutcomeStatus.UNKNOWN, "no outcome reported")
        for a in batch.actions
        if a.id not in reported
    ]
    return [*outcomes, *missing], None


def ticker(total: int, advance: Advance | None) -> Callable[[int], None]:
    """A counter of written actions that reports to `advance` after each batch."""
    written = 0

    def tick(count: int) -> None:
        nonlocal written
        written += count
        if advance is not None:
            advance(min(written, total), total)  # an action sent again counts once

    return tick


# --- bisecting batches that keep failing -------------------------------------------------------------------


def bisected(
    provider: Provider, batches: Sequence[WriteBatch], attempts: Mapping[str, int]
) -> list[WriteBatch]:
    """`batches`, each cut into 2^(k-1) pieces where k is how often earlier runs sent its actions."""
    result: list[WriteBatch] = []
    for batch in batches:
        sent = max((attempts.get(a.id, 0) for a in batch.actions), default=0)
        depth = min(MAX_SPLIT_DEPTH, sent - 1)
        if depth <= 0 or len(batch.actions) < 2:
            result.append(batch)
            continue
        for piece in _split(list(batch.actions), depth):
            result.extend(provider.batches(piece))
    return result


def _split(actions: list[Action], depth: int) -> list[list[Action]]:
    """Halve `depth` times: by learner while a piece has several, then by item."""
    if depth == 0 or len(actions) < 2:
        return [actions]
    users = sorted({a.user_id for a in actions})
    if len(users) > 1:
        left = set(users[: len(users) // 2])
        halves = [[a for a in actions if a.user_id in left], [a for a in actions if a.user_id not in left]]
    else:
        items = sorted({a.item_id for a in actions})
        if len(items) < 2:
            return [actions]
        first = set(items[: len(items) // 2])
        halves = [[a for a in actions if a.item_id in first], [a for a in actions if a.item_id not in first]]
    return [piece for half in halves for piece in _split(half, depth - 1)]
