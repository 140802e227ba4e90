"""The bad-input corpus: every broken repository under tests/data/bad/ fails with exactly the expected,
positioned diagnostics.

Each case is a directory broken in one way, with `expected.txt` listing one `file:line: fragment` per
diagnostic it must produce. A case fails if a diagnostic lacks its line, if one is missing, or if the
loader reports anything else.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.load import load_repository
from tests.support.paths import TESTS

BAD = TESTS / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir())
HUGE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Expected:
    file: str
    line: int
    fragment: str

    @classmethod
    def parse(cls, text: str) -> Expected:
        file, line, fragment = text.split(":", 2)
        return cls(file, int(line), fragment.strip())


def expected_of(case: str) -> list[Expected]:
    lines = (BAD / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [Expected.parse(line) for line in lines if line.strip()]


def materialize(case: str, tmp_path: Path) -> Path:
    """A copy of the case, with files too big to commit written now."""
    target = tmp_path / case
    shutil.copytree(BAD / case, target)
    if case == "huge-file":
        policy = (
            BAD.parent.parent.parent / "examples" / "quickstart" / "policies" / "onboarding.yaml"
        ).read_text()
        padding = "# " + "x" * 1000 + "\n"
        with (target / "policies" / "security.yaml").open("w", encoding="utf-8") as stream:
            stream.write(policy)
            stream.write(padding * (HUGE_BYTES // len(padding) + 1))
    return target


def diagnostics_for(root: Path) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        load_repository(str(root))
    return [str(d) for d in raised.value.diagnostics]


def test_corpus_has_a_case_for_each_kind_of_breakage() -> None:
    assert len(CASES) >= 32
    assert all((BAD / case / "expected.txt").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES)
def test_bad_repository_reports_expected_positioned_diagnostics(case: str, tmp_path: Path) -> None:
    root = materialize(case, tmp_path)
    with pytest.raises(ManifestError) as raised:
        load_repository(str(root))
    diagnostics = raised.value.diagnostics
    expected = expected_of(case)
    shown = "\n".join(str(d) for d in diagnostics)
    assert all(d.position.line >= 1 for d in diagnostics), f"a diagnostic lacks its line:\n{shown}"
    assert len(diagnostics) == len(expected), f"expected {len(expected)} diagnostics, got:\n{shown}"
    for want in expected:
        assert any(
            d.position.file == want.file and d.position.line == want.line and want.fragment in str(d)
            for d in diagnostics
        ), f"no diagnostic {want.file}:{want.line}: {want.fragment!r} in:\n{shown}"


def test_diagnostics_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    shown = diagnostics_for(materialize("unknown-policy-key", tmp_path))
    assert shown[0].startswith("policies/security.yaml:5:")
    assert shown[1].startswith("policies/security.yaml:6:")


def test_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    root = materialize("huge-file", tmp_path)
    assert (root / "policies" / "security.yaml").stat().st_size > HUGE_BYTES
    assert "5.2 MB, over the 1024 KiB limit" in diagnostics_for(root)[0]
