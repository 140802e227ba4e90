"""Scopes under a department administrator's partial tree: visible paths start below a hidden root."""

from __future__ import annotations

import pytest

from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import Scope
from reconciler.manifest.scope import check_online
from tests.core.test_directory import visible_below
from tests.support.builders import Org, course, policy


def engineering_admin_view() -> DirectoryIndex:
    org = Org()
    org.user("ivy", dept="Acme/Engineering/Platform")
    org.user("olga", dept="Acme/Engineering")
    org.user("helen", dept="Acme/Sales/EMEA")
    return DirectoryIndex.build(visible_below(org, "Acme/Engineering"))


def violations(scope_departments: tuple[str, ...], path: str) -> list[str]:
    scope = Scope("policies/**", departments=scope_departments)
    pol = policy("p", departments=[path], assign=[course("C")])
    return [d.message for d in check_online((scope,), [pol], engineering_admin_view(), provider="lms")]


@pytest.mark.parametrize(
    ("allowed", "target"),
    [
        (("Acme/Engineering/**",), "Acme/Engineering"),
        (("Acme/Engineering", "Acme/Engineering/*"), "Acme/Engineering"),
        (("**",), "Acme/Engineering"),
        (("**/Platform",), "Acme/Engineering/Platform"),
    ],
)
def test_a_full_path_inside_the_scope_passes(allowed: tuple[str, ...], target: str) -> None:
    assert violations(allowed, target) == []


def test_a_path_that_claims_a_hidden_prefix_inside_the_scope_is_still_refused() -> None:
    # the hidden part cannot be checked: `Acme/Sales/X/Engineering` resolves to Engineering, outside Sales
    (message,) = violations(("Acme/Sales/**",), "Acme/Sales/X/Engineering")
    assert "enrolls 'Engineering'" in message and "and 1 more" in message


def test_a_sub_department_outside_the_scope_is_named_by_its_visible_path() -> None:
    (message,) = violations(("Acme/Engineering",), "Acme/Engineering")
    assert "enrolls 'Engineering/Platform'" in message
