"""A chunk of regular records -> its :class:`~.chunk.ChunkResult`, in plain Python: :func:`fast_chunk`.

"Regular" means every line is blank, not a JSON object (skipped, as :mod:`.read` skips it), or a
record of :mod:`.schema`'s types. Anything else raises :class:`~.expand.Irregular` and the chunk
takes the pandas path, so the bytes written never depend on which path ran (tests compare them).

Per record this builds the domains.csv row as ``",".join`` of its cells, and checks the row once
for anything :func:`~.csvsafe.text_cell` would change (a formula start, a quote, a line break, a
comma inside a cell); only such a row has its text cells rewritten one by one. Agent rows and
counts come per distinct key from :mod:`.expand`.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from dataclasses import dataclass

import msgspec
import numpy as np

from optout_audit.items import DOMAIN_VERDICTS, SITE_STATUSES
from optout_audit.report.chunk import VERDICT_COUNT_COLUMNS, ChunkResult, text_line
from optout_audit.report.csvsafe import FORMULA_STARTS, text_cell
from optout_audit.report.domains import DOMAIN_COLUMNS
from optout_audit.report.expand import Irregular, Key, SiteCounts, agent_count, site_counts
from optout_audit.report.read import decode_line
from optout_audit.report.schema import EXACT_INT, Fetch, Record, Verdict, decode, decode_verdict

__all__ = ["fast_chunk"]

_BOOL = {True: "true", False: "false", None: ""}
_NO_FETCH = Fetch()
_NO_VERDICT = Verdict()
#: The cells that :func:`_domain_cells` leaves as they are in the record (the others are final).
_TEXT = [i for i, column in enumerate(DOMAIN_COLUMNS) if column not in {
    "blocks_all_crawlers", "noai", "noimageai", "tdm_reservation", "robots_http_status", "own_access",
    "training_agents_full", "ai_agents_named"}]  # fmt: skip
_SEPARATORS = len(DOMAIN_COLUMNS) - 1
_FIRSTS = frozenset(FORMULA_STARTS)
#: A formula start at the start of a cell that is not the first. (``in`` tests and this literal-led
#: pattern are ~8x quicker than one regex for every case: sre scans for the "," alone.)
_FORMULA_AFTER_COMMA = re.compile(r",[=+\-@\t]")
#: Beyond this many distinct verdict texts the cache starts afresh.
_CACHE_LIMIT = 20_000


def fast_chunk(lines: list[bytes]) -> ChunkResult:
    """The chunk's share of every report; raises :class:`Irregular` (see the module docstring)."""
    enabled = gc.isenabled()
    gc.disable()  # nothing here makes a reference cycle; the collector would only rescan the chunk's objects
    try:
        return _Chunk().run(lines)
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: hashed by identity, one object per verdict text
class _VerdictCells:
    """What a record's ``verdict`` gives: its domains.csv cells and its summary and signal counts."""

    cells: tuple[str, ...]  # reserves_ai_training ... content_usage, as _domain_cells places them
    signals_cell: str
    signals: frozenset[str]
    reserves: str | None
    flags: tuple[bool, bool, bool, bool]  # blocks_all_crawlers, tdm_reservation = 1, noai, noimageai


_verdicts: dict[bytes, _VerdictCells] = {}


def _verdict_cells(text: bytes) -> _VerdictCells:
    found = _verdicts.get(text)
    if found is None:
        try:
            verdict = (decode_verdict(text) if text else None) or _NO_VERDICT
        except (msgspec.MsgspecError, ValueError):
            raise Irregular("verdict outside the schema") from None
        cells = (
            verdict.reserves_ai_training or "",
            ";".join(verdict.reservation_signals) if verdict.reservation_signals else "",
            _BOOL[verdict.blocks_all_crawlers], _BOOL[verdict.noai], _BOOL[verdict.noimageai],
            _int(verdict.tdm_reservation),
            verdict.tdm_source or "", verdict.tdm_policy or "", verdict.content_signal or "",
            verdict.content_usage or "",
        )  # fmt: skip
        flags = (verdict.blocks_all_crawlers is True, verdict.tdm_reservation == 1, verdict.noai is True,
                 verdict.noimageai is True)  # fmt: skip
        signals = verdict.signals or []
        if len(_verdicts) >= _CACHE_LIMIT:
            _verdicts.clear()
        found = _verdicts[text] = _VerdictCells(
            cells, ";".join(signals), frozenset(signals), verdict.reserves_ai_training, flags
        )
    return found


