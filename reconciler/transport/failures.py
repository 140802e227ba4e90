"""How transport failures become provider errors: whether sending again is safe (split out of `http`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from reconciler.errors import AuthError, PermissionDenied, ProtocolError, ProviderError, RateLimited
from reconciler.transport.bounds import BodyTooLarge, DeadlineExceeded

if TYPE_CHECKING:
    from reconciler.transport.http import VendorClient

# the request never left this machine: always safe to send again
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# the request may have reached the server: only idempotent calls may be sent again
MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


class WriteOutcomeUnknown(ProviderError):
    """A write may or may not have been applied (connection lost after sending, 5xx); read back to know."""


class AnswerTooLarge(ProtocolError):
    """An answer over the size cap: not a transient garbling, so `read_parsed` does not send it again."""


THROTTLED = frozenset({429, 503})  # statuses that ask the caller to slow down


def error_class(status: int) -> type[ProviderError]:
    """The narrowest error for an HTTP error status: refused credentials, refused permission, throttled."""
    if status == 401:
        return AuthError
    if status == 403:
        return PermissionDenied
    return RateLimited if status in THROTTLED else ProviderError


def bound_failure(
    vendor: VendorClient, exc: BodyTooLarge | DeadlineExceeded, call: str, idempotent: bool
) -> ProviderError:
    """The error for an answer over the size cap or a request past its deadline."""
    if isinstance(exc, BodyTooLarge):
        where = " on the wire" if exc.wire else ""
        message = (
            f"answer larger than the limit of {exc.cap:,} bytes (stopped reading at {exc.size:,}{where})"
        )
        read_cls: type[ProviderError] = AnswerTooLarge
    else:
        message = f"no complete answer within {exc.limit}"
        read_cls = ProviderError
        if not exc.sent:
            return vendor.error(ProviderError, f"{message} (nothing was sent)", call=call)
    if not idempotent:
        return vendor.error(
            WriteOutcomeUnknown,
            message,
            call=call,
            hint="the change may or may not have been made; read back",
        )
    return vendor.error(read_cls, message, call=call)


def transport_failure(
    vendor: VendorClient, exc: httpx.HTTPError, call: str, idempotent: bool
) -> ProviderError:
    """Map a transport exception to a ProviderError that says whether sending again is safe."""
    what = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, NOT_SENT):
        return vendor.error(
            ProviderError,
            f"cannot connect ({what})",
            call=call,
            retryable=True,
            hint=f"check the provider URL {vendor.base_url}",
        )
    if isinstance(exc, MAYBE_SENT):
        if idempotent:
            return vendor.error(ProviderError, f"connection lost ({what})", call=call, retryable=True)
        return vendor.error(
            WriteOutcomeUnknown,
            f"connection lost after sending a write ({what})",
            call=call,
            hint="the change may or may not have been made; read back",
        )
    return vendor.error(ProviderError, f"HTTP failure ({what})", call=call)
