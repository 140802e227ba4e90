"""From schema-valid YAML documents to the frozen model, plus the checks a JSON Schema cannot express.

Pure: no disk, no network, no clock. Builders assume the document passed its schema; checks do not, since
they run on documents with schema errors too, so one run reports every problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from reconciler.core.attributes import FieldCondition, FieldOp
from reconciler.core.model import (
    Assignment,
    Config,
    DepartmentRef,
    Due,
    DueKind,
    Exclusions,
    GroupRef,
    ItemKind,
    ItemRef,
    Policy,
    ProviderConfig,
    ProviderKind,
    RefBy,
    Scope,
    Settings,
    Targets,
    Terms,
    UserRef,
    UserStatus,
)
from reconciler.core.period import RecurFrom, parse_every
from reconciler.errors import DiagnosticSink, Position
from reconciler.manifest.yamlpos import KeyPath, YamlDocument, format_key_path

HOURS_PER_UNIT = {"h": 1, "d": 24, "w": 24 * 7}
DEFAULT_POLICIES = ("policies",)


# --- enrollctl.yaml ------------------------------------------------------------------------------------


def build_config(document: YamlDocument, root: str) -> Config:
    """The Config of a schema-valid enrollctl.yaml document."""
    data: Mapping[str, Any] = document.data
    providers = {
        name: _provider(name, raw, document.key_position(("providers", name)))
        for name, raw in data["providers"].items()
    }
    return Config(
        root=root,
        policies=tuple(data.get("policies", DEFAULT_POLICIES)),
        providers=providers,
        settings=build_settings(data.get("settings", {})),
        version=int(data.get("version", 1)),
        position=document.start,
        scopes=tuple(
            _scope(raw, document.key_position(("scopes", index)))
            for index, raw in enumerate(data.get("scopes") or ())
        ),
    )


def _scope(raw: Mapping[str, Any], position: Position) -> Scope:
    return Scope(
        policies=str(raw["policies"]),
        departments=tuple(str(p) for p in raw.get("departments") or ()),
        groups=tuple(str(g) for g in raw.get("groups") or ()),
        users=bool(raw.get("users", True)),
        everyone=bool(raw.get("everyone", False)),
        position=position,
    )


def _provider(name: str, raw: Mapping[str, Any], position: Position) -> ProviderConfig:
    rpm = raw.get("requests_per_minute")
    concurrency = raw.get("concurrency")
    return ProviderConfig(
        name=name,
        kind=ProviderKind(raw["kind"]),
        url=raw.get("url"),
        client_id_env=raw.get("client_id_env"),
        client_secret_env=raw.get("client_secret_env"),
        token_env=raw.get("token_env"),
        api_key_env=raw.get("api_key_env"),
        source=raw.get("source", "enrollctl"),
        requests_per_minute=int(rpm) if rpm is not None else None,
        concurrency=int(concurrency) if concurrency is not None else None,
        sandbox=raw.get("sandbox"),
        insecure_http=bool(raw.get("insecure_http", False)),
        api=str(raw.get("api", "rest")),
        position=position,
    )


def build_settings(raw: Mapping[str, Any]) -> Settings:
    """The Settings of a schema-valid `settings:` block (missing keys take their defaults)."""
    defaults = Settings()
    statuses = raw.get("user_statuses")
    return Settings(
        user_statuses=tuple(UserStatus(s) for s in statuses) if statuses else defaults.user_statuses,
        max_removals=int(raw.get("max_removals", defaults.max_removals)),
        max_removal_share=float(raw.get("max_removal_share", defaults.max_removal_share)),
    )


# --- Policy --------------------------------------------------------------------------------------------


def build_policy(document: YamlDocument, provider: str | None = None) -> Policy:
    """The Policy of a schema-valid, checked document; `provider` fills in an omitted spec.provider."""
    data: Mapping[str, Any] = document.data
    metadata, spec = data["metadata"], data["spec"]
    return Policy(
        name=metadata["name"],
        targets=_targets(document, spec.get("targets") or {}),
        assign=tuple(
            _assignment(document, ("spec", "assign", index), raw) for index, raw in enumerate(spec["assign"])
        ),
        provider=spec.get("provider", provider),
        owner=metadata.get("owner"),
        description=metadata.get("description"),
        prune=bool(spec.get("prune", False)),
        prune_catalog=bool(spec.get("prune_catalog", False)),
        notify=bool(spec.get("notify", True)),
        position=document.start,
    )


def _targets(document: YamlDocument, raw: Mapping[str, Any]) -> Targets:
    base: KeyPath = ("spec", "targets")
    exclude = raw.get("exclude") or {}
    return Targets(
        everyone_position=document.key_position((*base, "everyone")),
        everyone=bool(raw.get("everyone", False)),
        departments=_departments(document, (*base, "departments"), raw.get("departments")),
        groups=_name_refs(GroupRef, document, (*base, "groups"), raw.get("groups")),
        users=_name_refs(UserRef, document, (*base, "users"), raw.get("users")),
        exclude=Exclusions(
            departments=_departments(document, (*base, "exclude", "departments"), exclude.get("departments")),
            groups=_name_refs(GroupRef, document, (*base, "exclude", "groups"), exclude.get("groups")),
            users=_name_refs(UserRef, document, (*base, "exclude", "users"), exclude.get("users")),
        ),
        where=tuple(
            _condition(entry, document.key_position((*base, "where", index)))
            for index, entry in enumerate(raw.get("where") or ())
        ),
        joined_within_hours=parse_period(str(raw["joined_within"])) if raw.get("joined_within") else None,
    )


def _condition(raw: Mapping[str, Any], position: Position) -> FieldCondition:
    """`{field: job_title, equals: X}`, `{field: country, in: [A, B]}` or `{field: x, matches: RE}`."""
    if "in" in raw:
        return FieldCondition(str(raw["field"]), FieldOp.IN, tuple(str(v) for v in raw["in"]), position)
    op = FieldOp.MATCHES if "matches" in raw else FieldOp.EQUALS
    return FieldCondition(str(raw["field"]), op, (str(raw[op.value]),), position)


def _ref(raw: Any) -> tuple[str, RefBy]:
    """A name written as text, or `{id: ...}`; ids may be written as numbers."""
    if isinstance(raw, dict) and "id" in raw:
        return str(raw["id"]), RefBy.ID
    if isinstance(raw, dict):
        return str(raw["path"]), RefBy.NAME
    return str(raw), RefBy.NAME


def _departments(
    document: YamlDocument, path: KeyPath, raw: Iterable[Any] | None
) -> tuple[DepartmentRef, ...]:
    refs = []
    for index, entry in enumerate(raw or ()):
        value, by = _ref(entry)
        recursive = bool(entry.get("recursive", True)) if isinstance(entry, dict) else True
        refs.append(DepartmentRef(value, by, recursive, document.key_position((*path, index))))
    return tuple(refs)


_NameRef = TypeVar("_NameRef", GroupRef, UserRef)


def _name_refs(
    ref_type: type[_NameRef], document: YamlDocument, path: KeyPath, raw: Iterable[Any] | None
) -> tuple[_NameRef, ...]:
    """Groups or users: each a name or `{id: ...}`, at its list position."""
    return tuple(
        ref_type(*_ref(entry), position=document.key_position((*path, index)))
        for index, entry in enumerate(raw or ())
    )


def _assignment(document: YamlDocument, path: KeyPath, raw: Mapping[str, Any]) -> Assignment:
    kind = ItemKind.COURSE if "course" in raw else ItemKind.LEARNING_PATH
    value, by = _ref(raw[kind.value])
    access = raw.get("access")
    recur = raw.get("recur")
    terms = Terms(
        due=parse_due(raw.get("due", "default")),
        lock_after_due=bool(raw.get("lock_after_due", False)),
        access=dt.date.fromisoformat(access) if access else None,
        recur=None
        if not recur
        else replace(parse_every(str(recur["every"])), anchor=RecurFrom(recur.get("from", "completion"))),
    )
    item = ItemRef(kind, value, by, document.key_position((*path, kind.value)))
    return Assignment(item, terms, document.key_position(path))


def parse_due(raw: Any) -> Due:
    """`2026-12-31`, `{within: 30d}`, `unlimited` or `default` as a Due; raises ValueError otherwise."""
    if isinstance(raw, dict):
        hire = raw.get("from", "access") == "hire_date"
        return Due(DueKind.WITHIN, hours=parse_period(str(raw.get("within", ""))), from_hire_date=hire)
    if raw in (DueKind.DEFAULT.value, DueKind.UNLIMITED.value):
        return Due(DueKind(raw))
    if isinstance(raw, str):
        return Due(DueKind.DATE, date=dt.date.fromisoformat(raw))
    raise ValueError(f"not a due form: {raw!r}")


def parse_period(text: str) -> int:
    """`36h`, `30d`, `2w` in hours; raises ValueError otherwise."""
    unit = HOURS_PER_UNIT.get(text[-1:])
    if unit is None or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise ValueError(f"not a period: {text!r} (a whole number and h, d or w)")
    return int(text[:-1]) * unit


# --- checks beyond the schema --------------------------------------------------------------------------


def policy_name(document: YamlDocument) -> str | None:
    """metadata.name if it is text, even when the rest of the document is broken."""
    name = as_mapping(as_mapping(document.data).get("metadata")).get("name")
    return name if isinstance(name, str) else None


def check_policy_names(documents: Iterable[YamlDocument], sink: DiagnosticSink) -> None:
    """Policy names are unique in the repository; each later copy is reported with the first's place."""
    first: dict[str, Position] = {}
    for document in documents:
        name = policy_name(document)
        if name is None:
            continue
        position = document.key_position(("metadata", "name"))
        if name in first:
            sink.add(
                position,
                "metadata.name",
                f"duplicate policy name {name!r}",
                f"first defined at {first[name]}",
            )
        else:
            first[name] = position


def resolve_provider(
    document: YamlDocument, providers: Mapping[str, Any], sink: DiagnosticSink
) -> str | None:
    """The provider a policy uses: its spec.provider, or the only one; reports unknown or missing names."""
    spec = as_mapping(as_mapping(document.data).get("spec"))
    named = spec.get("provider")
    known = ", ".join(sorted(providers)) or "none"
    if isinstance(named, str):
        if named in providers:
            return named
        path: KeyPath = ("spec", "provider")
        sink.add(
            document.value_position(path),
            format_key_path(path),
            f"unknown provider {named!r}",
            f"known: {known}",
        )
        return None
    if named is None and len(providers) == 1:
        return next(iter(providers))
    if named is None and len(providers) > 1:
        sink.add(
            document.key_position(("spec",)),
            "spec.provider",
            "missing: enrollctl.yaml declares several providers",
            f"name one of: {known}",
        )
    return None


def as_mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one (the schema reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one (the schema reports the wrong type)."""
    return value if isinstance(value, list) else []