class _Chunk:
    def __init__(self) -> None:
        self.rows: list[str] = []  # domains.csv
        self.key_at: dict[Key, int] = {}
        self.counts: list[SiteCounts] = []  # per key, as key_at numbers them
        self.cells: list[bytes] = []
        self.site_keys: list[int] = []
        self.records: Counter[tuple[str | None, _VerdictCells]] = Counter()  # by status and verdict

    def run(self, lines: list[bytes]) -> ChunkResult:
        records, unreadable = _decode(lines)
        for record in records:
            self.rows.append(self.add(record))
        return ChunkResult(
            lines=len(lines),
            unreadable=unreadable,
            domains="".join(self.rows).encode("utf-8"),
            verdicts=self._verdicts(),
            signals=self._signals(),
            sites=self._sites(len(records)),
            keys=list(self.key_at),
            cells=self.cells,
            site_keys=self.site_keys,
        )

    def add(self, record: Record) -> str:
        """Count the record and return its domains.csv row."""
        if record.line is not None and not -EXACT_INT <= record.line <= EXACT_INT:
            raise Irregular("line")
        verdict = _verdict_cells(bytes(record.verdict))
        self.records[(record.status, verdict)] += 1
        key: Key = (bytes(record.other_agents), bytes(record.agents))
        if record.domain and record.status != "invalid_input":  # agents.audited()
            number = self.key_at.get(key)
            if number is None:
                number = self.key_at[key] = len(self.counts)
                self.counts.append(site_counts(key))
            counts = self.counts[number]
            self.site_keys.append(number)
            self.cells.append(text_cell(record.domain).encode("utf-8"))
            training_full, named = counts.training_full, counts.named
        else:
            if key != (b"", b""):
                site_counts(key)  # only to check the results: the pandas path reads them, audited or not
            training_full = named = ""
        cells = _domain_cells(record, verdict, training_full, named)
        row = ",".join(cells)
        if (row.count(",") != _SEPARATORS or '"' in row or "\n" in row or "\r" in row or row[:1] in _FIRSTS
                or _FORMULA_AFTER_COMMA.search(row)):  # fmt: skip
            for i in _TEXT:
                cells[i] = text_cell(cells[i])
            row = ",".join(cells)
        return row + "\n"

    def _verdicts(self) -> np.ndarray:
        """agents.csv's counts for this chunk (see expand.SiteCounts)."""
        total = np.zeros((agent_count(), len(VERDICT_COUNT_COLUMNS)), dtype=np.int64)
        named = len(VERDICT_COUNT_COLUMNS) - 1
        for number, sites in Counter(self.site_keys).items():
            counts = self.counts[number]
            column, is_named = counts.base
            if column is not None:
                total[:, column] += sites
            if is_named:
                total[:, named] += sites
            for agent, override, override_named in counts.overrides:
                if column is not None:
                    total[agent, column] -= sites
                if is_named:
                    total[agent, named] -= sites
                if override is not None:
                    total[agent, override] += sites
                if override_named:
                    total[agent, named] += sites
        return total

    def _signals(self) -> dict[str, int]:
        """Records carrying each signal (a signal listed twice in a record counts once)."""
        counts: Counter[str] = Counter()
        for (_, verdict), records in self.records.items():
            for signal in verdict.signals:
                counts[signal] += records
        return dict(counts)

    def _sites(self, records: int) -> dict[str, int]:
        """summary.csv's counts, as summary.count_sites names them."""
        counts: Counter[str] = Counter({"sites": records})
        for (status, verdict), number in self.records.items():
            if status in SITE_STATUSES:
                counts[status] += number
            if verdict.reserves in DOMAIN_VERDICTS:
                counts["reserves_" + verdict.reserves] += number
            for flag, raised in zip(("blocks_all_crawlers", "tdm_reservation", "noai", "noimageai"), verdict.flags,
                                    strict=True):  # fmt: skip
                counts[flag] += number * raised
        return dict(counts)


def _decode(lines: list[bytes]) -> tuple[list[Record], list[tuple[int, str]]]:
    """The records of the lines, and the lines that are no record (see read.AuditReader)."""
    records: list[Record] = []
    unreadable: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(decode(line))
        except (msgspec.MsgspecError, ValueError):  # not JSON, not UTF-8, or outside the schema
            record, reason = decode_line(text_line(line))
            if record is not None:
                raise Irregular(f"line {number}: a record outside the schema") from None
            if reason is not None:
                unreadable.append((number, reason))
    return records, unreadable


def _int(value: int | None) -> str:
    if value is None:
        return ""
    if not -EXACT_INT <= value <= EXACT_INT:
        raise Irregular(f"integer {value}")
    return str(value)


def _domain_cells(record: Record, verdict: _VerdictCells, training_full: str, named: str) -> list[str]:
    """The record's domains.csv cells in DOMAIN_COLUMNS' order, text cells as they are (see _TEXT)."""
    robots = record.robots or _NO_FETCH
    return [
        record.input or "", record.domain or "", record.status or "", robots.status or "",
        *verdict.cells,
        record.error or "", record.registered_domain or "", record.url or "", record.fault or "",
        _int(robots.http_status),
        (record.home or _NO_FETCH).status or "", (record.tdmrep or _NO_FETCH).status or "",
        (record.aitxt or _NO_FETCH).status or "",
        _BOOL[record.own_access], training_full, named, verdict.signals_cell,
        record.started_at or "", record.finished_at or "",
    ]  # fmt: skip
