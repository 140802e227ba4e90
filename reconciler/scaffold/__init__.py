"""`enrollctl init`: the files of a new manifest repository, and the JSON Schemas written beside manifests.

The templates are package data (`templates/`), so an installed enrollctl scaffolds without its source tree;
the workflows there are copies of `examples/github-actions/` (a test keeps them identical). Schemas are
written into the repository and the manifests' `# yaml-language-server: $schema=` lines point at them
relatively, so editors find them wherever the repository is cloned or copied. The workflows and the
pre-commit hook name the placeholder `your-org/enrollctl@main` until `init --action OWNER/NAME@REF` names the
enrollctl repository (or fork) and ref to use.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.manifest.schema import SCHEMA_FILES, schema_text

SCHEMA_DIR = "schemas"
PLACEHOLDER_ACTION = "your-org/enrollctl@main"
_ACTION = re.compile(r"(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+)@(?P<ref>[A-Za-z0-9._/-]+)")
WORKFLOWS = ("plan-on-pull-request.yml", "apply-on-merge.yml", "drift-check.yml")
_TEMPLATES = {
    "enrollctl.yaml": "enrollctl.yaml",
    "policies/security-awareness.yaml": "policies/security-awareness.yaml",
    "sandbox.yaml": "sandbox.yaml",
    # stored without their dot, so the enrollctl repository itself never obeys or hides them
    ".gitignore": "gitignore",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    **{f".github/workflows/{name}": f"workflows/{name}" for name in WORKFLOWS},
}


def template_text(name: str) -> str:
    """The text of one template file, by its path under `templates/`."""
    resource = resources.files("reconciler.scaffold").joinpath("templates", *name.split("/"))
    return resource.read_text(encoding="utf-8")


def schema_files(directory: str = SCHEMA_DIR) -> dict[str, str]:
    """Every bundled JSON Schema, by its path under `directory` (`schemas/policy.schema.json`)."""
    return {f"{directory}/{file_name}": schema_text(name) for name, file_name in SCHEMA_FILES.items()}


def repository_files(action: str | None = None) -> dict[str, str]:
    """Every file `init` writes, by its path in the new repository; `action` (OWNER/NAME@REF) pinned in."""
    files = {**{path: template_text(source) for path, source in _TEMPLATES.items()}, **schema_files()}
    return files if action is None else pin_action(files, action)


def pin_action(files: dict[str, str], action: str) -> dict[str, str]:
    """`files` with the workflows' `uses:` and the pre-commit hook's repo and rev set to `action`."""
    match = _ACTION.fullmatch(action)
    if match is None:
        raise UsageError(
            f"--action {action!r} is not OWNER/NAME@REF",
            hint="give the enrollctl repository or fork and a ref, e.g. acme/enrollctl@main or a commit SHA",
        )
    repo, ref = match["repo"], match["ref"]
    placeholder_repo = PLACEHOLDER_ACTION.split("@", 1)[0]
    pinned = dict(files)
    for name in WORKFLOWS:
        path = f".github/workflows/{name}"
        pinned[path] = files[path].replace(f"uses: {PLACEHOLDER_ACTION}", f"uses: {action}")
    hook = files[".pre-commit-config.yaml"].replace(f"github.com/{placeholder_repo} ", f"github.com/{repo} ")
    pinned[".pre-commit-config.yaml"] = hook.replace("rev: main ", f"rev: {ref} ", 1)
    return pinned


def write_files(target: Path, files: dict[str, str], *, force: bool) -> list[Path]:
    """Write `files` under `target`; without `force`, refuse all of them if any exists (naming those)."""
    existing = sorted(path for path in files if (target / path).exists())
    if existing and not force:
        raise UsageError(
            f"{len(existing)} file(s) exist already in {target}: {', '.join(existing)}",
            hint="pass --force to overwrite them",
        )
    written: list[Path] = []
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")  # LF on every system, as git keeps them
        written.append(path)
    return written


def write_schemas(directory: Path, names: tuple[str, ...] = tuple(SCHEMA_FILES)) -> list[Path]:
    """Write the named bundled schemas (default: all) into `directory`, replacing older copies."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = directory / SCHEMA_FILES[name]
        path.write_text(schema_text(name), encoding="utf-8", newline="\n")
        written.append(path)
    return written
