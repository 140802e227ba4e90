"""Rules inside one Policy document that the schema cannot express: real calendar dates, access before due,
one entry per item, someone targeted, and how `where` / `joined_within` may be combined."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from reconciler.errors import DiagnosticSink
from reconciler.manifest.build import as_list, as_mapping
from reconciler.manifest.yamlpos import KeyPath, YamlDocument, format_key_path


def check_policy(document: YamlDocument, sink: DiagnosticSink) -> None:
    """Rules inside one Policy document that the schema cannot express: real calendar dates, prune_catalog."""
    spec = as_mapping(as_mapping(document.data).get("spec"))
    for index, raw in enumerate(as_list(spec.get("assign"))):
        entry = as_mapping(raw)
        dates: dict[str, dt.date | None] = {}
        for key in ("due", "access"):
            value = entry.get(key)
            if isinstance(value, str) and _looks_like_date(value):
                dates[key] = _check_date(document, ("spec", "assign", index, key), value, sink)
        access, due = dates.get("access"), dates.get("due")
        if access is not None and due is not None and access > due:
            path: KeyPath = ("spec", "assign", index)
            sink.add(
                document.key_position(path),
                format_key_path(path),
                f"access {access.isoformat()} is after due {due.isoformat()}",
                "learners could not start before the due date: move access earlier or due later",
            )
    _check_duplicate_items(document, spec, sink)
    _check_targets_not_empty(document, spec, sink)
    if spec.get("prune_catalog") is True and spec.get("prune") is not True:
        sink.add(
            document.key_position(("spec", "prune_catalog")),
            "spec.prune_catalog",
            "prune_catalog only has an effect together with prune: true",
            "add prune: true or remove prune_catalog",
        )
    _check_narrowing(document, spec, sink)


def _check_narrowing(document: YamlDocument, spec: Mapping[str, Any], sink: DiagnosticSink) -> None:
    """`matches` must be a regular expression; `joined_within` and `prune` together would remove
    enrollments of everyone who ages out of the window, so they are refused."""
    targets = as_mapping(spec.get("targets"))
    for index, raw in enumerate(as_list(targets.get("where"))):
        pattern = as_mapping(raw).get("matches")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as error:
                path: KeyPath = ("spec", "targets", "where", index, "matches")
                sink.add(
                    document.key_position(path), format_key_path(path), f"not a regular expression: {error}"
                )
    if targets.get("joined_within") and spec.get("prune") is True:
        sink.add(
            document.key_position(("spec", "prune")),
            "spec.prune",
            "prune: true with targets.joined_within would remove enrollments of people leaving the window",
            "keep joined_within policies without prune (started enrollments are never removed anyway)",
        )


def _item_key(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """(`course` | `learning_path`, `title` or `id:…`) of an assign entry, or None when it names no item."""
    for kind in ("course", "learning_path"):
        value = entry.get(kind)
        if isinstance(value, str):
            return kind, value
        if isinstance(value, Mapping) and isinstance(value.get("id"), str):
            return kind, f"id:{value['id']}"
    return None


def _check_duplicate_items(document: YamlDocument, spec: Mapping[str, Any], sink: DiagnosticSink) -> None:
    """The same item twice in one policy: which entry's terms hold would be a guess, so it is an error."""
    first: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(as_list(spec.get("assign"))):
        key = _item_key(as_mapping(raw))
        if key is None:
            continue
        if key in first:
            path: KeyPath = ("spec", "assign", index)
            earlier = document.key_position(("spec", "assign", first[key]))
            sink.add(
                document.key_position(path),
                format_key_path(path),
                f"{key[0].replace('_', ' ')} {key[1]!r} is assigned twice in this policy "
                f"(first at line {earlier.line})",
                "keep one entry, with the terms you mean",
            )
        else:
            first[key] = index


def _check_targets_not_empty(document: YamlDocument, spec: Mapping[str, Any], sink: DiagnosticSink) -> None:
    """A policy that targets no one cannot mean anything: say so offline, before any LMS is read."""
    targets = as_mapping(spec.get("targets"))
    named = any(as_list(targets.get(key)) for key in ("departments", "groups", "users")) or any(
        key in targets
        for key in ("where", "joined_within")  # these alone select from everyone
    )
    everyone = targets.get("everyone", False)
    if everyone is not False or named or "targets" not in spec:
        return  # someone is targeted, or the schema reports what is wrong with `everyone`
    sink.add(
        document.key_position(("spec", "targets")),
        "spec.targets",
        "targets are empty: the policy would assign nobody",
        "add everyone: true, departments, groups or users",
    )


def _looks_like_date(value: str) -> bool:
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def _check_date(document: YamlDocument, path: KeyPath, value: str, sink: DiagnosticSink) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        sink.add(document.value_position(path), format_key_path(path), f"{value!r} is not a calendar date")
        return None
