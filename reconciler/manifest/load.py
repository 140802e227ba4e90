"""Load a manifest repository: enrollctl.yaml and its Policy files → validated, frozen Config and Policies.

Every problem in every file is collected and raised together as one `ManifestError`, each diagnostic at
`file:line:col` with the file relative to the repository root. The pieces: `yamlpos` reads YAML with
positions, `manifest_schema` applies the JSON Schemas, `manifest_build` checks the rest and builds the model.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reconciler.core.model import Config, Policy
from reconciler.errors import DiagnosticSink, ManifestError, Position
from reconciler.manifest.build import (
    DEFAULT_POLICIES,
    build_config,
    build_policy,
    check_policy_names,
    resolve_provider,
)
from reconciler.manifest.checks import check_policy
from reconciler.manifest.files import PolicySearch, file_problem, real_path
from reconciler.manifest.schema import check_document
from reconciler.manifest.scope import check_offline
from reconciler.manifest.yamlpos import YamlDocument, format_key_path, parse_yaml, read_yaml_file
from reconciler.transport.bounds import insecure_url_problem

CONFIG_FILE = "enrollctl.yaml"
_URL_FORM = re.compile(r"^https?://[^\s/@]+(/\S*)?$")  # the schema's pattern; it reports other forms itself


def load_config(root: str) -> Config:
    """Read and validate `enrollctl.yaml` in `root`; raise ManifestError listing every problem."""
    sink = DiagnosticSink()
    config, _ = _load_config(Path(root), sink)
    sink.raise_if_any()
    assert config is not None  # no diagnostics means the config was built
    return config


@dataclass(frozen=True)
class ManifestRepository:
    """A loaded repository: its config, its policies, and every Policy file read (as shown in messages)."""

    config: Config
    policies: tuple[Policy, ...]
    policy_files: tuple[str, ...]  # paths relative to the root, `/`-separated, in load order, each once


def load_repository(root: str) -> tuple[Config, tuple[Policy, ...]]:
    """Read and validate enrollctl.yaml and every Policy it names; raise ManifestError listing every problem.

    A policy that omits `spec.provider` gets the repository's only provider filled in.
    """
    repository = load_manifest_repository(root)
    return repository.config, repository.policies


def load_manifest_repository(root: str) -> ManifestRepository:
    """As `load_repository`, also saying which Policy files were read; a file that cannot be is an error."""
    base = Path(root)
    sink = DiagnosticSink()
    config, config_doc = _load_config(base, sink)
    raw = config_doc.data if config_doc is not None and isinstance(config_doc.data, dict) else {}
    providers = raw.get("providers") if isinstance(raw.get("providers"), dict) else None
    entries = _policy_entries(config_doc)
    files = list(_policy_files(base, entries, _non_policy_files(base, raw), sink))
    documents = [doc for path, display in files for doc in _read(path, display, sink)]
    policies = _policies(documents, providers, sink)
    if config is not None:
        sink.items.extend(check_offline(config.scopes, policies))
    sink.raise_if_any()
    assert config is not None
    return ManifestRepository(config, policies, tuple(display for _, display in files))


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
    problem = file_problem(path)
    if problem == "no such file or directory":
        hint = "run enrollctl in the repository root or pass -C DIR"
        if (base / "enrollctl.yml").is_file():
            hint = "rename enrollctl.yml to enrollctl.yaml"
        sink.add(Position(CONFIG_FILE), "", f"not found in {real_path(base)}", hint)
        return None, None
    if problem is not None:
        sink.add(Position(CONFIG_FILE, 1, 1), "", problem)
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
    check_provider_urls(document, sink)
    check_insecure_urls(document, sink)
    if len(sink.items) > before:
        return None, document
    return build_config(document, str(base)), document


def _check_sandbox_files(base: Path, document: YamlDocument, sink: DiagnosticSink) -> None:
    for name, provider in document.data["providers"].items():
        sandbox = provider.get("sandbox")
        problem = file_problem(base / sandbox) if sandbox is not None else None
        if problem is not None:
            path = ("providers", name, "sandbox")
            message = "not found" if problem == "no such file or directory" else problem
            sink.add(
                document.value_position(path), format_key_path(path), f"sandbox file {sandbox!r} {message}"
            )


def check_provider_urls(document: YamlDocument, sink: DiagnosticSink) -> None:
    """Each provider `url:` of the schema's form must also parse as the HTTP client will parse it."""
    providers = document.data.get("providers") if isinstance(document.data, dict) else None
    for name, provider in providers.items() if isinstance(providers, dict) else ():
        url = provider.get("url") if isinstance(provider, dict) else None
        problem = _url_problem(url) if isinstance(url, str) and _URL_FORM.match(url) else None
        if problem is not None:
            path = ("providers", name, "url")
            hint = "write an absolute http(s) URL with a host, e.g. https://acme.ispringlearn.com"
            sink.add(
                document.value_position(path), format_key_path(path), f"not a usable URL: {problem}", hint
            )


def check_insecure_urls(document: YamlDocument, sink: DiagnosticSink) -> None:
    """A plain http:// `url:` to a non-loopback host needs `insecure_http: true` (docs/SECURITY.md)."""
    providers = document.data.get("providers") if isinstance(document.data, dict) else None
    for name, provider in providers.items() if isinstance(providers, dict) else ():
        url = provider.get("url") if isinstance(provider, dict) else None
        problem = insecure_url_problem(url) if isinstance(url, str) and _URL_FORM.match(url) else None
        if problem is not None and provider.get("insecure_http") is not True:
            path = ("providers", name, "url")
            hint = "use https://, or set `insecure_http: true` on the provider if you accept that"
            sink.add(document.value_position(path), format_key_path(path), problem, hint)


def _url_problem(url: str) -> str | None:
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises for a port that is not a number or out of range
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as error:
        return str(error)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not http or https"
    return None if parts.hostname else "it names no host"


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
    files = {real_path(base / CONFIG_FILE)}
    providers = raw.get("providers")
    for provider in providers.values() if isinstance(providers, dict) else ():
        sandbox = provider.get("sandbox") if isinstance(provider, dict) else None
        if isinstance(sandbox, str):
            files.add(real_path(base / sandbox))
    return frozenset(files)


def _policy_files(
    base: Path, entries: Sequence[tuple[str, Position]], skip: frozenset[Path], sink: DiagnosticSink
) -> Iterator[tuple[Path, str]]:
    """Each Policy file once, in the order of `policies:`, sorted within a directory or glob."""
    search = PolicySearch(base, skip, sink)
    for entry, position in entries:
        if not _inside_repository(entry):
            hint = "write a path relative to enrollctl.yaml, e.g. policies"
            sink.add(position, "policies", f"{entry!r} is outside the repository", hint)
            continue
        yield from search.files(entry, position)


def _inside_repository(entry: str) -> bool:
    """Lexically, so a symlinked policies directory still works; `/` or `../..` would walk other trees."""
    normal = os.path.normpath(entry)
    return not os.path.isabs(normal) and normal != ".." and not normal.startswith(".." + os.sep)


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
