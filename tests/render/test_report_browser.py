"""The HTML status report in a real browser: headless Chromium renders it with no console errors and no
fetches, a screenshot is kept, and every number on the page is the JSON format's.

Skipped, with the reason, where no Chromium binary is installed (`apt-get install -y chromium`). The
screenshot goes to $ENROLLCTL_TEST_ARTIFACTS when set (CI uploads that folder), else to the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html

from tests.support.e2e import copy_example, enrollctl

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason=f"no Chromium binary on PATH (looked for {', '.join(BROWSERS)})"
)
NOW = "2026-11-25T12:00:00+00:00"
# what Chromium logs for page problems: console messages, CSP refusals, script errors, failed loads
PAGE_PROBLEMS = re.compile(r"CONSOLE|Refused to|Uncaught|net::ERR_|Failed to load", re.IGNORECASE)


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr")
    return subprocess.run(
        [BROWSER, *flags, "--v=0", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = copy_example("compliance", tmp_path_factory.mktemp("report") / "compliance")
    page = root / "status.html"
    made = enrollctl(
        root, "status", "--format", "html", "--people", "--out", str(page), env={"ENROLLCTL_NOW": NOW}
    )
    assert made.exit_code == 0, made.output
    listed = enrollctl(root, "status", "--format", "json", env={"ENROLLCTL_NOW": NOW})
    assert listed.exit_code == 0, listed.output
    return page, json.loads(listed.stdout)


def test_the_page_renders_without_console_errors_and_a_screenshot_is_kept(
    report: tuple[Path, dict], tmp_path: Path
) -> None:
    page, _ = report
    folder = Path(os.environ.get("ENROLLCTL_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "status-report.png"
    result = _chromium("--window-size=900,1900", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # charts and tables, not a blank page
    problems = [line for line in result.stderr.splitlines() if PAGE_PROBLEMS.search(line)]
    assert problems == [], problems


def test_the_page_fetches_nothing_and_runs_no_script(report: tuple[Path, dict]) -> None:
    text = report[0].read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert not re.search(r"""\b(?:src|href)\s*=|url\(|@import""", text, re.IGNORECASE)
    assert "default-src 'none'" in text  # the browser refuses (and logs) any fetch


def test_every_number_on_the_rendered_page_is_the_jsons(report: tuple[Path, dict]) -> None:
    page, data = report
    result = _chromium("--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = html.fromstring(result.stdout)
    items = {(p["name"], i["id"]): i["counts"] for p in data["policies"] for i in p["items"]}
    cells = dom.xpath("//td[@data-key]")
    assert cells
    for cell in cells:
        expected = items[(cell.get("data-policy"), cell.get("data-item"))][cell.get("data-key")]
        assert int(cell.text_content()) == expected, (cell.get("data-policy"), cell.get("data-key"))
    assert {(c.get("data-policy"), c.get("data-item")) for c in cells} == set(items)
    for total in dom.xpath("//*[@data-total]"):
        assert int(total.text_content()) == data["totals"][total.get("data-total")], total.get("data-total")
    assert len(dom.xpath("//svg")) == 3  # completion, overdue by department, due-date timeline
