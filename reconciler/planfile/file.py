"""Saved plan files: `plan --out FILE` writes one, `apply FILE` and `show FILE` read one.

A plan file is the JSON of `planfile.codec`, checked against `schemas/plan.schema.json` on load, so a
truncated, hand-edited or future-format file is refused with a message that says what is wrong, never half
applied. `manifest_digest` fingerprints the manifests a plan was made from, so apply can refuse a plan made
from other manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.core.collector import collector_paused
from reconciler.core.plan import FORMAT_VERSION, Plan
from reconciler.errors import PlanError
from reconciler.planfile.check import Failure, compile_schema
from reconciler.planfile.codec import plan_json_pieces
from reconciler.planfile.decode import plan_from_dict

SUPPORTED_FORMAT_VERSIONS: tuple[int, ...] = (FORMAT_VERSION,)
# The largest plan file enrollctl writes or reads. A first-run plan takes about 1.4 kB an action: 100,000
# users adding five items each is ~700 MB, so this holds about 270,000 such users; a larger rollout is planned
# in parts (a provider or `scopes:` at a time). Reading one this size back takes several GB of memory.
MAX_PLAN_BYTES = 2 * 1024 * 1024 * 1024

WRITE_SLICE = 1 << 20  # characters encoded and written at a time, at most
StrPath = str | os.PathLike[str]


def save_plan(plan: Plan, path: StrPath, *, max_bytes: int = MAX_PLAN_BYTES) -> None:
    """Write a plan as JSON atomically: readers see the old file or the whole new one, never a part. A plan
    over `max_bytes` is refused, leaving any old file as it was: `load_plan` would not read it back."""
    target = Path(path)
    try:
        # mkstemp creates the file readable by its owner only; we keep that, since plans name learners.
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise PlanError(f"cannot write plan file {path}: {error.strerror or error}") from error
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            # piece by piece as the text is made: a plan of 100,000s of actions is never held whole
            for piece in plan_json_pieces(plan):
                for start in range(0, len(piece), WRITE_SLICE):  # a remembered text comes whole
                    handle.write(piece[start : start + WRITE_SLICE])
            handle.flush()
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise PlanError(
                    f"cannot write plan file {path}: the plan is {size:,} bytes, over the {max_bytes:,} a "
                    f"plan file may hold ({sum(len(p.actions) for p in plan.providers):,} actions)",
                    hint="plan in parts: one provider's policies, or a `scopes:` entry, at a time",
                )
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise PlanError(f"cannot write plan file {path}: {error.strerror or error}") from error
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def load_plan(path: StrPath, *, max_bytes: int = MAX_PLAN_BYTES) -> Plan:
    """Read a saved plan; any problem (unreadable, not JSON, wrong version, schema) raises `PlanError`."""
    # the parsed JSON and the plan are millions of objects in no cycle: the collector would walk them again
    # and again as they are made (a third of the time to load a 100,000-user plan), to free nothing
    with collector_paused():
        data = _parse(_read(Path(path), max_bytes), path)  # the text is freed once parsed
        _check_version(data, path)
        _check_schema(data, path)
        try:
            return plan_from_dict(data)
        except PlanError as error:
            raise PlanError(f"{path}: {error.message}", hint=_REPLAN) from error


def manifest_digest(files: Mapping[str, bytes]) -> str:
    """Fingerprint manifest files (relative path -> content) as `sha256:<hex>`, independent of order."""
    digest = hashlib.sha256()
    for name in sorted(files, key=_portable_path):
        # Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        for part in (_portable_path(name).encode("utf-8"), files[name]):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return f"sha256:{digest.hexdigest()}"


def validate_plan_data(data: Any) -> None:
    """Check parsed plan JSON against the schema; raise `PlanError` naming the first offending field."""
    _check_version(data, "plan")
    _check_schema(data, "plan")


_REPLAN = "make a new one with `enrollctl plan --out FILE`"


def _portable_path(name: str) -> str:
    return name.replace("\\", "/")


def _read(path: Path, max_bytes: int) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise PlanError(f"cannot read plan file {path}: {error.strerror or error}") from error
    if len(raw) > max_bytes:
        raise PlanError(f"{path} is larger than {max_bytes:,} bytes; this is not a plan file enrollctl wrote")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanError(
            f"{path} is not a plan file: not UTF-8 text (byte {error.start})", hint=_REPLAN
        ) from error


def _parse(text: str, path: StrPath) -> Any:
    if not text.strip():
        raise PlanError(f"{path} is empty; it is not a plan file", hint=_REPLAN)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # A file that opens an object and ends before it is complete was cut short (interrupted copy, full
        # disk): the parser stopped at the end of the text, wherever in the nesting that was.
        body = text.strip()
        truncated = body.startswith("{") and (
            error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip())
        )
        what = "it is truncated" if truncated else f"not valid JSON ({error.msg})"
        where = f"line {error.lineno} column {error.colno}"
        raise PlanError(f"{path} is not a usable plan file: {what} at {where}", hint=_REPLAN) from error


def _check_version(data: Any, path: StrPath) -> None:
    if not isinstance(data, dict):
        raise PlanError(f"{path} is not a plan file: expected a JSON object, got {type(data).__name__}")
    if "format_version" not in data:
        raise PlanError(f"{path} is not a plan file: it has no format_version", hint=_REPLAN)
    version = data["format_version"]
    if version not in SUPPORTED_FORMAT_VERSIONS or isinstance(version, bool):
        supported = ", ".join(str(v) for v in SUPPORTED_FORMAT_VERSIONS)
        raise PlanError(
            f"{path} has plan format_version {version!r}; this enrollctl reads format_version {supported}",
            hint="re-run `enrollctl plan --out FILE` with this version of enrollctl",
        )


def _check_schema(data: Any, path: StrPath) -> None:
    failure = _checker()(data)
    if failure is None:
        return
    field, message = failure
    raise PlanError(
        f"{path} does not match the plan schema: {field or '(top level)'}: {message}", hint=_REPLAN
    )


@cache
def plan_schema() -> dict[str, Any]:
    """The plan JSON Schema (draft 2020-12) as a dict, for tests and editors."""
    text = resources.files("reconciler").joinpath("schemas/plan.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _checker() -> Callable[[Any], Failure | None]:
    return compile_schema(plan_schema())
