"""Text a site (or a file) controls, made safe to print on a terminal.

A robots.txt line, a header value or a URL may hold escape sequences (``ESC [ 2 J`` clears the
screen, OSC 8 makes links, some terminals answer queries into their input) or other control
characters. Everything the commands print that did not come from us goes through
:func:`printable`: control characters become visible ``\\xNN`` / ``\\uNNNN`` escapes, so the text is
shown, never acted on.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls but tab, DEL, C1 controls, and the Unicode bidi overrides / isolates that can reorder
# what a reader sees (the "Trojan Source" characters).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` as a string with every control character shown as an escape (a newline included)."""
    return _UNSAFE.sub(_escape, str(text))
