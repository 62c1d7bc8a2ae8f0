"""How a robots.txt body reads: decoded, capped, and whether it is a robots.txt at all."""

from __future__ import annotations

import re
from dataclasses import dataclass

from optout_audit.detect.robots import skip_bom

#: RFC 9309 2.5: parse at least 500 KiB; Google parses exactly this much.
ROBOTS_MAX_BYTES = 500 * 1024
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RobotsBody:
    text: bytes  # UTF-8 bytes to parse (the head of the file when too large)
    status: str  # ok | invalid | too_large (items.Fetch vocabulary)
    fault: str = ""  # html_as_robots, binary, utf16_bridged, truncated ...


def read_robots_body(body: bytes, stopped: bool = False) -> RobotsBody:
    """Cap, decode and classify a 2xx robots.txt body. Never raises.

    The rules are always read the way Google's parser would read them (an HTML page yields no
    rules, i.e. allow all); ``status`` says whether the file was a real robots.txt.
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        # RFC 9309 2.3: crawlers MAY bridge encodings; UTF-16 files exist in the wild.
        text = body.decode("utf-16", errors="replace").encode("utf-8")
        return _capped(text, "ok", "utf16_bridged", stopped)
    head = skip_bom(body[:1024])
    # Judged by the bytes, not the Content-Type: real robots.txt files are served as text/html too.
    if _HTML_START.match(head):
        return _capped(body, "invalid", "html_as_robots", stopped)
    if b"\x00" in body[:ROBOTS_MAX_BYTES] or _mostly_binary(body[:4096]):
        return _capped(body, "invalid", "binary", stopped)
    return _capped(body, "ok", "", stopped)


def _capped(text: bytes, status: str, fault: str, stopped: bool) -> RobotsBody:
    if len(text) > ROBOTS_MAX_BYTES or stopped:
        return RobotsBody(text[:ROBOTS_MAX_BYTES], "too_large", fault or "truncated")
    return RobotsBody(text, status, fault)


#: Bytes below 0x20 but tab, LF, VT, FF and CR: rare in text, common in binary files.
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32)])


def _mostly_binary(sample: bytes) -> bool:
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return control > len(sample) // 10
