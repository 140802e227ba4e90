"""Load a manifest repository: enrollctl.yaml and its Policy files → validated, frozen Config and Policies.

Every problem in every file is collected and raised together as one `ManifestError`, each diagnostic at
`file:line:col` with the file relative to the repository root. The pieces: `yamlpos` reads YAML with
positions, `manifest_schema` applies the JSON Schemas, `manifest_build` checks the rest and builds the model.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.core.model import Config, Policy
from reconciler.errors import DiagnosticSink, ManifestError, Position
from reconciler.manifest.build import (
    DEFAULT_POLICIES,
    build_config,
    build_policy,
    check_policy,
    check_policy_names,
    resolve_provider,
)
from reconciler.manifest.schema import check_document
from reconciler.manifest.scope import check_offline
from reconciler.manifest.yamlpos import YamlDocument, format_key_path, parse_yaml, read_yaml_file

CONFIG_FILE = "enrollctl.yaml"
POLICY_SUFFIXES = (".yaml", ".yml")
_GLOB_CHARS = frozenset("*?[")


def load_config(root: str) -> Config:
    """Read and validate `enrollctl.yaml` in `root`; raise ManifestError listing every problem."""
    sink = DiagnosticSink()
    config, _ = _load_config(Path(root), sink)
    sink.raise_if_any()
    assert config is not None  # no diagnostics means the config was built
    return config


def load_repository(root: str) -> tuple[Config, tuple[Policy, ...]]:
    """Read and validate enrollctl.yaml and every Policy it names; raise ManifestError listing every problem.

    A policy that omits `spec.provider` gets the repository's only provider filled in.
    """
    base = Path(root)
    sink = DiagnosticSink()
    config, config_doc = _load_config(base, sink)
    raw = config_doc.data if config_doc is not None and isinstance(config_doc.data, dict) else {}
    providers = raw.get("providers") if isinstance(raw.get("providers"), dict) else None
    entries = _policy_entries(config_doc)
    skip = _non_policy_files(base, raw)
    documents = [
        doc
        for path, display in _policy_files(base, entries, skip, sink)
        for doc in _read(path, display, sink)
    ]
    policies = _policies(documents, providers, sink)
    if config is not None:
        sink.items.extend(check_offline(config.scopes, policies))
    sink.raise_if_any()
    assert config is not None
    return config, policies


def parse_policies(
    data: bytes, file: str = "policy.yaml", providers: Mapping[str, Any] | None = None
) -> tuple[Policy, ...]:
    """Parse and validate the Policy documents of one file's bytes (no disk); raise ManifestError."""
    sink = DiagnosticSink()
    try:
        documents = list(parse_yaml(data, file))
    except ManifestError as error:
        sink.items.extend(error.diagnostics)
        documents = []
    policies = _policies(documents, providers, sink)
    sink.raise_if_any()
    return policies


# --- enrollctl.yaml ------------------------------------------------------------------------------------


def _load_config(base: Path, sink: DiagnosticSink) -> tuple[Config | None, YamlDocument | None]:
    path = base / CONFIG_FILE
    if not path.is_file():
        hint = "run enrollctl in the repository root or pass -C DIR"
        if (base / "enrollctl.yml").is_file():
            hint = "rename enrollctl.yml to enrollctl.yaml"
        sink.add(Position(CONFIG_FILE), "", f"not found in {base.resolve()}", hint)
        return None, None
    documents = _read(path, CONFIG_FILE, sink)
    if not documents:
        return None, None
    if len(documents) > 1:
        sink.add(documents[1].start, "", "enrollctl.yaml holds one document; found another here")
    document = documents[0]
    before = len(sink.items)
    if check_document("enrollctl", document, sink):
        _check_sandbox_files(base, document, sink)
    if len(sink.items) > before:
        return None, document
    return build_config(document, str(base)), document


def _check_sandbox_files(base: Path, document: YamlDocument, sink: DiagnosticSink) -> None:
    for name, provider in document.data["providers"].items():
        sandbox = provider.get("sandbox")
        if sandbox is not None and not (base / sandbox).is_file():
            path = ("providers", name, "sandbox")
            sink.add(
                document.value_position(path), format_key_path(path), f"sandbox file {sandbox!r} not found"
            )


