"""Scope restrictions: `scopes:` in enrollctl.yaml limits what policies in a folder may target."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import Scope
from reconciler.errors import ManifestError
from reconciler.manifest.load import load_repository
from reconciler.manifest.scope import check_online, glob_match, governing_scope
from reconciler.sandbox.org.load import department_uuid, group_uuid
from tests.support.builders import Org, course, dept_ref, policy
from tests.support.e2e import copy_example, enrollctl

SALES_SCOPE = """
scopes:
  - policies: "policies/sales/**"
    departments: ["Acme/Sales/**"]
    groups: ["Sales *"]
    users: false
"""


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("Acme/Sales/**", "Acme/Sales", True),
        ("Acme/Sales/**", "Acme/Sales/EMEA/North", True),
        ("Acme/Sales/**", "Acme/Salesforce", False),
        ("Acme/*", "Acme/Sales", True),
        ("Acme/*", "Acme/Sales/EMEA", False),
        ("policies/sales/**", "policies/sales/a.yaml", True),
        ("policies/sales/**", "policies/engineering/a.yaml", False),
        ("**", "anything/at/all.yaml", True),
        ("policies/**/eu-*.yaml", "policies/x/y/eu-gdpr.yaml", True),
    ],
)
def test_globs_match_whole_segments(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_the_last_matching_scope_governs_and_unmatched_files_are_unrestricted() -> None:
    deny_all = Scope("**")
    sales = Scope("policies/sales/**", departments=("Acme/Sales/**",))
    assert governing_scope((deny_all, sales), "policies/sales/x.yaml") is sales
    assert governing_scope((deny_all, sales), "policies/other.yaml") is deny_all
    assert governing_scope((sales,), "policies/other.yaml") is None


# --- offline: validate --offline and every command that loads the repository --------------------------


def _repository(tmp_path: Path, scopes: str, policies: dict[str, str]) -> Path:
    repo = copy_example("quickstart", tmp_path / "qs")
    with (repo / "enrollctl.yaml").open("a") as config:
        config.write(scopes)
    for name, text in policies.items():
        path = repo / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return repo


def _sales_policy(targets: str) -> str:
    return (
        "apiVersion: enrollctl/v1\nkind: Policy\nmetadata: {name: sales-kickoff}\nspec:\n"
        f"  targets:\n{targets}  assign:\n    - course: Anti-Bribery\n"
    )


def test_offline_violations_are_reported_all_at_once_with_file_and_line(tmp_path: Path) -> None:
    targets = (
        "    everyone: true\n"
        "    departments: [Acme/Sales/EMEA, Acme/Engineering]\n"
        "    groups: [Managers]\n"
        "    users: [helen@acme.example]\n"
    )
    repo = _repository(tmp_path, SALES_SCOPE, {"sales/kickoff.yaml": _sales_policy(targets)})
    with pytest.raises(ManifestError) as raised:
        load_repository(str(repo))
    found = {(str(d.position), d.key_path) for d in raised.value.diagnostics}
    assert found == {
        ("policies/sales/kickoff.yaml:6:5", "spec.targets.everyone"),
        ("policies/sales/kickoff.yaml:7:36", "spec.targets.departments[1]"),
        ("policies/sales/kickoff.yaml:8:14", "spec.targets.groups[0]"),
        ("policies/sales/kickoff.yaml:9:13", "spec.targets.users[0]"),
    }
    text = str(raised.value)
    assert "'Acme/Engineering'" in text and "allows Acme/Sales/**" in text and "enrollctl.yaml:" in text


def test_validate_offline_rejects_a_violation_and_names_the_file(tmp_path: Path) -> None:
    targets = "    departments: [Acme/Engineering]\n"
    repo = _repository(tmp_path, SALES_SCOPE, {"sales/kickoff.yaml": _sales_policy(targets)})
    result = enrollctl(repo, "validate", "--offline")
    assert result.exit_code == 1
    assert "policies/sales/kickoff.yaml:6:19: spec.targets.departments[0]" in result.stderr


def test_allowed_references_pass_and_other_folders_are_unrestricted(tmp_path: Path) -> None:
    targets = "    departments: [Acme/Sales, {path: Acme/Sales/EMEA, recursive: false}]\n"
    repo = _repository(tmp_path, SALES_SCOPE, {"sales/kickoff.yaml": _sales_policy(targets)})
    config, policies = load_repository(str(repo))
    assert config.scopes[0].departments == ("Acme/Sales/**",) and not config.scopes[0].users
    assert len(policies) == 6, "the quickstart's own policies match no scope: unrestricted"
    result = enrollctl(repo, "plan", "--no-color")
    assert result.exit_code == 0, result.output


def test_a_scope_entry_is_checked_by_the_schema(tmp_path: Path) -> None:
    repo = _repository(tmp_path, "scopes:\n  - departments: [Acme]\n    user: false\n", {})
    with pytest.raises(ManifestError) as raised:
        load_repository(str(repo))
    assert "scopes" in str(raised.value)


# --- online: plan resolves what references really enroll ----------------------------------------------


def test_plan_refuses_an_id_reference_outside_the_scope(tmp_path: Path) -> None:
    engineering = department_uuid("Acme/Engineering")
    targets = f"    departments: [{{id: {engineering}}}]\n"
    repo = _repository(tmp_path, SALES_SCOPE, {"sales/kickoff.yaml": _sales_policy(targets)})
    assert enrollctl(repo, "validate", "--offline").exit_code == 0, "an id cannot be checked offline"
    for command in (["plan"], ["validate"]):
        result = enrollctl(repo, *command)
        assert result.exit_code == 1, result.output
        assert "policies/sales/kickoff.yaml:6:19: spec.targets.departments[0]" in result.stderr
        assert "'Acme/Engineering'" in result.stderr


def test_plan_refuses_a_group_id_outside_the_scope(tmp_path: Path) -> None:
    targets = f"    groups: [{{id: {group_uuid('Managers')}}}]\n"
    repo = _repository(tmp_path, SALES_SCOPE, {"sales/kickoff.yaml": _sales_policy(targets)})
    result = enrollctl(repo, "plan")
    assert result.exit_code == 1 and "is 'Managers'" in result.stderr


def test_a_recursive_department_may_not_reach_sub_departments_outside_the_scope() -> None:
    org = Org()
    org.user("helen", dept="Acme/Sales/EMEA")
    org.user("kim", dept="Acme/Sales")
    index = DirectoryIndex.build(org.directory())
    scope = Scope("policies/**", departments=("Acme/Sales",))
    recursive = policy("p", departments=["Acme/Sales"], assign=[course("C")])
    flat = policy("q", departments=[dept_ref("Acme/Sales", recursive=False)], assign=[course("C")])
    (problem,) = check_online((scope,), [recursive], index, provider="lms")
    assert "'Acme/Sales/EMEA'" in problem.message and "recursive: false" in problem.hint
    assert check_online((scope,), [flat], index, provider="lms") == []


def test_a_leading_catch_all_scope_denies_what_no_later_scope_allows(tmp_path: Path) -> None:
    scopes = (
        '\nscopes:\n  - {policies: "**"}\n'
        '  - {policies: "policies/anti-*.yaml", departments: ["Acme/Sales/**"]}\n'
    )
    repo = _repository(tmp_path, scopes, {})
    with pytest.raises(ManifestError) as raised:
        load_repository(str(repo))
    files = {d.position.file for d in raised.value.diagnostics}
    assert "policies/security-awareness.yaml" in files and "policies/onboarding.yaml" in files
    assert "policies/anti-bribery.yaml" not in {
        d.position.file for d in raised.value.diagnostics if "department" in d.message
    }


def test_scopes_dump_back_to_what_was_written(tmp_path: Path) -> None:
    from reconciler.manifest.dump import dump_config

    repo = _repository(tmp_path, SALES_SCOPE, {})
    config, _ = load_repository(str(repo))
    assert dump_config(config)["scopes"] == [
        {
            "policies": "policies/sales/**",
            "departments": ["Acme/Sales/**"],
            "groups": ["Sales *"],
            "users": False,
        }
    ]
