"""Standard streams that never fail on a character: course titles and names come in every script.

On a console whose code page cannot show a character (cp1252 on Windows, `PYTHONIOENCODING`), it prints as
`?` instead of ending the run with UnicodeEncodeError. Standard output redirected to a file or pipe, in a
legacy encoding, becomes UTF-8: it carries the plan (JSON must be UTF-8, RFC 8259) and must not lose a
learner's name to a question mark.
"""

from __future__ import annotations

import codecs
import io
import sys


def _is_utf(stream: io.TextIOWrapper) -> bool:
    try:
        return codecs.lookup(stream.encoding).name.startswith("utf")
    except LookupError:
        return False


def make_streams_safe() -> None:
    """Reconfigure sys.stdout and sys.stderr (when they are ordinary text streams) as described above."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or _is_utf(stream):
            continue
        try:
            if stream is sys.stdout and not stream.isatty():
                stream.reconfigure(encoding="utf-8")
            elif stream.errors == "strict":
                stream.reconfigure(errors="replace")
        except (ValueError, OSError):  # closed or detached: nothing to print to anyway
            continue