def _read(path: Path, display: str, sink: DiagnosticSink) -> tuple[YamlDocument, ...]:
    try:
        return read_yaml_file(path, display)
    except ManifestError as error:
        sink.items.extend(error.diagnostics)
        return ()


# --- finding Policy files ------------------------------------------------------------------------------


def _policy_entries(document: YamlDocument | None) -> list[tuple[str, Position]]:
    """`policies:` entries with their positions, read even when the rest of enrollctl.yaml is broken."""
    data = document.data if document is not None and isinstance(document.data, dict) else None
    entries = data.get("policies", list(DEFAULT_POLICIES)) if data is not None else None
    if document is None or not isinstance(entries, list):
        return []  # nothing trustworthy to search; the config's own diagnostics say why
    return [
        (entry, document.value_position(("policies", index)))
        for index, entry in enumerate(entries)
        if isinstance(entry, str)
    ]


def _non_policy_files(base: Path, raw: Mapping[str, Any]) -> frozenset[Path]:
    """enrollctl.yaml and sandbox organisation files are YAML too, but never Policy files."""
    files = {(base / CONFIG_FILE).resolve()}
    providers = raw.get("providers")
    for provider in providers.values() if isinstance(providers, dict) else ():
        sandbox = provider.get("sandbox") if isinstance(provider, dict) else None
        if isinstance(sandbox, str):
            files.add((base / sandbox).resolve())
    return frozenset(files)


def _policy_files(
    base: Path, entries: Sequence[tuple[str, Position]], skip: frozenset[Path], sink: DiagnosticSink
) -> Iterator[tuple[Path, str]]:
    """Each Policy file once, in the order of `policies:`, sorted within a directory or glob."""
    seen: set[Path] = set(skip)
    for entry, position in entries:
        if not _inside_repository(entry):
            hint = "write a path relative to enrollctl.yaml, e.g. policies"
            sink.add(position, "policies", f"{entry!r} is outside the repository", hint)
            continue
        matches = _expand(base, entry)
        if not matches:
            sink.add(position, "policies", f"{entry!r}: {_nothing_found(base, entry)}")
        for path in matches:
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield path, _display(base, path)


def _inside_repository(entry: str) -> bool:
    """Lexically, so a symlinked policies directory still works; `/` or `../..` would walk other trees."""
    normal = os.path.normpath(entry)
    return not os.path.isabs(normal) and normal != ".." and not normal.startswith(".." + os.sep)


def _nothing_found(base: Path, entry: str) -> str:
    if _GLOB_CHARS & set(entry):
        return "glob matches no file"
    if (base / entry).is_dir():
        return "directory holds no *.yaml or *.yml file"
    return "no such file or directory"


def _expand(base: Path, entry: str) -> list[Path]:
    if _GLOB_CHARS & set(entry):
        found = [Path(p) for p in glob.glob(str(base / entry), recursive=True)]
        return sorted(p for path in found for p in _yaml_files(path))
    path = base / entry
    return _yaml_files(path) if path.exists() else []


def _yaml_files(path: Path) -> list[Path]:
    """A file as itself; a directory as its *.yaml / *.yml files, recursively, skipping hidden directories."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    for directory, subdirs, files in os.walk(path):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        found.extend(Path(directory) / f for f in files if f.endswith(POLICY_SUFFIXES))
    return sorted(found)


def _display(base: Path, path: Path) -> str:
    """The path users see in messages: relative to the repository root, with forward slashes."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, base)).as_posix()


# --- Policy documents ----------------------------------------------------------------------------------


def _policies(
    documents: Sequence[YamlDocument], providers: Mapping[str, Any] | None, sink: DiagnosticSink
) -> tuple[Policy, ...]:
    check_policy_names(documents, sink)
    policies = []
    for document in documents:
        before = len(sink.items)
        check_document("policy", document, sink)
        check_policy(document, sink)
        provider = resolve_provider(document, providers, sink) if providers is not None else None
        if len(sink.items) == before:
            policies.append(build_policy(document, provider))
    return tuple(policies)
