"""Find the Policy files that `policies:` names, failing closed: nothing that might hold a policy is skipped.

A policy file that cannot be read must stop validation, never vanish from the plan: a vanished policy
reads as "nobody wants these enrollments any more" and prune would delete training records. So every
directory under a `policies:` entry must be listable, every entry must be stat-able (a broken symlink
or a symlink loop might have been a directory of policies), and only regular files are ever opened (a
FIFO would block, a device would stream forever). Directory symlinks are followed, loops are reported.
Problems with a file are reported at the file (line 1, as read errors are); problems with a directory
or an entry of unknown kind at the `policies:` entry in enrollctl.yaml, naming the path.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from reconciler.errors import DiagnosticSink, Position

POLICY_SUFFIXES = (".yaml", ".yml")
GLOB_CHARS = frozenset("*?[")

_Chain = tuple[tuple[int, int], ...]  # (st_dev, st_ino) of the directories walked into, to spot loops
_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def display_path(base: Path, path: Path) -> str:
    """The path users see in messages: relative to the repository root, with forward slashes."""
    try:
        shown = path.relative_to(base).as_posix()
    except ValueError:
        shown = Path(os.path.relpath(path, base)).as_posix()
    return shown if shown.isprintable() else repr(shown)  # a NUL or newline must not garble the message


def real_path(path: Path) -> Path:
    """Where `path` leads; never raises (a loop or a NUL byte leave the path as written)."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return path


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a manifest file, or None if it is a regular file (symlinks followed)."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError) as error:
        return _stat_failure(path, error)
    return None if stat.S_ISREG(mode) else not_regular(mode)


def not_regular(mode: int) -> str:
    """The message for a path that exists but is not a regular file."""
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return f"is {kind}, not a regular file; only regular files are read as manifests"


def _stat_failure(path: Path, error: OSError | ValueError) -> str:
    if isinstance(error, ValueError):
        return "is not a usable path (NUL byte)"
    if error.errno == errno.ELOOP:
        return "is a symlink loop"
    if error.errno == errno.ENOENT and path.is_symlink():
        return f"is a broken symlink (its target {os.readlink(path)!r} does not exist)"
    if error.errno == errno.ENOENT:
        return "no such file or directory"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied"
    return f"cannot be read: {error.strerror or error}"


