"""The farm's request log: one JSON line per request received, read back by the test process.

The server appends each record with a single ``write(2)`` on an ``O_APPEND`` descriptor, before
it answers, so several worker processes can share the file and a client that has its response
(or gave up waiting for it) always finds its request logged. Records look like::

    {"event": "request", "t": 1767225600.12, "address": "127.83.4.19", "scheme": "https",
     "host": "news.example", "sni": "news.example", "method": "GET", "path": "/robots.txt",
     "status": 200, "fault": null, "user_agent": "optout-audit/0.1.0 (...)",
     "if_none_match": null, "if_modified_since": null}

A TLS connection broken on purpose by a ``tls_fail`` / ``tls_abort`` host is logged as
``{"event": "tls_fail"|"tls_abort", "address": ..., "mode": ...}``; it carried no request, so
:func:`requests_of` leaves it out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple


class LoggedRequest(NamedTuple):
    """One request as the server saw it; compares equal to a plain 4-tuple."""

    host: str
    method: str
    path: str
    scheme: str


class RequestLogWriter:
    """Appends records to the log file (child side)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as one line, in one system call."""
        os.write(self._fd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))

    def close(self) -> None:
        os.close(self._fd)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Return every complete record of the log (parent side); a half-written last line is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records = []
    for line in data.split(b"\n"):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # only the last line can be incomplete, and only while it is written
    return records


def requests_of(records: list[dict[str, Any]]) -> list[LoggedRequest]:
    """Return the ``(host, method, path, scheme)`` of every request record, in arrival order."""
    return [
        LoggedRequest(r["host"], r["method"], r["path"], r["scheme"]) for r in records if r.get("event") == "request"
    ]
