"""The HTML status report in a real browser: headless Chromium renders it with no console errors and no
fetches, a screenshot is kept, and every number on the page is the JSON format's.

The browser is the first of BROWSERS on PATH, or the program $ENROLLCTL_CHROMIUM names (macOS and Windows
keep Chrome off PATH). Without one the browser tests are skipped, and the skip says the report was not
opened in a browser: `.ci/run` does not install one (Debian's chromium takes about a minute to install;
`apt-get install chromium` where you want these tests). GitHub's ubuntu runners come with google-chrome,
and the CI workflow sets $ENROLLCTL_REQUIRE_BROWSER there, so a missing browser fails the run instead of
skipping. The screenshot goes to $ENROLLCTL_TEST_ARTIFACTS when set (the CI workflow uploads that folder),
else to the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import html

from tests.support.e2e import copy_example, enrollctl

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_VARIABLE = "ENROLLCTL_CHROMIUM"  # a browser program (path or name) where none of BROWSERS is on PATH
REQUIRE_VARIABLE = "ENROLLCTL_REQUIRE_BROWSER"  # set where a browser must be found: fail instead of skipping


def find_browser(env: dict[str, str], which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The browser program to run: $ENROLLCTL_CHROMIUM when set (and found), else the first of BROWSERS."""
    named = env.get(BROWSER_VARIABLE, "").strip()
    if named:
        return which(named) or (named if Path(named).is_file() else None)
    return next((found for name in BROWSERS if (found := which(name))), None)


BROWSER = find_browser(dict(os.environ))
NOT_CHECKED = (
    "the HTML report was NOT opened in a browser in this run: "
    + (
        f"{BROWSER_VARIABLE}={os.environ.get(BROWSER_VARIABLE)!r} is not a program here"
        if os.environ.get(BROWSER_VARIABLE, "").strip()
        else f"none of {', '.join(BROWSERS)} is on PATH and {BROWSER_VARIABLE} is not set"
    )
    + " (apt-get install chromium, or point ENROLLCTL_CHROMIUM at Chrome or Chromium)"
)
NOW = "2026-11-25T12:00:00+00:00"
# what Chromium logs for page problems: console messages, CSP refusals, script errors, failed loads
PAGE_PROBLEMS = re.compile(r"CONSOLE|Refused to|Uncaught|net::ERR_|Failed to load", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser() -> str:
    """The browser, or a skip that says the report went unchecked (a failure where one is required)."""
    if BROWSER is not None:
        return BROWSER
    if os.environ.get(REQUIRE_VARIABLE):
        pytest.fail(f"{REQUIRE_VARIABLE} is set, but {NOT_CHECKED}")
    pytest.skip(NOT_CHECKED)


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr")
    # no background traffic of the browser's own (updates, sync): its failures would read as the page's
    quiet = (
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    )
    return subprocess.run(
        [browser, *flags, *quiet, "--v=0", *args], capture_output=True, text=True, timeout=120, check=False
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
    browser: str, report: tuple[Path, dict], tmp_path: Path
) -> None:
    page, _ = report
    folder = Path(os.environ.get("ENROLLCTL_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "status-report.png"
    result = _chromium(browser, "--window-size=900,1900", f"--screenshot={shot}", page.as_uri())
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


def test_the_console_check_catches_a_page_that_fetches_or_runs_a_script(browser: str, tmp_path: Path) -> None:
    """The check above can fail: the same CSP, a fetch and an inline script, each logged and caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><html><head>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'"></head><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    result = _chromium(browser, f"--screenshot={tmp_path / 'bad.png'}", page.as_uri())
    problems = [line for line in result.stderr.splitlines() if PAGE_PROBLEMS.search(line)]
    assert any("x.png" in line for line in problems), result.stderr[-2000:]
    assert any("inline" in line.lower() or "boom" in line for line in problems), result.stderr[-2000:]


def test_the_browser_is_found_on_path_or_where_the_variable_points(tmp_path: Path) -> None:
    program = tmp_path / "chrome"
    program.write_text("", encoding="utf-8")
    on_path = {"google-chrome": "/usr/bin/google-chrome"}
    assert find_browser({}, on_path.get) == "/usr/bin/google-chrome"
    assert find_browser({BROWSER_VARIABLE: str(program)}, on_path.get) == str(program)
    assert find_browser({BROWSER_VARIABLE: str(tmp_path / "missing")}, on_path.get) is None
    assert find_browser({}, {}.get) is None


def test_every_number_on_the_rendered_page_is_the_jsons(browser: str, report: tuple[Path, dict]) -> None:
    page, data = report
    result = _chromium(browser, "--dump-dom", page.as_uri())
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
