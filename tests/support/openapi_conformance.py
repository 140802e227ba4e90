"""Every REST exchange checked against the vendor's OpenAPI spec by openapi-core, a tool we did not write.

`ConformanceTransport` wraps any httpx transport (the sandbox's WSGI app, a real server): each request the
provider sends and each response it gets back is validated against the operation the spec documents for
it. An undocumented path, method, status code, parameter or body field is a violation; by default the
first one fails the test at once, naming the call.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_FILE = Path(__file__).resolve().parents[1] / "data" / "vendor" / "ispring-rest-openapi.yaml"
SOAP_PREFIXES = ("/api/v2/soap", "/index.php/api/v2/soap")


@cache
def _spec_dict() -> dict[str, Any]:
    # libyaml's parser where PyYAML has it (the same safe constructor): every xdist worker reads this 0.5 MB
    # spec while collecting the schemathesis module, ~0.3 s of CPU each in pure Python (0.05 s in C)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(SPEC_FILE.read_text(encoding="utf-8"), Loader=loader)
    # The one correction: the spec's `style: deepObject` query parameters (ListLearnerResults' date ranges)
    # leave `explode` at its default, false, for which OpenAPI 3.0 defines no serialisation (openapi-core
    # refuses every request to the operation). deepObject is only defined with explode: true.
    for path in data["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                if parameter.get("style") == "deepObject":
                    parameter.setdefault("explode", True)
    return data


def spec_document() -> dict[str, Any]:
    """The vendor's spec with the one correction, as a fresh copy of plain data (for schemathesis)."""
    return copy.deepcopy(_spec_dict())


@cache
def spec_for(host_url: str) -> OpenAPI:
    """The vendor's spec served from `host_url` instead of api-learn.ispring.com (paths unchanged)."""
    data = dict(_spec_dict())
    data["servers"] = [{"url": host_url}]
    return OpenAPI.from_dict(data)


class OpenAPIRequest:
    """An httpx request as openapi-core reads one."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode()}"
        self.path = url.path
        self.method = request.method.lower()
        query: dict[str, list[str]] = {}
        for name, value in url.params.multi_items():
            query.setdefault(name, []).append(value)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = request.headers.get("content-type", "").split(";")[0]
        self.body: bytes | None = request.content or None


class OpenAPIResponse:
    """An httpx response as openapi-core reads one."""

    def __init__(self, response: httpx.Response) -> None:
        self.data = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").split(";")[0]
        self.headers = Headers(dict(response.headers))


def violations(request: httpx.Request, response: httpx.Response | None = None) -> list[str]:
    """What the spec says is wrong with this request (and its response): empty when both conform."""
    wrapped = OpenAPIRequest(request)
    spec = spec_for(wrapped.host_url)
    call = f"{request.method} {request.url.path}"
    found: list[str] = []
    try:
        spec.validate_request(wrapped)
    except Exception as error:  # openapi-core raises one of many error types; all are violations
        found.append(f"request {call}: {_describe(error)}")
    if response is not None:
        try:
            spec.validate_response(wrapped, OpenAPIResponse(response))
        except Exception as error:
            found.append(f"response {response.status_code} to {call}: {_describe(error)}")
    return found


def _describe(error: Exception) -> str:
    causes = [str(error)]
    cause = error.__cause__
    while cause is not None:
        causes.append(str(cause))
        cause = cause.__cause__
    details = [str(e) for e in getattr(error, "schema_errors", ())] or [
        str(e) for c in (error.__cause__,) if c is not None for e in getattr(c, "schema_errors", ())
    ]
    return "; ".join(causes + details)


class ConformanceTransport(httpx.BaseTransport):
    """Validates every REST request/response pair passing through; SOAP calls pass unchecked."""

    def __init__(self, inner: httpx.BaseTransport, *, strict: bool = True) -> None:
        self.inner, self.strict = inner, strict
        self.checked: list[str] = []
        self.violations: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        if request.url.path.startswith(SOAP_PREFIXES):
            return response
        response.read()
        found = violations(request, response)
        self.checked.append(f"{request.method} {request.url.path} {response.status_code}")
        self.violations.extend(found)
        if found and self.strict:
            raise AssertionError("not as the vendor's OpenAPI spec documents it:\n" + "\n".join(found))
        return response
