"""Build every report of a run folder from its ``audit.jsonl``, one chunk of records at a time.

Each chunk (a :class:`~optout_audit.auditfile.Span` of lines read by
:func:`~optout_audit.auditfile.read_span`) becomes two DataFrames, ``sites`` (one row per record)
and ``named`` (one row per named-agent entry); from those come its domains.csv,
domain_agents.csv and conflicts.csv text and its counts (:func:`chunk_report`). The text is
appended to the files and the counts added to the run's totals in file order. After the last
chunk the totals become ``agents.csv``, ``signals.csv`` and ``summary.csv``, and then report.html
is written from the files and the totals (it need not read domains.csv back whole).

Chunks are computed by :data:`WORKERS` processes while this one writes, at most ``WORKERS + 1``
chunks in flight: memory is bounded by a few chunks, not by the run. A file of one chunk is computed
here, without a process. The workers are new interpreters, never forks of this process, which may
have threads (:func:`_worker_context`).
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from optout_audit.auditfile import (
    AUDIT_FILE,
    RUN_FILE,
    Chunk,
    Span,
    line_spans,
    log_unreadable,
    read_span,
)
from optout_audit.files import read_json_object
from optout_audit.report.agents import (
    AGENT_COLUMNS,
    DOMAIN_AGENT_COLUMNS,
    count_verdicts,
    per_agent,
    site_agents,
)
from optout_audit.report.conflicts import CONFLICT_COLUMNS, per_conflict
from optout_audit.report.csvsafe import neutralise
from optout_audit.report.domains import DOMAIN_COLUMNS, per_domain
from optout_audit.report.html import DomainCounts, write_html_report
from optout_audit.report.signals import SIGNAL_COLUMNS, count_signals, per_signal
from optout_audit.report.summary import SUMMARY_COLUMNS, count_sites, per_metric
from optout_audit.report.write import CsvWriter, csv_text, write_csv

__all__ = [
    "REPORT_CHUNKSIZE",
    "REPORT_COLUMNS",
    "WORKERS",
    "ChunkReport",
    "build_reports",
    "chunk_report",
]

#: Every report file of a run folder and its columns, in order (the README's required ones first).
REPORT_COLUMNS: dict[str, list[str]] = {
    "domains.csv": DOMAIN_COLUMNS,
    "domain_agents.csv": DOMAIN_AGENT_COLUMNS,
    "agents.csv": AGENT_COLUMNS,
    "signals.csv": SIGNAL_COLUMNS,
    "summary.csv": SUMMARY_COLUMNS,
    "conflicts.csv": CONFLICT_COLUMNS,
}
#: Processes computing chunks (each holds one chunk at a time).
WORKERS = 2
#: Records per chunk (diff and history read 20,000 at a time): each worker holds one chunk's frames, and
#: smaller chunks make room for the workers' own copies of pandas at no cost in CPU.
REPORT_CHUNKSIZE = 10_000
_APPENDED = ("domains.csv", "domain_agents.csv", "conflicts.csv")


@dataclass
class ChunkReport:
    """What one chunk adds to the reports: the rows of the appended files (UTF-8 CSV text, no
    header) and its counts."""

    rows: dict[str, bytes]
    verdicts: pd.DataFrame
    signals: pd.Series
    sites: pd.Series
    faults: list[tuple[str, int]]  # rows per fault cell, first seen first
    unreadable: list[tuple[int, str]]


def chunk_report(path: Path, span: Span) -> ChunkReport:
    """The report rows and counts of one span of ``path``.

    Its records are numbered from the lines before it: every join here is within the chunk.
    """
    chunk = read_span(path, span, first=span.lines_before)
    sites, named = chunk.sites(), chunk.named()
    frames = {
        "domains.csv": per_domain(sites, named),
        "domain_agents.csv": site_agents(sites, named),
        "conflicts.csv": per_conflict(sites, chunk.conflicts()),
    }
    rows = {name: csv_text(frame[REPORT_COLUMNS[name]]).encode("utf-8") for name, frame in frames.items()}
    report = ChunkReport(rows, count_verdicts(sites, named), count_signals(sites), count_sites(sites),
                         _fault_counts(sites), chunk.unreadable)  # fmt: skip
    del chunk, sites, named, frames
    gc.collect(0)  # (the collector is off in a worker: see _worker_start)
    return report


def _add(total: pd.Series | pd.DataFrame | None, part: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    return part if total is None else total.add(part, fill_value=0).astype("int64")


def build_reports(
    run_dir: Path, *, chunksize: int = REPORT_CHUNKSIZE, generated_at: str | None = None
) -> dict[str, Path]:
    """Write the report CSVs of ``run_dir`` from its audit.jsonl; return {file name: path}.

    ``generated_at`` (UTC, ISO 8601) defaults to now; pass it to make the output reproducible.
    Raises :class:`FileNotFoundError` when the folder has no audit.jsonl.
    """
    run_dir = Path(run_dir)
    audit = run_dir / AUDIT_FILE
    if not audit.is_file():
        raise FileNotFoundError(f"no audit.jsonl in {run_dir}")
    paths = {name: run_dir / name for name in REPORT_COLUMNS}
    verdicts = signals = sites_count = None
    unreadable = 0
    domain_counts = DomainCounts()
    with (
        CsvWriter(paths["domains.csv"], DOMAIN_COLUMNS) as domains,
        CsvWriter(paths["domain_agents.csv"], DOMAIN_AGENT_COLUMNS) as domain_agents,
        CsvWriter(paths["conflicts.csv"], CONFLICT_COLUMNS) as conflicts,
    ):
        writers = dict(zip(_APPENDED, (domains, domain_agents, conflicts), strict=True))
        for report in chunk_reports(audit, chunksize):
            for name, writer in writers.items():
                writer.write_text(report.rows[name])
            verdicts = _add(verdicts, report.verdicts)
            signals = _add(signals, report.signals)
            sites_count = _add(sites_count, report.sites)
            unreadable += len(report.unreadable)
            for number, reason in report.unreadable:
                log_unreadable(audit, number, reason)
            for cell, count in report.faults:
                domain_counts.faults[cell] += count
    if sites_count is None:  # an empty file: the tables of no records
        sites, named = _no_records()
        verdicts, signals, sites_count = count_verdicts(sites, named), count_signals(sites), count_sites(sites)
    domain_counts.sites = int(sites_count["sites"])
    write_csv(paths["agents.csv"], per_agent(verdicts), AGENT_COLUMNS)
    write_csv(paths["signals.csv"], per_signal(signals, int(sites_count["ok"])), SIGNAL_COLUMNS)
    stamp = generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = per_metric(
        sites_count, unreadable_lines=unreadable, generated_at=stamp, run=read_json_object(run_dir / RUN_FILE)
    )
    write_csv(paths["summary.csv"], summary, SUMMARY_COLUMNS)
    paths["report.html"] = write_html_report(run_dir, domain_counts)  # last: the page reads the CSVs
    return paths


def chunk_reports(audit: Path, chunksize: int) -> Iterator[ChunkReport]:
    """:func:`chunk_report` of every span of ``audit``, in file order: by :data:`WORKERS` worker
    processes, at most ``WORKERS + 1`` chunks in flight (here, when the file is one chunk)."""
    spans = line_spans(audit, chunksize)  # (found while the workers compute)
    first = list(itertools.islice(spans, 2))
    if len(first) <= 1:
        yield from (chunk_report(audit, span) for span in first)
        return
    with ProcessPoolExecutor(WORKERS, mp_context=_worker_context(), initializer=_worker_start) as pool:
        pending: deque[Future] = deque()
        try:
            for span in itertools.chain(first, spans):
                pending.append(pool.submit(chunk_report, audit, span))
                if len(pending) > WORKERS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # stopped early (an error, Ctrl-C): no work left behind
                future.cancel()


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers started as new interpreters ("spawn": fork and exec at once), never forked from this
    process: it may be the crawl, whose event loop keeps threads (libuv's) alive, and a fork would copy
    the locks they hold into the child, held for good. They are this process's children, joined when
    the pool ends (their CPU is this process's children's)."""
    return multiprocessing.get_context("spawn")


def _worker_start() -> None:
    """Ctrl-C is the main process's to handle (it ends the pool; a worker would print a traceback).
    A chunk allocates millions of small objects, none in a cycle: without the cyclic collector's
    passes over them (chunk_report collects the young generation once per chunk)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()


def _fault_counts(sites: pd.DataFrame) -> list[tuple[str, int]]:
    """Rows per non-empty ``fault`` cell (the text domains.csv holds), first seen first."""
    codes, cells = pd.factorize(neutralise(sites["fault"]))
    per_cell = np.bincount(codes[codes >= 0], minlength=len(cells))
    return [(cell, int(count)) for cell, count in zip(cells, per_cell, strict=True) if cell]


def _no_records() -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = Chunk(0, [], [], 0)
    return empty.sites(), empty.named()
