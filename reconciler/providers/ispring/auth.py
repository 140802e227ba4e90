"""iSpring access tokens: OAuth client credentials (`POST /api/v3/token`) or a static token.

Client-credential tokens live 30 minutes and there is no refresh token, so a new one is fetched shortly
before expiry, and once more when the API answers `Authorization failed` (revoked, clock skew).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from reconciler.errors import AuthError, ConfigError, ProtocolError
from reconciler.providers.base import Credentials
from reconciler.providers.ispring.soap import PROVIDER, text
from reconciler.transport.http import VendorClient
from reconciler.transport.safexml import parse_xml

TOKEN_PATH = "/api/v3/token"  # noqa: S105 - a URL path, not a secret
EXPIRY_MARGIN = 60.0  # seconds before expiry at which a token counts as expired
DEFAULT_LIFETIME = 1800.0


class TokenSource:
    """Hands out a valid token, fetching a new one when it is about to expire or was refused.

    Thread-safe: concurrent writers share one token, and only one of them fetches a new one.
    """

    def __init__(
        self, http: VendorClient, credentials: Credentials, *, clock: Callable[[], float] = time.monotonic
    ):
        self._http = http
        self._credentials = credentials
        self._clock = clock
        self._token: str | None = None
        self._expires_at = float("inf")
        self._lock = threading.Lock()
        if credentials.client_id and credentials.client_secret:
            self.can_refresh = True
        elif credentials.token:
            self.can_refresh = False
            self._token = credentials.token
        else:
            raise ConfigError(
                "no iSpring credentials",
                hint="set the variables named by client_id_env and client_secret_env, or token_env",
            )

    def token(self) -> str:
        """A token that is valid now (fetched if needed)."""
        with self._lock:
            if self._token is None or (self.can_refresh and self._clock() >= self._expires_at):
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self) -> bool:
        """Forget the current token after `Authorization failed`; True if a new one can be fetched."""
        if not self.can_refresh:
            return False
        with self._lock:
            self._token = None
        return True

    def _fetch(self) -> None:
        # a token request changes nothing on the server: a garbled answer is asked for again, like any read
        token, lifetime = self._http.read_parsed(self._request_token, call="token")
        self._http.redactor.add(token)
        self._token = token
        self._expires_at = self._clock() + max(0.0, lifetime - EXPIRY_MARGIN)

    def _request_token(self) -> tuple[str, float]:
        form = {
            "client_id": self._credentials.client_id or "",
            "client_secret": self._credentials.client_secret or "",
            "grant_type": "client_credentials",
        }
        # a token request changes nothing on the server, so retrying it is safe
        response = self._http.request(
            "POST",
            TOKEN_PATH,
            call="token",
            idempotent=True,
            data=form,
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            raise self._http.error(
                AuthError,
                "client credentials refused",
                call="token",
                status=response.status_code,
                hint="check the client id and secret of the iSpring API key",
            )
        self._http.raise_for_status(response, call="token")
        return self._parse(response.content, response.headers.get("content-type", ""))

    def _parse(self, body: bytes, content_type: str) -> tuple[str, float]:
        token: str | None
        lifetime: object
        if "json" in content_type or body.lstrip().startswith(b"{"):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                raise ProtocolError("token response is not a JSON object", provider=PROVIDER, call="token")
            token, lifetime = payload.get("access_token"), payload.get("expires_in", DEFAULT_LIFETIME)
        else:  # the REST API answers XML (`<response><access_token>`) to clients that ask for nothing else
            root = parse_xml(body, provider=PROVIDER, call="token", redactor=self._http.redactor)
            token, lifetime = text(root, "access_token"), text(root, "expires_in") or DEFAULT_LIFETIME
        if not isinstance(token, str) or not token:
            raise ProtocolError("token response has no access_token", provider=PROVIDER, call="token")
        try:
            seconds = float(lifetime)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = DEFAULT_LIFETIME
        return token, seconds