class PolicySearch:
    """Expands the entries of `policies:` into Policy files, reporting every path it cannot trust."""

    def __init__(self, base: Path, skip: frozenset[Path], sink: DiagnosticSink) -> None:
        self.base = base
        self.seen: set[Path] = set(skip)
        self.sink = sink
        self.position = Position("enrollctl.yaml")
        self.problems = 0
        self.listings: dict[Path, list[os.DirEntry[str]]] = {}  # `**` visits a directory more than once
        self.reported: set[tuple[Path, str]] = set()

    def files(self, entry: str, position: Position) -> Iterator[tuple[Path, str]]:
        """The files of one entry not yielded before, each with its displayed path, sorted."""
        self.position, self.problems, self.listings = position, 0, {}
        found = sorted(set(self._glob(entry) if GLOB_CHARS & set(entry) else self._path(self.base / entry)))
        if not found and not self.problems:
            self.sink.add(position, "policies", f"{entry!r}: {self._nothing_found(entry)}")
        for path in found:
            resolved = real_path(path)
            if resolved not in self.seen:
                self.seen.add(resolved)
                yield path, display_path(self.base, path)

    def _nothing_found(self, entry: str) -> str:
        if GLOB_CHARS & set(entry):
            return "glob matches no file"
        if (self.base / entry).is_dir():
            return "directory holds no *.yaml or *.yml file"
        return "no such file or directory"

    # --- reporting ---

    def _first_report(self, path: Path, message: str) -> bool:
        self.problems += 1
        if (path, message) in self.reported:
            return False
        self.reported.add((path, message))
        return True

    def _file_problem(self, path: Path, message: str) -> None:
        if self._first_report(path, message):
            self.sink.add(Position(display_path(self.base, path), 1, 1), "", message)

    def _path_problem(self, path: Path, message: str, hint: str = "") -> None:
        if self._first_report(path, message):
            self.sink.add(self.position, "policies", f"{display_path(self.base, path)}: {message}", hint)

    def _stat(self, path: Path, *, as_file: bool) -> os.stat_result | None:
        try:
            return path.stat()
        except (OSError, ValueError) as error:
            report = self._file_problem if as_file else self._path_problem
            report(path, _stat_failure(path, error))
            return None

    # --- one path: a file as itself, a directory as its YAML files ---

    def _path(self, path: Path) -> list[Path]:
        try:
            os.lstat(path)
        except FileNotFoundError:
            return []  # reported by the caller as "no such file or directory"
        except (OSError, ValueError) as error:
            self._path_problem(path, _stat_failure(path, error))
            return []
        info = self._stat(path, as_file=path.name.endswith(POLICY_SUFFIXES))
        if info is None:
            return []
        if stat.S_ISDIR(info.st_mode):
            return list(self._walk(path, ((info.st_dev, info.st_ino),)))
        if stat.S_ISREG(info.st_mode):
            return [path]
        self._file_problem(path, not_regular(info.st_mode))
        return []

    def _listing(self, directory: Path) -> list[os.DirEntry[str]]:
        if directory not in self.listings:
            self.listings[directory] = self._list(directory)
        return self.listings[directory]

    def _list(self, directory: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as entries:
                return sorted(entries, key=lambda e: e.name)
        except OSError as error:
            reason = "permission denied" if error.errno in (errno.EACCES, errno.EPERM) else error.strerror
            self._path_problem(directory, f"cannot list directory: {reason or error}")
            return []

    def _walk(self, directory: Path, chain: _Chain) -> Iterator[Path]:
        """*.yaml and *.yml files under `directory`, recursively; hidden directories are not searched."""
        for entry in self._listing(directory):
            path = Path(entry.path)
            is_yaml = entry.name.endswith(POLICY_SUFFIXES)
            if entry.name.startswith(".") and not is_yaml:
                continue
            info = self._stat(path, as_file=is_yaml)
            if info is None:
                continue
            if stat.S_ISDIR(info.st_mode):
                if not entry.name.startswith("."):
                    yield from self._subdirectory(path, info, chain)
            elif is_yaml and stat.S_ISREG(info.st_mode):
                yield path
            elif is_yaml:
                self._file_problem(path, not_regular(info.st_mode))

    def _subdirectory(self, path: Path, info: os.stat_result, chain: _Chain) -> Iterator[Path]:
        if self._not_a_loop(path, info, chain):
            yield from self._walk(path, (*chain, (info.st_dev, info.st_ino)))

    def _not_a_loop(self, path: Path, info: os.stat_result, chain: _Chain) -> bool:
        """False, after reporting it, if `path` leads back to a directory it is inside."""
        if (info.st_dev, info.st_ino) not in chain:
            return True
        target = display_path(self.base, real_path(path))
        hint = "remove the link or point it outside the directories it is in"
        self._path_problem(path, f"symlink loop (leads back to {target})", hint)
        return False

    # --- globs: matched by walking, so an unreadable directory is reported, not skipped as glob does ---

    def _glob(self, entry: str) -> Iterator[Path]:
        parts = [p for p in Path(os.path.normpath(entry)).as_posix().split("/") if p not in ("", ".")]
        fixed = 0
        while fixed < len(parts) and not GLOB_CHARS & set(parts[fixed]):
            fixed += 1
        start = self.base.joinpath(*parts[:fixed])
        pattern = parts[fixed:]
        try:
            os.lstat(start)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            self._path_problem(start, _stat_failure(start, error))
            return
        info = self._stat(start, as_file=False)
        if info is not None and stat.S_ISDIR(info.st_mode):
            yield from self._glob_walk(start, pattern, ((info.st_dev, info.st_ino),))

    def _glob_walk(self, directory: Path, pattern: Sequence[str], chain: _Chain) -> Iterator[Path]:
        """Entries of `directory` matching the remaining `pattern`; `**` matches any number of directories."""
        if not pattern:
            return
        head, rest = pattern[0], pattern[1:]
        if head == "**":
            yield from self._glob_walk(directory, rest, chain)  # zero directories
        for entry in self._listing(directory):
            if entry.name.startswith(".") and not head.startswith("."):
                continue  # as glob: wildcards do not match hidden names
            path = Path(entry.path)
            matches = head == "**" or fnmatch.fnmatchcase(entry.name, head)
            if not matches:
                continue
            if not rest and head != "**":
                yield from self._path(path)
                continue
            info = self._stat(path, as_file=False)
            if info is None or not stat.S_ISDIR(info.st_mode):
                if head == "**" and not rest and info is not None:
                    yield from self._path(path)
                continue
            if head == "**" and not rest:
                yield from self._subdirectory(path, info, chain)
            elif self._not_a_loop(path, info, chain):
                key = (info.st_dev, info.st_ino)
                yield from self._glob_walk(path, pattern if head == "**" else rest, (*chain, key))
