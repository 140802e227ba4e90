"""Saved plan files: atomic save, faithful load, and a clear PlanError for every kind of bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import PlanError
from reconciler.planfile.codec import plan_to_dict
from reconciler.planfile.file import load_plan, manifest_digest, save_plan, validate_plan_data
from reconciler.render.json import render_json
from tests.support import render_builders as b


def saved(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_saved_plan_loads_back_equal(tmp_path: Path) -> None:
    plan = b.kept_identity_plan()
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert load_plan(path) == plan
    assert path.read_text(encoding="utf-8") == render_json(plan)


def test_save_replaces_an_existing_plan_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    save_plan(b.small_mixed_plan(), path)
    save_plan(b.empty_plan(), path)
    assert load_plan(path) == b.empty_plan()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_plan_over_the_cap_is_not_written_and_the_old_file_stays(tmp_path: Path) -> None:
    """What `load_plan` would refuse is never written: the same cap on both sides."""
    path = tmp_path / "plan.json"
    save_plan(b.empty_plan(), path)
    size = len(render_json(b.small_mixed_plan()).encode())
    with pytest.raises(PlanError, match=rf"the plan is {size:,} bytes, over the {size - 1:,}"):
        save_plan(b.small_mixed_plan(), path, max_bytes=size - 1)
    assert load_plan(path) == b.empty_plan()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
    save_plan(b.small_mixed_plan(), path, max_bytes=size)  # exactly at the cap: written, and read back
    assert load_plan(path, max_bytes=size) == b.small_mixed_plan()


def test_save_into_a_missing_directory_fails_without_leaving_anything(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"cannot write plan file .*missing/plan\.json"):
        save_plan(b.empty_plan(), tmp_path / "missing" / "plan.json")
    assert list(tmp_path.iterdir()) == []


def test_save_onto_a_directory_fails_and_cleans_up(tmp_path: Path) -> None:
    (tmp_path / "plan.json").mkdir()
    with pytest.raises(PlanError, match="cannot write plan file"):
        save_plan(b.empty_plan(), tmp_path / "plan.json")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"cannot read plan file .*nope\.json"):
        load_plan(tmp_path / "nope.json")


def test_truncated_file_says_it_is_truncated(tmp_path: Path) -> None:
    text = render_json(b.small_mixed_plan())
    for cut in (len(text) // 2, len(text) // 3, len(text) - 3, 40):
        with pytest.raises(
            PlanError, match=r"plan\.json is not a usable plan file: it is truncated at line"
        ) as error:
            load_plan(saved(tmp_path, text[:cut]))
        assert "enrollctl plan --out" in str(error.value)


def test_not_json_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"not valid JSON .* line 1 column 1"):
        load_plan(saved(tmp_path, "Plan: 1 to add, 0 to change\n"))


def test_empty_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="is empty"):
        load_plan(saved(tmp_path, "\n"))


def test_binary_file_is_a_plan_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PlanError, match="not UTF-8"):
        load_plan(path)


def test_json_that_is_not_an_object_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="expected a JSON object, got list"):
        load_plan(saved(tmp_path, "[1, 2]"))


def test_wrong_format_version_names_the_supported_versions(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["format_version"] = 2
    with pytest.raises(PlanError, match=r"format_version 2; this enrollctl reads format_version 1"):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_missing_format_version_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="no format_version"):
        load_plan(saved(tmp_path, '{"providers": []}'))


def test_tampered_enum_names_the_field(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["providers"][0]["actions"][2]["kind"] = "delete-everything"
    with pytest.raises(
        PlanError, match=r"providers\[0\]\.actions\[2\]\.kind: 'delete-everything' is not one of"
    ):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["providers"][0]["secret"] = "x"
    with pytest.raises(PlanError, match=r"providers\[0\]: Additional properties are not allowed \('secret'"):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_missing_field_is_refused(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    del data["providers"][0]["actions"][0]["before"]
    with pytest.raises(PlanError, match=r"providers\[0\]\.actions\[0\]: 'before' is a required property"):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_edited_user_id_no_longer_matches_the_action_id(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["providers"][0]["actions"][0]["user_id"] = "u-mallory"
    with pytest.raises(PlanError, match=r"plan\.json: providers\[0\]\.actions\[0\]\.id: .* does not match"):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_bad_date_is_refused(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["created_at"] = "yesterday"
    with pytest.raises(PlanError, match=r"created_at: 'yesterday' does not match"):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_impossible_date_is_refused(tmp_path: Path) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["providers"][0]["actions"][0]["terms"]["due"]["date"] = "2026-13-45"
    with pytest.raises(PlanError, match="'2026-13-45' is not a valid date"):
        load_plan(saved(tmp_path, json.dumps(data)))


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = saved(tmp_path, render_json(b.small_mixed_plan()))
    with pytest.raises(PlanError, match="larger than 1,000 bytes"):
        load_plan(path, max_bytes=1_000)


def test_validate_plan_data_accepts_a_rendered_plan() -> None:
    validate_plan_data(plan_to_dict(b.kept_identity_plan()))


def test_manifest_digest_ignores_order_but_not_paths_or_contents() -> None:
    files = {"enrollctl.yaml": b"version: 1\n", "policies/a.yaml": b"kind: Policy\n"}
    digest = manifest_digest(files)
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert manifest_digest(dict(reversed(list(files.items())))) == digest
    assert manifest_digest({**files, "policies/a.yaml": b"kind: Policy \n"}) != digest
    assert (
        manifest_digest({"enrollctl.yaml": b"version: 1\n", "policies/b.yaml": b"kind: Policy\n"}) != digest
    )
    assert manifest_digest({**files, "policies/empty.yaml": b""}) != digest


def test_manifest_digest_cannot_be_fooled_by_moving_bytes_between_path_and_content() -> None:
    assert manifest_digest({"ab": b"c"}) != manifest_digest({"a": b"bc"})


def test_manifest_digest_is_the_same_for_windows_paths() -> None:
    assert manifest_digest({"policies\\a.yaml": b"x"}) == manifest_digest({"policies/a.yaml": b"x"})


def test_a_plan_written_in_slices_is_byte_for_byte_its_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.planfile import file

    monkeypatch.setattr(file, "WRITE_SLICE", 7)
    plan = b.kept_identity_plan()
    save_plan(plan, tmp_path / "plan.json")
    assert (tmp_path / "plan.json").read_bytes() == render_json(plan).encode("utf-8")
