"""The REST v3 emulator's `POST /enrollment/{enrollmentId}/reenroll` (operation `Reenroll`).

Kept apart from `rest`'s other routes: the body (the spec's `Reenroll` schema: `accessDate` and
`dueDateType` required, `dueDate`, `duePeriod` in hours, `lockAfterDueDate`) goes to the same terms parser
as ChangeEnrollment's, and the store starts the enrollment over (`writes.reenroll`). The spec documents
`200` with no body, and 400, 401 and 403 with an `ErrorResponse`; an unknown enrollment is a 400 ("Unknown
enrollment", as SOAP says it), since the spec lists no 404 for this operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from reconciler.sandbox.ispring import writes
from reconciler.sandbox.ispring.context import Context
from reconciler.sandbox.ispring.soap import WRONG_PARAMETERS, SoapCall, SoapFault

OPERATION = "Reenroll"
# any one segment: the spec's `enrollmentId` is a plain string, so a malformed id is a 400, never a 404
PATH = re.compile(r"^/enrollment/(?P<id>[^/]+)/reenroll$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def matches(path: str) -> bool:
    """Whether `path` is a reenroll call."""
    return PATH.match(path) is not None


def reenroll(
    path: str,
    params: Mapping[str, list[str]],
    call: Callable[[Mapping[str, list[str]]], SoapCall],
    context: Callable[[SoapCall], Context],
) -> None:
    """Start the enrollment in `path` over with the terms in `params` (the JSON body as handler parameters);
    the caller answers 200. Faults propagate: the caller maps them to the spec's statuses."""
    found = PATH.match(path)
    assert found is not None, path
    if not UUID.match(found["id"]):
        raise SoapFault(WRONG_PARAMETERS, "enrollmentId is not an enrollment id")
    writes.reenroll(context(call({**params, "enrollmentId": [found["id"]]})))
