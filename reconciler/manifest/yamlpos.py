"""Safe YAML loading that remembers where every key and value came from.

Built on PyYAML's SafeLoader at the node level: the composer gives nodes with marks, and we convert them to
plain data ourselves, recording `Position`s per key path. On top of safe loading it refuses what a manifest
never needs and an attacker might send: files over `MAX_FILE_BYTES`, alias bombs, recursive aliases,
duplicate keys, binary data and bad encodings. Every problem becomes a `Diagnostic`, never a traceback.
Dates stay text (`"2026-12-31"`) so the schema, not the YAML resolver, decides what a date is.
"""

from __future__ import annotations

import codecs
import errno
import math
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import Diagnostic, ManifestError, Position

MAX_FILE_BYTES = 1024 * 1024
MAX_ALIASES = 100  # per document; real manifests use a handful
MAX_NODES = 100_000  # per document after expanding aliases; stops "billion laughs" early
MAX_DEPTH = 64  # nesting of lists and mappings; PyYAML's composer recurses, and manifests nest ~6 deep

KeyPath = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


@dataclass(frozen=True)
class YamlDocument:
    """One YAML document as plain data, with the positions of its keys and values by key path."""

    data: Any
    file: str
    start: Position
    key_positions: Mapping[KeyPath, Position] = field(default_factory=dict)
    value_positions: Mapping[KeyPath, Position] = field(default_factory=dict)

    def key_position(self, path: KeyPath) -> Position:
        """Where the key at `path` (or its closest ancestor) is written."""
        return _nearest(self.key_positions, path, self.start)

    def value_position(self, path: KeyPath) -> Position:
        """Where the value at `path` (or its closest ancestor) starts."""
        return _nearest(self.value_positions, path, self.start)


def _nearest(positions: Mapping[KeyPath, Position], path: KeyPath, default: Position) -> Position:
    for end in range(len(path), 0, -1):
        found = positions.get(path[:end])
        if found is not None:
            return found
    return default


