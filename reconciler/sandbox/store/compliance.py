"""Compliance in the sandbox store: how long a completion stays valid, and completions scripted at dates.

Three tables of the store's schema: `item_validity` (an item's compliance period in days; Litmos reports
`CompliantTill` = completion date + that period, see `ItemRow.compliant_till`), `scripted_completions` (the
org file's `completions:`: learner, item, when, result) and `attempts` (earlier attempts, kept when an
enrollment is started over). A scripted completion takes effect on the first call the emulator answers at or
after its date, on the learner's enrollment in the item at that moment; until the learner is enrolled it
stays pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.sandbox.store import sql
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import Progress, Terms


@dataclass(frozen=True)
class ScriptedCompletion:
    """One completion the org file schedules: `user_uuid` finishes `item_uuid` at `at`."""

    user_uuid: str
    item_uuid: str
    at: dt.datetime
    status: str = "complete"  # a finished iSpring completion status: complete | passed | accepted
    score: float | None = None


@dataclass(frozen=True)
class Attempt:
    """An earlier attempt at an enrollment, kept when the enrollment was started over."""

    enrollment_uuid: str
    assigned_date: dt.datetime | None
    access_date: dt.datetime
    progress: Progress
    ended_at: dt.datetime  # when it was started over


def set_validity(store: Store, periods: Iterable[tuple[str, int]]) -> None:
    """Record how many days a completion of each item stays valid."""
    with store.transaction():
        store._db.executemany("INSERT OR REPLACE INTO item_validity VALUES (?, ?)", list(periods))


def schedule(store: Store, completions: Iterable[ScriptedCompletion]) -> None:
    """Add completions to the script."""
    with store.transaction():
        store._db.executemany(
            "INSERT INTO scripted_completions (user_uuid, item_uuid, at, status, score) VALUES (?,?,?,?,?)",
            [(c.user_uuid, c.item_uuid, sql.to_db(c.at), c.status, c.score) for c in completions],
        )


def pending(store: Store) -> int:
    """Scripted completions not applied yet."""
    return int(store._rows("SELECT count(*) FROM scripted_completions WHERE applied = 0")[0][0])


def apply_due(store: Store, now: dt.datetime) -> int:
    """Apply every scripted completion dated at or before `now` whose learner is enrolled; how many."""
    done = 0
    rows = store._rows(
        "SELECT key, user_uuid, item_uuid, at, status, score FROM scripted_completions "
        "WHERE applied = 0 AND at <= ? ORDER BY at, key",
        (sql.to_db(now),),
    )
    if not rows:
        return 0  # the common case: no write lock taken on every call
    with store.transaction():
        for key, user_uuid, item_uuid, at, status, score in rows:
            enrollment = store.find_enrollment(user_uuid, item_uuid)
            if enrollment is None:
                continue  # not enrolled (yet): the learner cannot complete it
            moment = sql.from_db(at)
            assert moment is not None
            started = enrollment.assigned_date or enrollment.terms.access_date
            completed = max(moment, started)  # never before the enrollment that is completed
            views = max(enrollment.progress.views_count, 1)
            spent = max(enrollment.progress.time_spent, 600)
            progress = Progress(status, 100.0, completed, score, spent, views)
            store.update_progress(enrollment.uuid, progress)
            store._db.execute("UPDATE scripted_completions SET applied = 1 WHERE key = ?", (key,))
            done += 1
    return done


def reset(store: Store, enrollment_uuid: str, now: dt.datetime, terms: Terms | None = None) -> bool:
    """Start an enrollment over (Litmos `PUT .../reset`, iSpring `POST /enrollment/{id}/reenroll`): the
    attempt so far goes to the history (`attempts`; the vendors keep earlier results, nothing is deleted),
    progress is cleared and the enrollment counts as assigned at `now`. `terms` (iSpring's reenroll sends
    them) replace the old ones; without them only the access date moves to `now`. False if none."""
    enrollment = store.get_enrollment(enrollment_uuid)
    if enrollment is None:
        return False
    done = enrollment.progress
    with store.transaction():
        store._db.execute(
            "INSERT INTO attempts (enrollment_uuid, assigned_date, access_date, status, progress, "
            "completion_date, score, time_spent, views_count, ended_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                *(
                    enrollment_uuid,
                    sql.to_db(enrollment.assigned_date),
                    sql.to_db(enrollment.terms.access_date),
                ),
                *sql.progress_values(done),
                sql.to_db(now),
            ),
        )
        store.update_progress(enrollment_uuid, Progress())
        if terms is not None:
            store.update_terms(enrollment_uuid, terms)
        else:
            store._db.execute(
                "UPDATE enrollments SET access_date = ? WHERE uuid = ?", (sql.to_db(now), enrollment_uuid)
            )
        store._db.execute(
            "UPDATE enrollments SET assigned_date = ? WHERE uuid = ?", (sql.to_db(now), enrollment_uuid)
        )
    return True


def history(store: Store, enrollment_uuid: str) -> list[Attempt]:
    """The earlier attempts at an enrollment, oldest first (what `reset` kept)."""
    rows = store._rows(
        "SELECT assigned_date, access_date, status, progress, completion_date, score, time_spent, "
        "views_count, ended_at FROM attempts WHERE enrollment_uuid = ? ORDER BY key",
        (enrollment_uuid,),
    )
    attempts = []
    for assigned, access, status, progress, completed, score, spent, views, ended in rows:
        access_date, ended_at = sql.from_db(access), sql.from_db(ended)
        assert access_date is not None and ended_at is not None
        done = Progress(status, progress, sql.from_db(completed), score, spent, views)
        attempts.append(Attempt(enrollment_uuid, sql.from_db(assigned), access_date, done, ended_at))
    return attempts
