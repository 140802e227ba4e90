"""Loading good manifest repositories: the model built, the positions kept, and load → dump → load."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core.model import DueKind, ItemKind, ProviderKind, RefBy, UserStatus
from reconciler.errors import ManifestError, Position
from reconciler.manifest.dump import dump_config, dump_policy
from reconciler.manifest.load import load_config, load_repository, parse_policies
from reconciler.manifest.schema import schema_text
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"
QUICKSTART = EXAMPLES / "quickstart"

CONFIG = """\
version: 1
policies: [policies]
providers:
  lms:
    kind: ispring
    url: https://acme.ispringlearn.com
    token_env: ISPRING_TOKEN
"""

POLICY = """\
apiVersion: enrollctl/v1
kind: Policy
metadata:
  name: {name}
spec:
  targets:
    everyone: true
  assign:
    - course: Security Awareness 2026
"""


def write_repo(root: Path, config: str = CONFIG, **policies: str) -> Path:
    """A manifest repository in `root`; keyword names are file paths under policies/."""
    (root / "enrollctl.yaml").write_text(config, encoding="utf-8")
    for name, text in policies.items():
        path = root / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "enrollctl.yaml").is_file())
)
def test_every_example_validates(example: str) -> None:
    config, policies = load_repository(str(EXAMPLES / example))
    assert config.providers
    assert policies


def test_quickstart_uses_every_manifest_key() -> None:
    _, policies = load_repository(str(QUICKSTART))
    by_name = {p.name: p for p in policies}
    security = by_name["security-awareness"]
    assert security.targets.everyone
    assert security.prune
    assert security.owner == "security@acme.example"
    assert security.description
    [term] = [a.terms for a in security.assign]
    assert term.due.date == dt.date(2026, 12, 31)
    assert term.lock_after_due
    assert term.access == dt.date(2026, 11, 1)
    assert by_name["anti-bribery"].notify is False
    assert by_name["anti-bribery"].assign[0].terms.due.hours == 30 * 24
    assert by_name["anti-bribery"].targets.exclude.groups[0].value == "New hires"
    assert by_name["onboarding"].assign[0].item.kind is ItemKind.LEARNING_PATH
    assert by_name["forklift-safety"].targets.departments[0].recursive is False
    assert by_name["forklift-safety"].assign[0].terms.due.kind is DueKind.UNLIMITED
    assert by_name["secure-coding"].assign[0].terms.due.kind is DueKind.DEFAULT
    assert by_name["secure-coding"].prune_catalog


def test_policies_carry_file_relative_positions() -> None:
    _, policies = load_repository(str(QUICKSTART))
    forklift = next(p for p in policies if p.name == "forklift-safety")
    assert forklift.position.file == "policies/role-training.yaml"
    assert forklift.position.line == 18  # the second document of the file
    department = forklift.targets.departments[0]
    assert department.position == Position("policies/role-training.yaml", 27, 9)
    assert forklift.assign[0].item.position == Position("policies/role-training.yaml", 29, 7)
    assert forklift.assign[0].position.line == 29


def test_omitted_provider_is_the_only_one(tmp_path: Path) -> None:
    write_repo(tmp_path, **{"p.yaml": POLICY.format(name="p")})
    _, (policy,) = load_repository(str(tmp_path))
    assert policy.provider == "lms"


def test_config_builds_providers_and_settings(tmp_path: Path) -> None:
    config_text = CONFIG + (
        "  academy:\n    kind: litmos\n    url: https://api.litmos.com/v1.svc\n"
        "    api_key_env: LITMOS_API_KEY\n"
        "    source: acme\n    requests_per_minute: 60\n"
        "settings:\n  user_statuses: [active, blocked]\n  max_removals: 3\n  max_removal_share: 0.5\n"
    )
    write_repo(tmp_path, config_text)
    config = load_config(str(tmp_path))
    academy = config.providers["academy"]
    assert academy.kind is ProviderKind.LITMOS
    assert (academy.source, academy.requests_per_minute, academy.api_key_env) == (
        "acme",
        60,
        "LITMOS_API_KEY",
    )
    assert academy.position == Position("enrollctl.yaml", 8, 3)
    assert config.providers["lms"].source == "enrollctl"
    assert config.settings.user_statuses == (UserStatus.ACTIVE, UserStatus.BLOCKED)
    assert (config.settings.max_removals, config.settings.max_removal_share) == (3, 0.5)


def test_settings_default_when_omitted(tmp_path: Path) -> None:
    config = load_config(str(write_repo(tmp_path)))
    assert config.settings.user_statuses == (UserStatus.ACTIVE,)
    assert config.settings.max_removals == 25
    assert config.policies == ("policies",)


def test_missing_enrollctl_yaml_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as raised:
        load_config(str(tmp_path))
    assert "enrollctl.yaml: not found in" in str(raised.value)
    assert "-C DIR" in str(raised.value)


def test_directories_are_searched_recursively_and_sorted(tmp_path: Path) -> None:
    policies = {"b/two.yml": "two", "a/one.yaml": "one", "zero.yaml": "zero"}
    write_repo(tmp_path, **{path: POLICY.format(name=name) for path, name in policies.items()})
    (tmp_path / "policies" / "notes.txt").write_text("not a policy")
    (tmp_path / "policies" / ".hidden").mkdir()
    (tmp_path / "policies" / ".hidden" / "x.yaml").write_text("not: a policy")
    _, policies = load_repository(str(tmp_path))
    assert [p.position.file for p in policies] == [
        "policies/a/one.yaml",
        "policies/b/two.yml",
        "policies/zero.yaml",
    ]


def test_globs_and_files_load_each_file_once(tmp_path: Path) -> None:
    config = CONFIG.replace("policies: [policies]", "policies: ['policies/*.yaml', policies/a.yaml]")
    write_repo(tmp_path, config, **{"a.yaml": POLICY.format(name="a"), "b.yaml": POLICY.format(name="b")})
    _, policies = load_repository(str(tmp_path))
    assert [p.name for p in policies] == ["a", "b"]


def test_sandbox_file_is_never_read_as_a_policy(tmp_path: Path) -> None:
    config = "version: 1\npolicies: ['.']\nproviders:\n  lms: {kind: ispring, sandbox: org.yaml}\n"
    write_repo(tmp_path, config, **{"p.yaml": POLICY.format(name="p")})
    (tmp_path / "org.yaml").write_text("users: []\n")
    _, policies = load_repository(str(tmp_path))
    assert [p.name for p in policies] == ["p"]


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    broken_config = CONFIG.replace("token_env", "token") + "settings: {max_removals: many}\n"
    write_repo(
        tmp_path,
        broken_config,
        **{
            "a.yaml": POLICY.format(name="Bad Name"),
            "b.yaml": "a: [\n",
            "c.yaml": POLICY.format(name="c") + "x: 1\n",
        },
    )
    with pytest.raises(ManifestError) as raised:
        load_repository(str(tmp_path))
    files = [d.position.file for d in raised.value.diagnostics]
    assert files.count("enrollctl.yaml") == 3  # the literal token, so no credentials, and max_removals
    assert {"policies/a.yaml", "policies/b.yaml", "policies/c.yaml"} <= set(files)


def test_ids_may_be_written_as_numbers() -> None:
    text = (
        POLICY.format(name="p")
        .replace("everyone: true", "groups: [{id: 42}]")
        .replace("course: Security Awareness 2026", "course: {id: abc-1}")
    )
    (policy,) = parse_policies(text.encode())
    assert (policy.targets.groups[0].value, policy.targets.groups[0].by) == ("42", RefBy.ID)
    assert (policy.assign[0].item.value, policy.assign[0].item.by) == ("abc-1", RefBy.ID)


def test_merge_keys_share_terms_between_assignments() -> None:
    text = POLICY.format(name="p").replace(
        "    - course: Security Awareness 2026\n",
        "    - &terms {course: A, due: {within: 36h}, lock_after_due: true}\n    - {<<: *terms, course: B}\n",
    )
    (policy,) = parse_policies(text.encode())
    assert [a.item.value for a in policy.assign] == ["A", "B"]
    assert policy.assign[1].terms == policy.assign[0].terms
    assert policy.assign[1].terms.due.hours == 36


# --- round trip ----------------------------------------------------------------------------------------


def test_load_dump_load_round_trips_every_quickstart_policy(tmp_path: Path) -> None:
    config, policies = load_repository(str(QUICKSTART))
    text = "---\n".join(yaml.safe_dump(dump_policy(p), sort_keys=False) for p in policies)
    write_repo(tmp_path, yaml.safe_dump(dump_config(config), sort_keys=False), **{"all.yaml": text})
    (tmp_path / "sandbox.yaml").write_text((QUICKSTART / "sandbox.yaml").read_text())
    config_again, again = load_repository(str(tmp_path))
    assert [dump_policy(p) for p in again] == [dump_policy(p) for p in policies]
    assert dump_config(config_again) == dump_config(config)
    assert config_again.settings == config.settings


def test_dump_leaves_defaults_out() -> None:
    (policy,) = parse_policies(POLICY.format(name="p").encode())
    assert dump_policy(policy) == {
        "apiVersion": "enrollctl/v1",
        "kind": "Policy",
        "metadata": {"name": "p"},
        "spec": {"targets": {"everyone": True}, "assign": [{"course": "Security Awareness 2026"}]},
    }


# --- schemas and examples as documentation ---------------------------------------------------------------


def schema_properties(schema: dict[str, Any], node: Any = None) -> list[tuple[str, dict[str, Any]]]:
    """Every (key, subschema) under `properties` anywhere in a schema, with `$ref`s followed."""
    node = schema if node is None else node
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            found.append((key, resolve(schema, sub)))
        for keyword, value in node.items():
            if keyword != "if":  # conditions mention keys, they do not define them
                found.extend(schema_properties(schema, value))
    elif isinstance(node, list):
        for value in node:
            found.extend(schema_properties(schema, value))
    return found


def resolve(schema: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in sub and "description" not in sub:
        target: Any = schema
        for part in sub["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return dict(target)
    return sub


@pytest.mark.parametrize("name", ["enrollctl", "policy"])
def test_every_schema_key_is_described_for_editors(name: str) -> None:
    schema = json.loads(schema_text(name))
    undocumented = sorted({key for key, sub in schema_properties(schema) if not sub.get("description")})
    assert undocumented == []


def keys_used(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_used(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_used(v)}
    return set()


def test_quickstart_policies_use_every_policy_key() -> None:
    """The examples document the keys: the quickstart every core key, examples/compliance the compliance
    ones (targets.where and joined_within, due from the hire date)."""
    used: set[str] = set()
    for path in [
        *(QUICKSTART / "policies").glob("*.yaml"),
        *(EXAMPLES / "compliance" / "policies").glob("*.yaml"),
    ]:
        used |= {k for doc in yaml.safe_load_all(path.read_text()) for k in keys_used(doc)}
    schema = json.loads(schema_text("policy"))
    # ids are generated by the sandbox, so the example names departments, groups and items by name
    assert {key for key, _ in schema_properties(schema)} - {"id"} <= used


def test_quickstart_uses_every_due_form() -> None:
    _, policies = load_repository(str(QUICKSTART))
    kinds = {a.terms.due.kind for p in policies for a in p.assign}
    assert kinds == set(DueKind)


def _schema_comment(path: Path) -> str:
    return path.read_text().splitlines()[0]


SCHEMA_COMMENTED = sorted(
    str(p)
    for p in EXAMPLES.glob("*/**/*.yaml")
    if "sandbox" not in p.name and "$schema=" in _schema_comment(p)
)


def test_the_examples_carry_schema_comments() -> None:
    assert len(SCHEMA_COMMENTED) >= len(list(EXAMPLES.glob("*/enrollctl.yaml")))


@pytest.mark.parametrize("path", SCHEMA_COMMENTED)
def test_example_schema_comments_point_at_the_schemas(path: str) -> None:
    first = _schema_comment(Path(path))
    target = Path(path).parent / first.split("$schema=", 1)[1].strip()
    assert target.resolve().is_file(), first


def test_ispring_api_is_rest_unless_soap_is_asked_for(tmp_path: Path) -> None:
    write_repo(tmp_path)
    assert load_config(str(tmp_path)).providers["lms"].api == "rest"
    write_repo(tmp_path, CONFIG + "    api: soap\n")
    config = load_config(str(tmp_path))
    assert config.providers["lms"].api == "soap"
    assert dump_config(config)["providers"]["lms"]["api"] == "soap"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("    api: graphql\n", "api"),
        (
            "  academy:\n    kind: litmos\n    url: https://api.litmos.com/v1.svc\n"
            "    api_key_env: K\n    api: rest\n",
            "a litmos provider has only one",
        ),
    ],
    ids=["unknown-api", "api-on-litmos"],
)
def test_api_must_be_rest_or_soap_and_only_on_ispring(tmp_path: Path, extra: str, needle: str) -> None:
    write_repo(tmp_path, CONFIG + extra)
    with pytest.raises(ManifestError) as raised:
        load_config(str(tmp_path))
    assert needle in str(raised.value)
