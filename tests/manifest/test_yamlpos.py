"""The safe YAML layer: plain data, positions by key path, and the limits a manifest never needs to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError, Position
from reconciler.manifest.yamlpos import (
    MAX_ALIASES,
    MAX_FILE_BYTES,
    format_key_path,
    parse_yaml,
    read_yaml_file,
)


def problems(raw: bytes) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        parse_yaml(raw, "f.yaml")
    return [str(d) for d in raised.value.diagnostics]


def test_keys_and_values_have_their_own_positions() -> None:
    (document,) = parse_yaml(b"spec:\n  assign:\n    - course: A\n      due: 2026-12-31\n", "f.yaml")
    assert document.key_position(("spec", "assign", 0, "due")) == Position("f.yaml", 4, 7)
    assert document.value_position(("spec", "assign", 0, "due")) == Position("f.yaml", 4, 12)
    assert document.key_position(("spec", "assign", 0)) == Position("f.yaml", 3, 7)


def test_unknown_paths_fall_back_to_the_closest_ancestor() -> None:
    (document,) = parse_yaml(b"a:\n  b: 1\n", "f.yaml")
    assert document.key_position(("a", "b", "c", 3)) == Position("f.yaml", 2, 3)
    assert document.key_position(("zzz",)) == document.start


def test_dates_stay_text_so_the_schema_decides() -> None:
    (document,) = parse_yaml(b"due: 2026-12-31\nbad: 2026-13-45\nflag: yes\nn: 3\n", "f.yaml")
    assert document.data == {"due": "2026-12-31", "bad": "2026-13-45", "flag": True, "n": 3}


def test_documents_start_where_they_start_and_empty_ones_are_skipped() -> None:
    documents = parse_yaml(b"a: 1\n---\n---\n# only a comment\n---\nb: 2\n", "f.yaml")
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}]
    assert [d.start.line for d in documents] == [1, 6]


def test_byte_order_mark_and_windows_line_endings_are_fine() -> None:
    (document,) = parse_yaml(b"\xef\xbb\xbfa: 1\r\nb: 2\r\n", "f.yaml")
    assert document.data == {"a": 1, "b": 2}
    assert document.key_position(("b",)).line == 2


def test_merge_keys_take_the_anchor_and_explicit_keys_win() -> None:
    (document,) = parse_yaml(b"base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert document.data["d"] == {"y": 3, "x": 1}


def test_every_duplicate_key_is_reported_with_both_lines() -> None:
    assert problems(b"a: 1\nb: 2\na: 3\nb: 4\n") == [
        "f.yaml:3:1: a: duplicate key 'a' (first at line 1)",
        "f.yaml:4:1: b: duplicate key 'b' (first at line 2)",
    ]


def test_aliases_beyond_the_limit_are_refused() -> None:
    raw = b"a: &a x\nb: [" + b", ".join([b"*a"] * (MAX_ALIASES + 1)) + b"]\n"
    assert "more than 100 aliases" in problems(raw)[0]


def test_a_few_aliases_are_fine() -> None:
    (document,) = parse_yaml(b"a: &a [x, y]\nb: *a\nc: *a\n", "f.yaml")
    assert document.data["c"] == ["x", "y"]


def test_every_tab_indented_line_is_named() -> None:
    assert [p.split(": ", 1)[0] for p in problems(b"a:\n\tb: 1\n\tc: 2\n")] == ["f.yaml:2:1", "f.yaml:3:1"]


def test_tabs_inside_quoted_text_are_fine() -> None:
    (document,) = parse_yaml(b'a: "x\\ty"\nb: "c\td"\n', "f.yaml")
    assert document.data == {"a": "x\ty", "b": "c\td"}


def test_tabs_in_plain_text_are_named() -> None:
    (problem,) = problems(b"b: c\td\n")
    assert problem.startswith("f.yaml:1:5: YAML syntax: tab character where YAML allows none")
    assert problem.endswith("(use spaces, or put the text in quotes)")


def test_non_text_keys_are_refused() -> None:
    assert "a key must be plain text" in problems(b"? [a, b]\n: 1\n")[0]


def test_python_tags_are_never_constructed() -> None:
    assert "could not determine a constructor" in problems(b"a: !!python/name:os.system ''\n")[0]
    assert "unsupported YAML tag" in problems(b"a: !!python/object/apply:os.system [ls]\n")[0]
    assert "unsupported YAML tag" in problems(b"a: !!python/object:os.system {}\n")[0]


def test_file_over_the_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_FILE_BYTES)
    with pytest.raises(ManifestError) as raised:
        read_yaml_file(big, "big.yaml")
    assert str(raised.value.diagnostics[0]) == "big.yaml:1:1: file is 1.0 MB, over the 1024 KiB limit"


def test_key_paths_read_like_yaml() -> None:
    assert format_key_path(("spec", "assign", 0, "due")) == "spec.assign[0].due"
    assert format_key_path(()) == ""
