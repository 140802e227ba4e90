"""Manifest discovery fails closed: a path under `policies:` that cannot be read is an error, never skipped.

A skipped policy file reads as "nobody wants these enrollments any more", and prune would delete training
records. So an unreadable directory or file, a FIFO, socket or device, a broken symlink and a symlink loop
each stop `validate` and `plan` with exit 1 and a message naming the path; only regular files are opened
(a FIFO must not block). Permissions are tested for real: as root, in a child process that has dropped
the capabilities that let root read anything (`setpriv`), since chmod alone does not stop root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.load import load_manifest_repository, load_repository
from tests.support.paths import ROOT

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="FIFOs, sockets, POSIX permissions and symlinks without privileges"
)

QUICKSTART = ROOT / "examples" / "quickstart"
QUICKSTART_FILES = (
    "policies/anti-bribery.yaml",
    "policies/onboarding.yaml",
    "policies/role-training.yaml",
    "policies/security-awareness.yaml",
)
OPS_POLICY = """\
apiVersion: enrollctl/v1
kind: Policy
metadata:
  name: ops-only
spec:
  targets:
    everyone: true
  assign:
    - course: Anti-Bribery
"""
TIMEOUT = 60  # seconds; a FIFO that is opened blocks forever, so a hang must fail, not stall the suite


def quickstart(tmp_path: Path, policies: str = "[policies]") -> Path:
    root = tmp_path / "repo"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".enrollctl"))
    config = root / "enrollctl.yaml"
    config.write_text(config.read_text().replace("policies: [policies]", f"policies: {policies}"))
    return root


def enrollctl(root: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, so a blocking open fails this test by timeout instead of hanging."""
    env = {**os.environ, "ENROLLCTL_NOW": "2026-11-25T12:00:00+00:00", "NO_COLOR": "1"}
    command = [*prefix, sys.executable, "-m", "reconciler", "-C", str(root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)


def diagnostics(root: Path) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        load_repository(str(root))
    return [str(d) for d in raised.value.diagnostics]


def assert_refused(root: Path, *fragments: str, prefix: tuple[str, ...] = ()) -> None:
    """validate and plan both exit 1 naming the problem; plan --out writes nothing."""
    out = root.parent / "plan.json"
    for args in (("validate", "--offline"), ("plan", "--out", str(out))):
        result = enrollctl(root, *args, prefix=prefix)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert "OK:" not in result.stdout
        for fragment in fragments:
            assert fragment in result.stderr, result.stderr
    assert not out.exists()


# --- what is found, and the count exposed to the plan --------------------------------------------------


def test_policy_files_lists_every_file_read_once(tmp_path: Path) -> None:
    root = quickstart(tmp_path, "[policies, policies/onboarding.yaml, 'policies/*.yaml']")
    repository = load_manifest_repository(str(root))
    assert repository.policy_files == QUICKSTART_FILES
    assert len(repository.policies) == 5


def test_validate_counts_every_policy_file(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    (root / "policies" / "ops").mkdir()
    (root / "policies" / "ops" / "ops.yaml").write_text(OPS_POLICY)
    result = enrollctl(root, "validate", "--offline")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "OK: 6 policies in 5 files, 1 provider\n"


def test_a_symlinked_policy_directory_is_followed(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    elsewhere = tmp_path / "shared-policies"
    elsewhere.mkdir()
    (elsewhere / "ops.yaml").write_text(OPS_POLICY)
    (root / "policies" / "shared").symlink_to(elsewhere, target_is_directory=True)
    repository = load_manifest_repository(str(root))
    assert "policies/shared/ops.yaml" in repository.policy_files
    assert "ops-only" in {p.name for p in repository.policies}


# --- paths that are not regular files ------------------------------------------------------------------


def test_a_fifo_named_like_a_policy_is_refused_without_opening_it(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    os.mkfifo(root / "policies" / "x.yaml")
    assert_refused(root, "policies/x.yaml:1:1: is a FIFO (named pipe), not a regular file")


def test_a_fifo_matched_by_a_glob_or_named_directly_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path, "['policies/**/*.yaml', policies/deep/x.yaml]")
    (root / "policies" / "deep").mkdir()
    os.mkfifo(root / "policies" / "deep" / "x.yaml")
    assert diagnostics(root) == [
        "policies/deep/x.yaml:1:1: is a FIFO (named pipe), not a regular file; "
        "only regular files are read as manifests"
    ]


def test_a_device_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    (root / "policies" / "null.yaml").symlink_to("/dev/null")
    assert diagnostics(root) == [
        "policies/null.yaml:1:1: is a character device, not a regular file; "
        "only regular files are read as manifests"
    ]


def test_a_socket_named_like_a_policy_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    path = root / "policies" / "s.yaml"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
    except OSError as error:  # AF_UNIX paths are limited to ~108 bytes
        pytest.skip(f"cannot bind a socket under tmp_path: {error}")
    with server:
        assert diagnostics(root) == [
            "policies/s.yaml:1:1: is a socket, not a regular file; only regular files are read as manifests"
        ]


def test_enrollctl_yaml_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "enrollctl.yaml").mkdir(parents=True)
    assert diagnostics(root) == [
        "enrollctl.yaml:1:1: is a directory, not a regular file; only regular files are read as manifests"
    ]


def test_a_sandbox_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    (root / "sandbox.yaml").unlink()
    os.mkfifo(root / "sandbox.yaml")
    shown = diagnostics(root)
    assert len(shown) == 1 and "providers.lms.sandbox: sandbox file 'sandbox.yaml' is a FIFO" in shown[0]


# --- symlinks that lead nowhere or in circles ----------------------------------------------------------


def test_a_broken_symlink_policy_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    (root / "policies" / "gone.yaml").symlink_to("moved-away.yaml")
    assert_refused(root, "policies/gone.yaml:1:1: is a broken symlink (its target 'moved-away.yaml'")


def test_a_broken_symlink_that_might_be_a_directory_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    (root / "policies" / "ops").symlink_to("../ops-policies", target_is_directory=True)
    assert diagnostics(root) == [
        "enrollctl.yaml:8:12: policies: policies/ops: is a broken symlink "
        "(its target '../ops-policies' does not exist)"
    ]


def test_a_self_referencing_symlink_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    (root / "policies" / "loop.yaml").symlink_to("loop.yaml")
    (root / "policies" / "loop").symlink_to("loop")
    assert_refused(
        root,
        "policies/loop.yaml:1:1: is a symlink loop",
        "enrollctl.yaml:8:12: policies: policies/loop: is a symlink loop",
    )


@pytest.mark.parametrize("entry", ["[policies]", "['policies/**/*.yaml']", "['policies/**']"])
def test_a_directory_symlink_loop_is_reported_once_not_walked_forever(tmp_path: Path, entry: str) -> None:
    root = quickstart(tmp_path, entry)
    (root / "policies" / "sub").mkdir()
    (root / "policies" / "sub" / "up").symlink_to("..", target_is_directory=True)
    assert diagnostics(root) == [
        "enrollctl.yaml:8:12: policies: policies/sub/up: symlink loop (leads back to policies) "
        "(remove the link or point it outside the directories it is in)"
    ]


def test_the_policies_entry_itself_as_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    shutil.rmtree(root / "policies")
    (root / "policies").symlink_to("policies")
    assert diagnostics(root) == ["enrollctl.yaml:8:12: policies: policies: is a symlink loop"]


def test_a_nul_byte_in_a_policies_entry_is_a_diagnostic(tmp_path: Path) -> None:
    root = quickstart(tmp_path, '["pol\\0icies", "pol\\0*.yaml"]')
    shown = diagnostics(root)
    assert len(shown) == 2 and all(line.startswith("enrollctl.yaml:8:") for line in shown), shown


# --- permissions, for real -----------------------------------------------------------------------------


def _unprivileged(tmp_path: Path) -> tuple[str, ...] | None:
    """A command prefix under which chmod 000 denies reading; None when this machine has none."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        check = [*prefix, sys.executable, "-c", f"open({str(probe)!r}).read()"]
        denied = subprocess.run(check, capture_output=True, timeout=TIMEOUT, check=False).returncode != 0
    except OSError:
        denied = False
    finally:
        probe.chmod(0o600)
    return prefix if denied else None


@pytest.fixture
def unprivileged(tmp_path: Path) -> tuple[str, ...]:
    prefix = _unprivileged(tmp_path)
    if prefix is None:
        pytest.skip("running as root without setpriv able to drop CAP_DAC_OVERRIDE: chmod cannot deny reads")
    return prefix


def _with_mode(path: Path, mode: int) -> Callable[[], None]:
    path.chmod(mode)
    return lambda: path.chmod(0o755 if path.is_dir() else 0o644)


def test_an_unreadable_policy_directory_is_an_error_not_an_empty_one(
    tmp_path: Path, unprivileged: tuple[str, ...]
) -> None:
    root = quickstart(tmp_path)
    (root / "policies" / "ops").mkdir()
    (root / "policies" / "ops" / "ops.yaml").write_text(OPS_POLICY)
    restore = _with_mode(root / "policies" / "ops", 0)
    try:
        assert_refused(
            root,
            "enrollctl.yaml:8:12: policies: policies/ops: cannot list directory: permission denied",
            prefix=unprivileged,
        )
    finally:
        restore()


def test_an_unreadable_policy_file_is_an_error(tmp_path: Path, unprivileged: tuple[str, ...]) -> None:
    root = quickstart(tmp_path)
    restore = _with_mode(root / "policies" / "onboarding.yaml", 0)
    try:
        assert_refused(
            root, "policies/onboarding.yaml:1:1: cannot read file: permission denied", prefix=unprivileged
        )
    finally:
        restore()


def test_a_directory_that_cannot_be_searched_under_a_glob_is_an_error(
    tmp_path: Path, unprivileged: tuple[str, ...]
) -> None:
    root = quickstart(tmp_path, "['policies/**/*.yaml']")
    (root / "policies" / "ops").mkdir()
    restore = _with_mode(root / "policies" / "ops", 0)
    try:
        assert_refused(root, "policies/ops: cannot list directory: permission denied", prefix=unprivileged)
    finally:
        restore()
