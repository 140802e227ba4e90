"""Properties of the Policy loader: valid documents always load and round-trip; damaged ones either load
or fail with positioned diagnostics, never with any other exception."""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest.dump import dump_policy
from reconciler.manifest.load import load_repository, parse_policies

PROVIDERS = {"lms": object()}

names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=16)
ids = st.one_of(text, st.integers(min_value=0, max_value=10**9)).map(lambda v: {"id": v})
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)).map(dt.date.isoformat)
periods = st.builds(lambda n, unit: {"within": f"{n}{unit}"}, st.integers(1, 999), st.sampled_from("hdw"))
dues = st.one_of(dates, periods, st.sampled_from(["unlimited", "default"]))

departments = st.one_of(
    text, st.fixed_dictionaries({"path": text}, optional={"recursive": st.booleans()}), ids
)
name_refs = st.one_of(text, ids)


def optional_keys(**strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=strategies)


ref_lists = {
    "departments": st.lists(departments, max_size=3),
    "groups": st.lists(name_refs, max_size=3),
    "users": st.lists(name_refs, max_size=3),
}
targets = optional_keys(everyone=st.booleans(), exclude=optional_keys(**ref_lists), **ref_lists).filter(
    lambda t: t.get("everyone") is True or any(t.get(k) for k in ref_lists)  # empty targets are an error
)

assignments = st.builds(
    lambda kind, item, terms: {kind: item, **terms},
    st.sampled_from(["course", "learning_path"]),
    name_refs,
    optional_keys(due=dues, lock_after_due=st.booleans(), access=dates),
).filter(lambda a: not _access_after_due(a))


def _item_of(assignment: dict[str, Any]) -> str:
    kind = "course" if "course" in assignment else "learning_path"
    item = assignment[kind]
    # `id: 0` and `id: "0"` name the same vendor id (ids are compared as text), so they are one item
    return f"{kind}:{ {'id': str(item['id'])}!r}" if isinstance(item, dict) else f"{kind}:{item!r}"


def _access_after_due(assignment: dict[str, Any]) -> bool:
    """Access after a fixed due date is invalid; ISO dates compare correctly as text."""
    due, access = assignment.get("due"), assignment.get("access")
    return isinstance(due, str) and due[:1].isdigit() and isinstance(access, str) and access > due


@st.composite
def policies(draw: st.DrawFn, name: str | None = None) -> dict[str, Any]:
    """One valid Policy document, mirroring policy.schema.json."""
    metadata = {"name": name or draw(names), **draw(optional_keys(owner=text, description=text))}
    # one entry per item: the same item twice in a policy is an error
    assign = draw(st.lists(assignments, min_size=1, max_size=3, unique_by=_item_of))
    spec = {"targets": draw(targets), "assign": assign}
    spec.update(draw(optional_keys(provider=st.just("lms"), notify=st.booleans())))
    if draw(st.booleans()):
        spec["prune"] = True
        spec.update(draw(optional_keys(prune_catalog=st.booleans())))
    return {"apiVersion": "enrollctl/v1", "kind": "Policy", "metadata": metadata, "spec": spec}


@st.composite
def policy_files(draw: st.DrawFn) -> list[dict[str, Any]]:
    unique = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    return [draw(policies(name)) for name in unique]


def to_yaml(documents: list[Any]) -> bytes:
    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True).encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(policy_files())
def test_valid_policies_load_and_round_trip(documents: list[dict[str, Any]]) -> None:
    loaded = parse_policies(to_yaml(documents), providers=PROVIDERS)
    assert [p.name for p in loaded] == [d["metadata"]["name"] for d in documents]
    dumped = [dump_policy(p) for p in loaded]
    again = parse_policies(to_yaml(dumped), providers=PROVIDERS)
    assert [dump_policy(p) for p in again] == dumped


def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a document (mapping keys and list indexes)."""
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    paths = []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(key_paths(child, (*prefix, key)))
    return paths


junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text, st.lists(text, max_size=2),
    st.dictionaries(text, text, max_size=2),
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A valid document with one key deleted, one value replaced by junk, or one junk key inserted."""
    document = draw(documents if documents is not None else policies())
    path = draw(st.sampled_from(key_paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["delete", "replace", "insert"]))
    if action == "delete":
        del parent[path[-1]]
    elif action == "replace":
        parent[path[-1]] = draw(junk)
    elif isinstance(parent, dict):
        parent[draw(text)] = draw(junk)
    else:
        parent.insert(path[-1], draw(junk))
    return document


def assert_loads_or_fails_with_positions(data: bytes) -> None:
    try:
        parse_policies(data, providers=PROVIDERS)
    except ManifestError as error:
        assert error.diagnostics
        assert all(d.position.line >= 1 and d.position.file == "policy.yaml" for d in error.diagnostics), (
            error
        )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_policies_load_or_fail_with_positioned_diagnostics(document: dict[str, Any]) -> None:
    assert_loads_or_fails_with_positions(to_yaml([document]))


@settings(max_examples=200, deadline=None)
@given(policies(), st.data())
def test_damaged_yaml_text_loads_or_fails_with_positioned_diagnostics(
    document: dict[str, Any], data: Any
) -> None:
    raw = to_yaml([document])
    at = data.draw(st.integers(0, len(raw)))
    noise = data.draw(
        st.one_of(
            st.binary(max_size=8), st.sampled_from([b"\t", b": ", b"- ", b"&a ", b"*a", b"{", b"'", b"\n  "])
        )
    )
    cut = data.draw(st.integers(0, 4))
    assert_loads_or_fails_with_positions(raw[:at] + noise + raw[at + cut :])


VALID_CONFIG: dict[str, Any] = {
    "version": 1,
    "policies": ["policies"],
    "providers": {
        "lms": {"kind": "ispring", "url": "https://acme.ispringlearn.com", "token_env": "ISPRING_TOKEN"},
        "academy": {"kind": "litmos", "sandbox": "org.yaml", "source": "acme", "requests_per_minute": 60},
    },
    "settings": {"user_statuses": ["active"], "max_removals": 3, "max_removal_share": 0.5},
}
POLICY_TEXT = "apiVersion: enrollctl/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  provider: lms\n"
POLICY_TEXT += "  targets: {everyone: true}\n  assign: [{course: X}]\n"


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    return draw(mutated(st.just(VALID_CONFIG).map(copy.deepcopy)))


@settings(max_examples=100, deadline=None)
@given(mutated_configs())
def test_mutated_config_loads_or_fails_with_positioned_diagnostics(config: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "policies").mkdir()
        (root / "policies" / "p.yaml").write_text(POLICY_TEXT)
        (root / "org.yaml").write_text("users: []\n")
        (root / "enrollctl.yaml").write_bytes(to_yaml([config]))
        try:
            load_repository(directory)
        except ManifestError as error:
            assert error.diagnostics
            assert all(d.position.line >= 1 for d in error.diagnostics), error
