"""The run's clock: real UTC time, or `ENROLLCTL_NOW` when set (tests, rehearsals of scripted sandbox events).

Read by the commands and handed to the core as `now`; the sandbox gets the same moment, so its scripted
events fire by the clock the plan is made with.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

from reconciler.errors import UsageError

NOW_VARIABLE = "ENROLLCTL_NOW"


def current_time(env: Mapping[str, str] | None = None) -> dt.datetime:
    """The run's `now`: real UTC time to the second, or `ENROLLCTL_NOW` (an ISO date-time) when set."""
    pinned = (os.environ if env is None else env).get(NOW_VARIABLE)
    if pinned:
        try:
            moment = dt.datetime.fromisoformat(pinned)
        except ValueError:
            raise UsageError(f"{NOW_VARIABLE}={pinned!r} is not an ISO date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
