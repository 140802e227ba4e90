"""Department paths in a partial tree: a department administrator sees only the departments they manage."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reconciler.core.desired import expand, expand_or_raise
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import Directory, Settings
from reconciler.errors import ResolutionError
from tests.support.builders import Org, course, dept_ref, policy


def acme() -> Org:
    org = Org()
    org.user("ivy", dept="Acme/Engineering/Platform")
    org.user("kevin", dept="Acme/Engineering/Contractors")
    org.user("olga", dept="Acme/Engineering")
    org.user("helen", dept="Acme/Sales/EMEA")
    org.course("Security Awareness")
    return org


def visible_below(org: Org, *roots: str) -> Directory:
    """What an administrator of `roots` sees: those subtrees only; each root keeps its (invisible) parent."""
    full = org.directory()
    keep = {d.id for path, d in org.departments.items() if any(path.startswith(r) for r in roots)}
    return replace(
        full,
        departments=tuple(d for d in full.departments if d.id in keep),
        users=tuple(u for u in full.users if u.department_id in keep),
    )


def targeted(directory: Directory, *paths: str, recursive: bool = True) -> set[str]:
    pol = policy(
        "p",
        departments=[dept_ref(p, recursive=recursive) for p in paths],
        assign=[course("Security Awareness")],
    )
    result = expand_or_raise([pol], directory, Settings(), provider="lms")
    return {user for user, _ in result.desired.enrollments}


def test_a_full_path_resolves_below_a_root_the_administrator_cannot_see() -> None:
    engineering = visible_below(acme(), "Acme/Engineering")
    assert targeted(engineering, "Acme/Engineering") == {"u:ivy", "u:kevin", "u:olga"}
    assert targeted(engineering, "Acme/Engineering/Platform") == {"u:ivy"}
    assert targeted(engineering, "Acme/Engineering", recursive=False) == {"u:olga"}


def test_the_visible_path_still_resolves_exactly() -> None:
    engineering = visible_below(acme(), "Acme/Engineering")
    assert targeted(engineering, "Engineering/Platform") == {"u:ivy"}


def test_a_wrong_path_in_the_visible_part_stays_unknown() -> None:
    engineering = visible_below(acme(), "Acme/Engineering")
    with pytest.raises(ResolutionError, match="unknown department 'Acme/Engineering/Platfrom'"):
        targeted(engineering, "Acme/Engineering/Platfrom")


def test_a_suffix_of_a_complete_tree_never_resolves() -> None:
    # everyone's parent is visible: `Corp/Acme/Sales` is a typo, not a path below a hidden root
    with pytest.raises(ResolutionError, match="unknown department 'Corp/Acme/Sales'"):
        targeted(acme().directory(), "Corp/Acme/Sales")


def test_two_hidden_root_candidates_are_not_guessed_between() -> None:
    org = acme()
    org.user("pat", dept="Acme/Sales/Platform")
    both = visible_below(org, "Acme/Engineering", "Acme/Sales/Platform")
    pol = policy("p", departments=["Acme/Engineering/Platform"], assign=[course("Security Awareness")])
    result = expand([pol], both, Settings(), provider="lms")
    (diagnostic,) = result.diagnostics
    assert "unknown department 'Acme/Engineering/Platform'" in diagnostic.message
    assert diagnostic.hint.startswith("did you mean: Engineering/Platform, Platform")


def test_orphan_rooted_covers_every_department_below_a_root_with_an_invisible_parent() -> None:
    index = DirectoryIndex.build(visible_below(acme(), "Acme/Engineering"))
    assert index.orphan_rooted == {
        "d:Acme/Engineering",
        "d:Acme/Engineering/Platform",
        "d:Acme/Engineering/Contractors",
    }
    assert index.departments_at("Anything/Engineering")[0].id == "d:Acme/Engineering"
    assert DirectoryIndex.build(acme().directory()).orphan_rooted == frozenset()


NAMES = st.sampled_from(["Acme", "Sales", "EMEA", "Engineering", "Platform", "Ops"])
PATHS = st.lists(NAMES, min_size=1, max_size=4).map("/".join)


@given(tree=st.lists(PATHS, min_size=1, max_size=12), query=PATHS)
def test_a_complete_tree_resolves_exact_paths_only(tree: list[str], query: str) -> None:
    org = Org()
    for path in tree:
        org.dept(path)
    index = DirectoryIndex.build(org.directory())
    assert index.departments_at(query) == index.departments_by_path.get(query, ())


def _below_hidden_root(tree: list[str]) -> DirectoryIndex:
    """`tree` under an invisible `Root`: an administrator of each of its top departments sees the rest."""
    org = Org()
    for path in tree:
        org.dept(f"Root/{path}")
    return DirectoryIndex.build(visible_below(org, *{f"Root/{p.split('/')[0]}" for p in tree}))


def _proper_suffixes(path: str) -> set[str]:
    parts = path.split("/")
    return {"/".join(parts[start:]) for start in range(1, len(parts))}


@given(tree=st.lists(PATHS, min_size=1, max_size=12), data=st.data())
def test_below_a_hidden_root_a_visible_path_resolves_exactly(tree: list[str], data: st.DataObject) -> None:
    index = _below_hidden_root(tree)
    visible = data.draw(st.sampled_from(sorted(index.departments_by_path)))
    assert index.departments_at(visible) == index.departments_by_path[visible]
    assert len(index.departments_at(visible)) == 1


@given(tree=st.lists(PATHS, min_size=1, max_size=12), data=st.data())
def test_below_a_hidden_root_the_full_path_resolves_to_the_one_department_it_names(
    tree: list[str], data: st.DataObject
) -> None:
    index = _below_hidden_root(tree)
    path = data.draw(st.sampled_from(sorted(set(tree))))
    visible = {index.department_path(d) for d in index.departments_by_id}
    assume(not _proper_suffixes(path) & visible)  # no shorter visible path competes with it
    (department,) = index.departments_at(f"Root/{path}")
    assert department.id == f"d:Root/{path}"
    assert department.id in index.orphan_rooted
    assert index.below_hidden_root(f"Root/{path}") == (department,)


@given(tree=st.lists(PATHS, min_size=1, max_size=12), path=st.lists(NAMES, min_size=2, max_size=4))
def test_below_a_hidden_root_a_full_path_with_two_candidates_stays_unknown(
    tree: list[str], path: list[str]
) -> None:
    # the visible tree holds both `A/B/C` and its suffix `B/C`: `Root/A/B/C` could mean either
    shorter = "/".join(path[1:])
    index = _below_hidden_root([*tree, "/".join(path), shorter])
    query = f"Root/{'/'.join(path)}"
    assert index.departments_at(query) == ()
    candidates = {index.department_path(d.id) for d in index.below_hidden_root(query)}
    assert {"/".join(path), shorter} <= candidates


@given(tree=st.lists(PATHS, min_size=1, max_size=12), query=PATHS)
def test_below_a_hidden_root_a_path_naming_no_visible_department_stays_unknown(
    tree: list[str], query: str
) -> None:
    index = _below_hidden_root(tree)
    assert index.departments_at(f"Root/{query}/Nowhere") == ()
