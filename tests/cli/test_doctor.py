"""`enrollctl doctor` on the command line: one line per call, a verdict, exit 0 only when all is ready."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconciler.sandbox.serve import SANDBOX_CREDENTIALS
from tests.support.e2e import enrollctl

ISPRING = SANDBOX_CREDENTIALS["ispring"]


def _name_credentials(root: Path) -> None:
    config = root / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    sandbox: sandbox.yaml",
            "    sandbox: sandbox.yaml\n    client_id_env: DOCTOR_ID\n    client_secret_env: DOCTOR_SECRET",
        )
    )


def test_doctor_on_the_quickstart_prints_a_line_per_call_and_a_ready_verdict(quickstart: Path) -> None:
    result = enrollctl(quickstart, "doctor")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "lms (ispring, rest) http://sandbox.ispring.invalid"
    calls = [line.split()[1:3] for line in lines[1:] if line.startswith("  ok ")]
    assert [c[0] for c in calls] == ["POST", "GET", "GET", "GET", "GET", "GET", "GET"]
    assert sum(1 for line in lines if line.startswith("  not probed ")) == 4  # + REST's reenroll
    assert "  scope: the whole account" in lines
    assert (
        lines[-1]
        == "Verdict: ready: every read plan and apply need works; 4 writes not probed (doctor is read-only)."
    )


def test_doctor_json_carries_every_check_and_the_verdict(quickstart: Path) -> None:
    result = enrollctl(quickstart, "doctor", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format_version"] == 1 and report["ready"] is True
    (provider,) = report["providers"]
    assert provider["api"] == "rest" and provider["scope"]["limited"] is False
    verdicts = {c["call"]: c["verdict"] for c in provider["checks"]}
    assert verdicts["GET /users"] == "ok" and verdicts["POST /enrollment/delete"] == "not probed"
    assert all(isinstance(c["ms"], float) for c in provider["checks"] if c["verdict"] == "ok")


def test_refused_credentials_exit_1_with_the_vendors_message(quickstart: Path) -> None:
    _name_credentials(quickstart)
    result = enrollctl(
        quickstart, "doctor", env={"DOCTOR_ID": ISPRING["client_id"], "DOCTOR_SECRET": "wrong-secret"}
    )
    assert result.exit_code == 1
    assert re.search(r"refused +POST /api/v3/token +401", result.stdout), result.stdout
    assert "Authorization failed: wrong credentials" in result.stdout
    assert result.stdout.splitlines()[-1].startswith(
        "Verdict: not ready: 1 call that plan or apply need failed"
    )
    assert "wrong-secret" not in result.output


def test_an_injected_html_500_fails_the_doctor(quickstart: Path, tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("error_rates: {ListContent: 1.0}\nhtml_errors: true\n")
    result = enrollctl(quickstart, "doctor", env={"ENROLLCTL_SANDBOX_FAULTS": str(faults)})
    assert result.exit_code == 1
    line = next(x for x in result.stdout.splitlines() if "GET /contents" in x)
    assert line.split()[:4] == ["refused", "GET", "/contents", "500"]
    assert "HTML page '500 Internal Server Error'" in line
    assert "skipped           GET /enrollments" in result.stdout  # nothing left to ask enrollments about


def test_a_broken_config_is_the_usual_config_error(quickstart: Path) -> None:
    config = quickstart / "enrollctl.yaml"
    config.write_text(config.read_text().replace("kind: ispring", "kind: moodle"))
    result = enrollctl(quickstart, "doctor")
    assert result.exit_code == 1
    assert "enrollctl.yaml:" in result.stderr and "Error:" in result.stderr and not result.stdout


def test_an_unset_credential_variable_is_named(quickstart: Path) -> None:
    _name_credentials(quickstart)
    result = enrollctl(quickstart, "doctor")
    assert result.exit_code == 1
    assert "environment variable DOCTOR_ID is not set" in result.stderr


def test_record_writes_the_exchanges_and_says_where(quickstart: Path, tmp_path: Path) -> None:
    record = tmp_path / "doctor-recording"
    result = enrollctl(quickstart, "doctor", "--record", str(record))
    assert result.exit_code == 0, result.output
    files = sorted((record / "lms").glob("*.json"))
    assert f"Recorded {len(files)} exchanges to {record}" in result.stdout
    first = json.loads(files[0].read_text(encoding="utf-8"))
    assert first["request"]["method"] == "POST" and first["response"]["status"] == 200
    assert "client_secret=***" in first["request"]["body"]


def test_an_unknown_provider_is_a_usage_error(quickstart: Path) -> None:
    result = enrollctl(quickstart, "doctor", "--provider", "nope")
    assert result.exit_code == 1
    assert "--provider nope: not in enrollctl.yaml (providers: lms)" in result.stderr
