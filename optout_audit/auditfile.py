"""Reading audit.jsonl back outside the report stage: each line's site key, status and cache use.

``--resume`` (which sites are done), the merge of ``--workers`` shards (no site twice) and
run.json's counts read every line of a run, and need only a few of its fields. msgspec decodes
just those and skips the rest of the ~3 KB record: 5 µs a line on the benchmark's records, where
``json.loads`` of the whole line took 89 µs (a minute and a half per pass over a million sites).
A line msgspec will not take (NaN, a field of another shape) is read with ``json.loads``, so any
JSON object line counts as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

__all__ = ["AUDIT_FILE", "DOCUMENTS", "RUN_FILE", "AuditLine", "audited_keys", "read_line", "site_key"]

DOCUMENTS = ("robots", "home", "tdmrep", "aitxt")


def site_key(status: Any, domain: Any, line: Any, origin: Any = None) -> str:
    """A site's identity in a run: its origin (``scheme://host[:port]``; the host in runs made before
    records had an origin), or its input line for an input that is not a site ("": neither)."""
    if status == "invalid_input":
        return f"\0line:{line}"
    if isinstance(origin, str) and origin:
        return origin
    return domain if isinstance(domain, str) else ""


class AuditLine(NamedTuple):
    key: str  # see site_key
    status: str  # "?" when the record has none
    unchanged: tuple[Any, ...]  # each document's ``unchanged`` (True, False, None), in DOCUMENTS order


class _Fetch(msgspec.Struct, gc=False):
    unchanged: Any = None


class _Line(msgspec.Struct, gc=False):
    status: Any = None
    domain: Any = None
    line: Any = None
    origin: Any = None
    robots: _Fetch | None = None
    home: _Fetch | None = None
    tdmrep: _Fetch | None = None
    aitxt: _Fetch | None = None


_decode = msgspec.json.Decoder(_Line).decode


def read_line(raw: bytes) -> AuditLine | None:
    """The fields of one audit.jsonl line; None if it is not a JSON object."""
    try:
        line = _decode(raw)
    except msgspec.DecodeError:
        return _read_any_json(raw)
    fetches = (line.robots, line.home, line.tdmrep, line.aitxt)
    return AuditLine(
        site_key(line.status, line.domain, line.line, line.origin),
        line.status if isinstance(line.status, str) else "?",
        tuple(fetch.unchanged if fetch is not None else None for fetch in fetches),
    )


def _read_any_json(raw: bytes) -> AuditLine | None:
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    status = record.get("status")
    fetches = [record.get(name) for name in DOCUMENTS]
    return AuditLine(
        site_key(status, record.get("domain"), record.get("line"), record.get("origin")),
        status if isinstance(status, str) else "?",
        tuple(fetch.get("unchanged") if isinstance(fetch, dict) else None for fetch in fetches),
    )


#: The files of a run folder that every part of the tool names.
AUDIT_FILE = "audit.jsonl"
RUN_FILE = "run.json"


def audited_keys(audit_path: Path) -> set[str]:
    """Keys (see :func:`site_key`) of the complete lines of an audit.

    A last line without its newline was cut by a kill: it is removed from the file, so the
    site is audited again and appears once.
    """
    keys: set[str] = set()
    if not audit_path.is_file():
        return keys
    with audit_path.open("rb+") as handle:
        data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            handle.truncate(len(complete))
    for raw in complete.splitlines():
        line = read_line(raw)
        if line is not None and line.key:
            keys.add(line.key)
    return keys
