"""`enrollctl init` scaffolds a repository that validates, converges against its own sandbox, and points
editors at schemas inside itself; examples and exports do the same."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.app import main
from reconciler.manifest.schema import SCHEMA_FILES, schema_text
from reconciler.scaffold import PLACEHOLDER_ACTION, WORKFLOWS, repository_files, template_text
from tests.support.e2e import FIXED_NOW, enrollctl
from tests.support.paths import EXAMPLES, ROOT


def _init(target: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["init", str(target), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _schema_target(path: Path) -> Path | None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    if "$schema=" not in first:
        return None
    return (path.parent / first.split("$schema=", 1)[1].strip()).resolve()


def test_init_validates_offline_and_online(tmp_path: Path) -> None:
    _init(tmp_path / "repo")
    assert enrollctl(tmp_path / "repo", "validate", "--offline").exit_code == 0
    online = enrollctl(tmp_path / "repo", "validate")
    assert online.exit_code == 0, online.output
    assert "OK: 1 policy in 1 file, 1 provider" in online.stdout


def test_init_converges_against_its_own_sandbox(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _init(repo)
    assert enrollctl(repo, "plan", "--detailed-exitcode").exit_code == 2
    assert enrollctl(repo, "apply", "--auto-approve").exit_code == 0
    again = enrollctl(repo, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout


def test_init_writes_the_whole_repository(tmp_path: Path) -> None:
    _init(tmp_path / "repo")
    written = {
        p.relative_to(tmp_path / "repo").as_posix() for p in (tmp_path / "repo").rglob("*") if p.is_file()
    }
    assert written == set(repository_files())
    assert {f".github/workflows/{w}" for w in WORKFLOWS} <= written
    assert ".enrollctl/" in (tmp_path / "repo" / ".gitignore").read_text().splitlines()
    assert "id: enrollctl-validate" in (tmp_path / "repo" / ".pre-commit-config.yaml").read_text()
    config = (tmp_path / "repo" / "enrollctl.yaml").read_text()
    assert "sandbox: sandbox.yaml" in config and "#   client_id_env: ISPRING_CLIENT_ID" in config


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "enrollctl.yaml").write_text("# mine\n")
    result = CliRunner().invoke(main, ["init", str(repo)])
    assert result.exit_code == 1
    assert "enrollctl.yaml" in result.stderr and "--force" in result.stderr
    assert (repo / "enrollctl.yaml").read_text() == "# mine\n"
    assert not (repo / "sandbox.yaml").exists()  # all or nothing
    _init(repo, "--force")
    assert (repo / "enrollctl.yaml").read_text() == template_text("enrollctl.yaml")


def test_schema_lines_resolve_inside_the_repository_wherever_it_is_copied(tmp_path: Path) -> None:
    _init(tmp_path / "repo")
    copy = shutil.copytree(tmp_path / "repo", tmp_path / "elsewhere" / "copy")
    shutil.rmtree(tmp_path / "repo")
    targets = {_schema_target(p) for p in [copy / "enrollctl.yaml", *(copy / "policies").glob("*.yaml")]}
    assert targets == {copy / "schemas/enrollctl.schema.json", copy / "schemas/policy.schema.json"}
    for name, file_name in SCHEMA_FILES.items():
        assert (copy / "schemas" / file_name).read_text() == schema_text(name)


def test_workflow_templates_are_the_examples() -> None:
    for name in WORKFLOWS:
        assert template_text(f"workflows/{name}") == (EXAMPLES / "github-actions" / name).read_text()


@pytest.mark.parametrize("example", ["quickstart", "litmos", "multi"])
def test_example_schema_lines_stay_inside_the_example(example: str) -> None:
    folder = EXAMPLES / example
    for path in [folder / "enrollctl.yaml", *(folder / "policies").rglob("*.yaml")]:
        target = _schema_target(path)
        assert target is not None and target.is_file(), path
        assert target.is_relative_to(folder.resolve()), f"{path} points outside {folder}: {target}"
        assert target.read_text() == schema_text(target.name.removesuffix(".schema.json")), (
            f"refresh with `enrollctl schema --write examples/{example}/schemas`"
        )


def test_schema_write_puts_every_schema_in_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", "--write", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(SCHEMA_FILES.values())
    one = CliRunner().invoke(main, ["schema", "policy", "--write", str(tmp_path / "p")])
    assert one.exit_code == 0 and [p.name for p in (tmp_path / "p").iterdir()] == ["policy.schema.json"]
    assert CliRunner().invoke(main, ["schema"]).exit_code == 1


def test_export_points_at_schemas_it_writes_beside(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _init(repo)
    shutil.rmtree(repo / "schemas")
    assert enrollctl(repo, "apply", "--auto-approve").exit_code == 0
    result = enrollctl(repo, "export")
    assert result.exit_code == 0, result.output
    exported = sorted((repo / "policies" / "exported").glob("*.yaml"))
    assert exported
    for path in exported:
        assert _schema_target(path) == repo / "schemas" / "policy.schema.json"
        assert "enrollctl.dev" not in path.read_text()
    assert (repo / "schemas" / "policy.schema.json").is_file()


def test_init_demo_then_plan_in_a_real_process(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "reconciler"]
    env = {**os.environ, "ENROLLCTL_NOW": FIXED_NOW}
    created = subprocess.run([*cli, "init", "demo"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    planned = subprocess.run(
        [*cli, "-C", "demo", "plan"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert planned.returncode == 0, planned.stderr
    assert "Policy security-awareness" in planned.stdout


def _enrollctl_uses(repo: Path) -> set[str]:
    return {
        step["uses"]
        for name in WORKFLOWS
        for job in yaml.safe_load((repo / ".github/workflows" / name).read_text(encoding="utf-8"))[
            "jobs"
        ].values()
        for step in job["steps"]
        if "enrollctl" in step.get("uses", "")
    }


def test_init_action_pins_the_workflows_and_the_pre_commit_hook(tmp_path: Path) -> None:
    output = _init(tmp_path / "repo", "--action", "acme/enrollctl@0f1e2d3c")
    assert _enrollctl_uses(tmp_path / "repo") == {"acme/enrollctl@0f1e2d3c"}
    (hook,) = yaml.safe_load((tmp_path / "repo/.pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"]
    assert (hook["repo"], hook["rev"]) == ("https://github.com/acme/enrollctl", "0f1e2d3c")
    assert "placeholder" not in output


def test_init_without_action_names_the_placeholder_and_how_to_replace_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "repo")])
    assert result.exit_code == 0, result.output
    assert _enrollctl_uses(tmp_path / "repo") == {PLACEHOLDER_ACTION}
    assert (
        f"placeholder `{PLACEHOLDER_ACTION}`" in result.stderr and "--action OWNER/NAME@REF" in result.stderr
    )


@pytest.mark.parametrize("action", ["acme/enrollctl", "enrollctl@main", "acme/enrollctl@", "a b/c@d"])
def test_init_refuses_a_malformed_action_and_writes_nothing(tmp_path: Path, action: str) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "repo"), "--action", action])
    assert result.exit_code == 1
    assert f"--action {action!r} is not OWNER/NAME@REF" in result.stderr
    assert not (tmp_path / "repo").exists()


def _readme_start_your_own_commands() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## GitOps setup in five minutes\n") :]
    block = section[
        section.index("```sh\n") + len("```sh\n") : section.index("```\n", section.index("```sh"))
    ]
    return textwrap.dedent(block)


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("git") is None, reason="needs bash and git")
def test_the_readme_start_your_own_commands_run_as_written(tmp_path: Path) -> None:
    script = _readme_start_your_own_commands()
    assert script.startswith("enrollctl init ") and "<" not in script and "sed " not in script
    scripts = str(Path(sys.executable).parent)  # the enrollctl command of this environment
    env = {**os.environ, "ENROLLCTL_NOW": FIXED_NOW, "PATH": os.pathsep.join([scripts, os.environ["PATH"]])}
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.splitlines()[-1].startswith("No changes.")
    assert _enrollctl_uses(tmp_path / "training-policies") == {"acme/enrollctl@main"}


def test_init_names_the_directory_it_wrote_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # run in the directory itself, "in ." followed by a full stop read as "in .."
    monkeypatch.chdir(tmp_path)
    output = _init(Path("."))
    assert f"files in {tmp_path.resolve()}\n" in output
