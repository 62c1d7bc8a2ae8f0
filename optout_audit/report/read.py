"""Read a run's ``audit.jsonl`` in chunks of records and load each chunk into typed DataFrames.

Memory stays flat however long the run: :class:`AuditReader` holds one chunk of lines at a time.
A line that is not a JSON object (typically the last line of an interrupted run, cut mid-write)
is skipped, logged and counted in ``AuditReader.unreadable_lines``; it never stops a report.
(``diff`` and ``history`` read with :class:`AuditReader`; ``build_reports`` cuts the file itself,
:mod:`.parallel`, with the same rule for a line: :func:`decode_line`.)

Each chunk becomes two frames, indexed by ``record`` (the record's position in the file, 0-based,
so that numbers stay unique across chunks):

``sites``
    one row per record: the scalar fields of SiteAudit, the status of each fetch, every key of
    ``verdict`` and the ``other_agents`` result as ``other_verdict``, ``other_named`` ...
``named``
    one row per entry of a record's ``agents`` list: ``record``, ``agent``, ``verdict``, ``named``,
    ``via``, ``rule``, ``line``.

Dtypes are set here and only here: text is ``str``, tri-state booleans are ``boolean``, integers
that may be unknown are ``Int64``; ``reservation_signals`` and ``signals`` are Python lists
(``[]`` when the record has none).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["AuditReader", "DEFAULT_CHUNKSIZE", "decode_line", "load_named", "load_sites", "log_unreadable"]

logger = logging.getLogger(__name__)

#: Records per chunk. A chunk expands to chunk x 166 domain_agents rows, so this bounds memory.
DEFAULT_CHUNKSIZE = 2_000

_TOP = ["input", "line", "domain", "registered_domain", "url", "status", "fault", "error",
        "started_at", "finished_at", "own_access", "crawl_delay"]  # fmt: skip
#: nested object -> {its key: our column}
_NESTED = {
    "robots": {"status": "robots_status", "http_status": "robots_http_status"},
    "home": {"status": "home_status"},
    "tdmrep": {"status": "tdmrep_status"},
    "aitxt": {"status": "aitxt_status"},
    "verdict": {key: key for key in (
        "reserves_ai_training", "reservation_signals", "blocks_all_crawlers", "noai", "noimageai",
        "tdm_reservation", "tdm_source", "tdm_policy", "content_signal", "content_usage", "signals")},
    "other_agents": {"verdict": "other_verdict", "named": "other_named", "via": "other_via",
                     "rule": "other_rule", "line": "other_line"},
}  # fmt: skip
_AGENT_FIELDS = ["agent", "verdict", "named", "via", "rule", "line"]
_BOOLEAN = ("own_access", "blocks_all_crawlers", "noai", "noimageai", "other_named", "named")
_INTEGER = ("line", "robots_http_status", "tdm_reservation", "other_line")
_FLOAT = ("crawl_delay",)
_LISTS = ("reservation_signals", "signals")


class AuditReader:
    """Iterate over ``audit.jsonl`` as lists of at most ``chunksize`` record dicts."""

    def __init__(self, path: Path, chunksize: int = DEFAULT_CHUNKSIZE) -> None:
        if chunksize < 1:
            raise ValueError(f"chunksize must be positive, not {chunksize}")
        self.path = path
        self.chunksize = chunksize
        self.unreadable_lines: list[int] = []  # 1-based line numbers in audit.jsonl

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        self.unreadable_lines = []
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            numbered = enumerate(lines, start=1)
            while chunk := list(islice(numbered, self.chunksize)):
                yield [record for number, text in chunk if (record := self._decode(number, text)) is not None]

    def _decode(self, number: int, text: str) -> dict[str, Any] | None:
        """The record on one line; None for a blank line or one that is not a JSON object."""
        record, reason = decode_line(text)
        if reason is not None:
            log_unreadable(self.path, number, reason)
            self.unreadable_lines.append(number)
        return record


def decode_line(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a JSON object; (None, why) for a line that is not one; (None, None) if blank."""
    if not text.strip():
        return None, None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg})"
    return (record, None) if isinstance(record, dict) else (None, "not a JSON object")


def log_unreadable(path: Path, number: int, reason: str) -> None:
    logger.warning("%(path)s line %(line)d skipped: %(reason)s", {"path": path, "line": number, "reason": reason})


def load_sites(records: list[dict[str, Any]], first: int = 0) -> pd.DataFrame:
    """Return one row per record (see the module docstring), indexed by ``record`` from ``first``."""
    index = pd.RangeIndex(first, first + len(records), name="record")
    top = pd.DataFrame.from_records(records, columns=[*_TOP, *_NESTED]).set_axis(index)
    parts = [top[_TOP]]
    for name, fields in _NESTED.items():
        nested = pd.DataFrame.from_records(_objects(top[name]), columns=list(fields), index=index)
        parts.append(nested.rename(columns=fields))
    sites = pd.concat(parts, axis=1)
    return sites.assign(**{name: _lists(sites[name]) for name in _LISTS}).pipe(_typed)


def load_named(records: list[dict[str, Any]], first: int = 0) -> pd.DataFrame:
    """Return one row per entry of the records' ``agents`` lists, with its ``record`` number."""
    lists = pd.Series([record.get("agents") for record in records], dtype=object)
    entries = lists.set_axis(pd.RangeIndex(first, first + len(records), name="record")).explode().dropna()
    named = pd.DataFrame.from_records(_objects(entries), columns=_AGENT_FIELDS, index=entries.index)
    return named.rename_axis("record").reset_index().pipe(_typed)


def _objects(values: pd.Series) -> list[dict[str, Any]]:
    """The values as dicts, ``{}`` for anything else (a missing or null sub-object)."""
    return [value if isinstance(value, dict) else {} for value in values]


def _lists(values: pd.Series) -> pd.Series:
    """The values as lists, ``[]`` for anything else (a verdict without that key)."""
    lists = [value if isinstance(value, list) else [] for value in values]
    return pd.Series(lists, index=values.index, dtype=object, name=values.name)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Set every column's dtype from its name (see the module docstring)."""
    dtypes: dict[str, str] = {}
    for column in frame.columns:
        if column in _BOOLEAN:
            dtypes[column] = "boolean"
        elif column in _INTEGER:
            frame = frame.assign(**{column: pd.to_numeric(frame[column], errors="coerce")})
            dtypes[column] = "Int64"
        elif column in _FLOAT:
            dtypes[column] = "Float64"
        elif column not in _LISTS and column != "record":
            dtypes[column] = "str"
    return frame.astype(dtypes)