def format_key_path(path: KeyPath) -> str:
    """`spec.assign[0].due` from `("spec", "assign", 0, "due")`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_yaml_file(path: Path, display: str) -> tuple[YamlDocument, ...]:
    """Read every non-empty document of a YAML file; raise ManifestError listing what is wrong with it.

    Only a regular file is read: a FIFO or device would block or never end. It is opened non-blocking
    and checked again on the open descriptor, so a file swapped for a FIFO after a check cannot hang us.
    """
    try:
        _check_regular(path.stat().st_mode, display)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(stream.fileno())
            _check_regular(info.st_mode, display)
            if info.st_size > MAX_FILE_BYTES:
                size = info.st_size / 1_000_000
                _fail(display, 1, f"file is {size:.1f} MB, over the {MAX_FILE_BYTES // 1024} KiB limit")
            raw = stream.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as error:
        _fail(display, 1, f"cannot read file: {_reason(error)}")
    if len(raw) > MAX_FILE_BYTES:
        _fail(display, 1, f"file is over the {MAX_FILE_BYTES // 1024} KiB limit")
    return parse_yaml(raw, display)


def _check_regular(mode: int, display: str) -> None:
    if stat.S_ISDIR(mode):
        _fail(display, 1, "is a directory, not a regular file; only regular files are read as manifests")
    if not stat.S_ISREG(mode):
        _fail(display, 1, "is not a regular file (a FIFO, socket or device); only regular files are read")


def _reason(error: OSError | ValueError) -> str:
    if isinstance(error, ValueError):
        return "not a usable path (NUL byte)"
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return str(error.strerror or error)


def parse_yaml(raw: bytes, display: str) -> tuple[YamlDocument, ...]:
    """Parse YAML bytes into documents; raise ManifestError listing what is wrong with them."""
    text = _decode(raw, display)
    try:
        documents = tuple(_compose_all(text, display))
    except ManifestError:
        # PyYAML stops at the first tab with a cryptic message; name every tab-indented line instead.
        tab_problems = list(_tab_indents(text, display))
        if tab_problems:
            raise ManifestError(tab_problems) from None
        raise
    if not documents:
        _fail(display, 1, "file is empty", "a manifest needs at least one document")
    return documents


def _fail(display: str, line: int, message: str, hint: str = "") -> NoReturn:
    raise ManifestError([Diagnostic(Position(display, line, 1), "", message, hint)])


def _decode(raw: bytes, display: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _fail(display, 1, "file is UTF-16 encoded", "save the file as UTF-8")
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        _fail(display, line, "binary data (NUL byte); not a YAML text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        _fail(display, line, f"not valid UTF-8 (byte 0x{raw[error.start]:02x})", "save the file as UTF-8")


def _tab_indents(text: str, display: str) -> Iterator[Diagnostic]:
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip() and not line.lstrip().startswith("#"):
            col = indent.index("\t") + 1
            yield Diagnostic(
                Position(display, number, col), "", "tab in indentation", "YAML indents with spaces"
            )


class _Refused(Exception):
    """A limit was hit; carries the one diagnostic that explains it."""

    def __init__(self, position: Position, message: str, hint: str = "", key_path: str = "") -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(position, key_path, message, hint)


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader whose composer counts aliases and nesting, so a bomb is refused before it is expanded."""

    def __init__(self, stream: str, display: str) -> None:
        super().__init__(stream)
        self.display = display
        self.alias_count = 0
        self.depth = 0

    def compose_document(self) -> Node | None:
        self.alias_count = 0
        return super().compose_document()

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                where = _mark_position(self.display, event.start_mark)
                raise _Refused(where, f"more than {MAX_ALIASES} aliases in one document")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                where = _mark_position(self.display, event.start_mark)
                raise _Refused(where, f"lists and mappings nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _mark_position(display: str, mark: Any) -> Position:
    if mark is None:
        return Position(display, 1, 1)
    return Position(display, mark.line + 1, mark.column + 1)


def _compose_all(text: str, display: str) -> Iterator[YamlDocument]:
    try:
        loader = _LimitedLoader(text, display)
    except yaml.reader.ReaderError as error:  # control characters: PyYAML checks the whole text up front
        line = text.count("\n", 0, error.position) + 1
        code = error.character if isinstance(error.character, int) else 0
        message = f"control character U+{code:04X} is not allowed in YAML"
        raise ManifestError([Diagnostic(Position(display, line, 1), "", message)]) from None
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or _is_null(node):
                continue
            converter = _Converter(display)
            document = converter.document(node)
            if converter.problems:
                raise ManifestError(converter.problems)
            yield document
    except yaml.MarkedYAMLError as error:
        position = _mark_position(display, error.problem_mark or error.context_mark)
        message = f"YAML syntax: {error.problem or error.context or 'invalid YAML'}"
        hint = ""
        if "'\\t'" in (error.problem or ""):
            message = "YAML syntax: tab character where YAML allows none"
            hint = "use spaces, or put the text in quotes"
        elif error.context and error.problem:
            where = f" at line {error.context_mark.line + 1}" if error.context_mark else ""
            hint = f"{error.context}{where}"
        raise ManifestError([Diagnostic(position, "", message, hint)]) from None
    except _Refused as refused:
        raise ManifestError([refused.diagnostic]) from None
    finally:
        loader.dispose()


def _is_null(node: Node) -> bool:
    return (
        isinstance(node, ScalarNode)
        and node.tag == "tag:yaml.org,2002:null"
        and node.value in ("", "~", "null")
    )


class _Converter:
    """Turns one composed document into plain data, recording positions and enforcing the limits."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.keys: dict[KeyPath, Position] = {}
        self.values: dict[KeyPath, Position] = {}
        self.nodes = 0
        self.active: set[int] = set()
        self.problems: list[Diagnostic] = []
        self.constructor = yaml.SafeLoader("")

    def document(self, node: Node) -> YamlDocument:
        data = self.convert(node, ())
        start = _mark_position(self.display, node.start_mark)
        return YamlDocument(data, self.display, start, self.keys, self.values)

    def convert(self, node: Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # point at the top-level key being expanded: the aliased node itself may sit anywhere
            where = self.keys.get(path[:1]) or self.position(node)
            message = f"document expands to more than {MAX_NODES} values"
            raise _Refused(
                where, message, "aliases nested too deep: a 'billion laughs' file?", format_key_path(path[:1])
            )
        self.values.setdefault(path, _mark_position(self.display, node.start_mark))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if node.tag not in _COLLECTION_TAGS:
            # e.g. !!python/object or !!set: never constructed, and a manifest has no use for them
            raise _Refused(self.position(node), f"unsupported YAML tag {node.tag!r}")
        if id(node) in self.active:
            raise _Refused(self.position(node), "recursive alias: a value contains itself")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.item(child, (*path, index)) for index, child in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def item(self, child: Node, path: KeyPath) -> Any:
        self.keys.setdefault(path, _mark_position(self.display, child.start_mark))
        return self.convert(child, path)

    def position(self, node: Node) -> Position:
        return _mark_position(self.display, node.start_mark)

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == _TIMESTAMP_TAG:
            return node.value  # dates stay text; the schema checks their form
        value = self.constructor.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            # JSON has no .nan or .inf, and a NaN slips through every range check of the schema
            raise _Refused(self.position(node), f"{node.value!r} is not a usable number")
        return value

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Position] = {}
        merged: list[MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_sources(value_node))
                continue
            key = self.key(key_node)
            position = _mark_position(self.display, key_node.start_mark)
            if key in seen:
                message = f"duplicate key {key!r} (first at line {seen[key].line})"
                self.problems.append(Diagnostic(position, format_key_path((*path, key)), message))
                continue
            seen[key] = position
            self.keys.setdefault((*path, key), position)
            result[key] = self.convert(value_node, (*path, key))
        for source in merged:  # merge keys (`<<: *base`): explicit keys win
            for key, value in self.convert(source, path).items():
                result.setdefault(key, value)
        return result

    def merge_sources(self, node: Node) -> list[MappingNode]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                raise _Refused(
                    self.position(source), "a merge key (<<) takes a mapping or a list of mappings"
                )
        return list(sources)

    def key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _Refused(self.position(node), "a key must be plain text, not a list or mapping")
        return str(node.value)
