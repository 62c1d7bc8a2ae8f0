"""HTTP/1.1 on the wire, the small part the farm needs: read a request head, write a response head.

Hand-written rather than borrowed from a framework because faults must be able to stop at any
byte. Only what a crawler sends is understood: a request line, header fields, an optional
``Content-Length`` body (read and ignored); ``Transfer-Encoding`` on a request is refused.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
MAX_REQUEST_BODY = 1 << 20


class BadRequest(Exception):
    """The client sent something that is not an HTTP/1.x request we serve; answer ``status``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(slots=True)
class Request:
    """A parsed request head."""

    method: str
    target: str  # origin-form: path and query, as sent
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """Return the value of header ``name`` (case-insensitive); repeated fields joined by ``, ``."""
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None

    @property
    def keep_alive(self) -> bool:
        """Whether the client lets the connection stay open after the response."""
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request head (and discard its body); None when the client closed first."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None  # a clean close between requests
        raise BadRequest(400, "incomplete request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest(431, "request head too large") from exc
    request = parse_head(head)
    await _discard_body(reader, request)
    return request


def parse_head(head: bytes) -> Request:
    """Parse a request head (request line and fields, ending in an empty line)."""
    try:
        text = head.decode("latin-1")  # field values are octets; latin-1 round-trips them
        lines = text.split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError as exc:
        raise BadRequest(400, "malformed request line") from exc
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505, f"unsupported version {version!r}")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, f"malformed header line {line!r}")
        headers.append((name, value.strip()))
    if target.startswith(("http://", "https://")):  # absolute-form, as sent to proxies
        parts = urlsplit(target)
        if not any(k.lower() == "host" for k, _ in headers):
            headers.append(("Host", parts.netloc))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") and target != "*":
        raise BadRequest(400, f"bad request target {target!r}")
    return Request(method, target, version, headers)


async def _discard_body(reader: asyncio.StreamReader, request: Request) -> None:
    if request.header("transfer-encoding"):
        raise BadRequest(501, "request bodies with Transfer-Encoding are not supported")
    length = request.header("content-length")
    if not length:
        return
    try:
        size = int(length)
    except ValueError as exc:
        raise BadRequest(400, "bad Content-Length") from exc
    if size > MAX_REQUEST_BODY:
        raise BadRequest(413, "request body too large")
    await reader.readexactly(size)


def response_head(status: int, headers: list[tuple[str, str]]) -> bytes:
    """Return the status line and header block, ending in the empty line."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """Return the current time as an HTTP date (formatted once per second: it is on every response)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def not_modified(request: Request, response_headers: list[tuple[str, str]]) -> bool:
    """Whether a conditional GET/HEAD may be answered 304 (RFC 9110 13.2.2 order).

    ``If-None-Match`` decides when present (weak comparison); otherwise ``If-Modified-Since``
    against ``Last-Modified``. A resource without those validators is never "not modified".
    """
    if request.method not in ("GET", "HEAD"):
        return False
    lookup = {k.lower(): v for k, v in response_headers}
    inm = request.header("if-none-match")
    if inm is not None:
        etag = lookup.get("etag")
        if etag is None:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    ims, last_modified = request.header("if-modified-since"), lookup.get("last-modified")
    if ims is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored, as the RFC says
