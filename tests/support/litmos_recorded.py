"""The recorded Litmos traffic (tests/data/vendor/litmos-recorded, a copy of vendor-docs/litmos-recorded):
VCR cassettes of the real API, December 2016, read into exchanges for parser fixtures and replays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

RECORDED = Path(__file__).resolve().parents[1] / "data" / "vendor" / "litmos-recorded"
BASE_PATH = "/v1.svc"


@dataclass(frozen=True)
class Exchange:
    """One recorded request and the real server's answer."""

    cassette: str
    index: int
    method: str
    path: str  # below /v1.svc, e.g. `/teams/JyLa085jwVs1/teams`
    query: tuple[tuple[str, str], ...]
    status: int
    content_type: str
    body: bytes

    @property
    def name(self) -> str:
        """`teams-all-paginated.yml#2`: how tests name it."""
        return f"{self.cassette}#{self.index}"

    def param(self, key: str, default: str = "") -> str:
        return dict(self.query).get(key, default)


@cache
def exchanges() -> tuple[Exchange, ...]:
    """Every recorded exchange of every cassette, in file and recording order."""
    found: list[Exchange] = []
    for cassette in sorted(RECORDED.glob("*.yml")):
        data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
        for index, interaction in enumerate(data["interactions"]):
            request, response = interaction["request"], interaction["response"]
            url = urlsplit(request["uri"])
            content_type = response["headers"].get("Content-Type", [""])[0]
            found.append(
                Exchange(
                    cassette=cassette.name,
                    index=index,
                    method=request["method"],
                    path=url.path.removeprefix(BASE_PATH),
                    query=tuple(parse_qsl(url.query)),
                    status=int(response["status"]["code"]),
                    content_type=content_type,
                    body=response["body"]["string"].encode("utf-8"),
                )
            )
    return tuple(found)


def exchange(name: str) -> Exchange:
    """One exchange by its `name` (`find-user.yml#0`)."""
    return next(e for e in exchanges() if e.name == name)
