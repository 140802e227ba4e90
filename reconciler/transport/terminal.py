"""Text that is safe to show on a terminal: no escape sequences, no control characters, bounded length.

Servers choose much of what enrollctl prints (error bodies, SOAP fault strings, course titles in hints). A raw
ESC or C1 byte could move the cursor, rewrite earlier lines or set the window title (OSC 0/2), so every such
text passes through `safe_text` on its way out: whole CSI, OSC, DCS/PM/APC and two-byte ESC sequences are
removed, and any other control or format character is shown escaped (`\\u001b`), so nothing is hidden.
"""

from __future__ import annotations

import re
import unicodedata

VENDOR_EXCERPT = 200  # characters of a vendor's own text (fault string, error body) quoted in a message
LINE_LIMIT = 2000  # a backstop: no printed line of an error or log message is longer than this

# 7-bit and 8-bit forms: CSI (ESC [ / 0x9b) ... final byte; OSC (ESC ] / 0x9d), DCS, SOS, PM, APC strings
# up to BEL or ST (ESC \ / 0x9c), or to the end of the text if unterminated; other ESC + one character
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def safe_text(text: str, *, limit: int | None = None, newlines: bool = False) -> str:
    """`text` without terminal escape sequences, other controls escaped, cut to `limit` characters.

    With `newlines`, line feeds are kept (multi-line messages); otherwise they are escaped like any control.
    """
    if text.isprintable() and (limit is None or len(text) <= limit):
        return text  # the common case
    text = _SEQUENCE.sub("", text)
    out = []
    for char in text:
        if char == "\n" and newlines:
            out.append(char)
        elif unicodedata.category(char) in _UNSAFE:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    cleaned = "".join(out)
    if limit is None or len(cleaned) <= limit:
        return cleaned
    return cleaned[: limit - 1] + "…"


def safe_lines(text: str, *, line_limit: int = LINE_LIMIT) -> str:
    """A multi-line message made safe line by line, each line cut to `line_limit` characters."""
    return "\n".join(safe_text(line, limit=line_limit) for line in text.split("\n"))
