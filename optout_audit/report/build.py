"""Build every report of a run folder from its ``audit.jsonl``, one chunk of records at a time.

Each chunk (:func:`optout_audit.auditfile.read_chunks`) becomes two DataFrames, ``sites`` (one
row per record) and ``named`` (one row per named-agent entry); from those come its domains.csv,
domain_agents.csv and conflicts.csv rows, appended to the files, and its counts, added to the
run's totals. After the last chunk the totals become ``agents.csv``, ``signals.csv`` and
``summary.csv``, and then report.html is written from the files (:mod:`.html`) and the totals (it
need not read domains.csv back whole). Memory is bounded by one chunk, not by the run.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from optout_audit.auditfile import AUDIT_FILE, DEFAULT_CHUNKSIZE, RUN_FILE, Chunk, read_chunks
from optout_audit.report.agents import (
    AGENT_COLUMNS,
    DOMAIN_AGENT_COLUMNS,
    count_verdicts,
    per_agent,
    site_agents,
)
from optout_audit.report.conflicts import CONFLICT_COLUMNS, per_conflict
from optout_audit.report.domains import DOMAIN_COLUMNS, per_domain
from optout_audit.report.csvsafe import neutralise
from optout_audit.report.html import DomainCounts, write_html_report
from optout_audit.report.signals import SIGNAL_COLUMNS, count_signals, per_signal
from optout_audit.report.summary import SUMMARY_COLUMNS, count_sites, per_metric
from optout_audit.report.write import CsvWriter, write_csv

__all__ = ["REPORT_COLUMNS", "build_reports"]

#: Every report file of a run folder and its columns, in order (DESIGN.md's required ones first).
REPORT_COLUMNS: dict[str, list[str]] = {
    "domains.csv": DOMAIN_COLUMNS,
    "domain_agents.csv": DOMAIN_AGENT_COLUMNS,
    "agents.csv": AGENT_COLUMNS,
    "signals.csv": SIGNAL_COLUMNS,
    "summary.csv": SUMMARY_COLUMNS,
    "conflicts.csv": CONFLICT_COLUMNS,
}


def _add(total: pd.Series | pd.DataFrame | None, part: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    return part if total is None else total.add(part, fill_value=0).astype("int64")


def build_reports(run_dir: Path, *, chunksize: int = DEFAULT_CHUNKSIZE, generated_at: str | None = None) -> dict[str, Path]:
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
        for chunk in paused_collector(read_chunks(audit, chunksize)):
            sites, named = chunk.sites(), chunk.named()
            domains.write(per_domain(sites, named))
            domain_agents.write(site_agents(sites, named))
            conflicts.write(per_conflict(sites, chunk.conflicts()))
            verdicts = _add(verdicts, count_verdicts(sites, named))
            signals = _add(signals, count_signals(sites))
            sites_count = _add(sites_count, count_sites(sites))
            unreadable += len(chunk.unreadable)
            _count_faults(domain_counts, sites)
    if sites_count is None:  # an empty file: the tables of no records
        sites, named = _no_records()
        verdicts, signals, sites_count = count_verdicts(sites, named), count_signals(sites), count_sites(sites)
    write_csv(paths["agents.csv"], per_agent(verdicts), AGENT_COLUMNS)
    write_csv(paths["signals.csv"], per_signal(signals, int(sites_count["ok"])), SIGNAL_COLUMNS)
    stamp = generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = per_metric(sites_count, unreadable_lines=unreadable, generated_at=stamp, run=_run_record(run_dir))
    write_csv(paths["summary.csv"], summary, SUMMARY_COLUMNS)
    paths["report.html"] = write_html_report(run_dir, domain_counts)  # last: the page reads the CSVs
    return paths


def _count_faults(counts: DomainCounts, sites: pd.DataFrame) -> None:
    """Add a chunk's rows and rows per ``fault`` cell (the text domains.csv holds, first seen first)."""
    counts.sites += len(sites)
    codes, cells = pd.factorize(neutralise(sites["fault"]))
    per_cell = np.bincount(codes[codes >= 0], minlength=len(cells))
    for cell, count in zip(cells, per_cell, strict=True):
        if cell:
            counts.faults[cell] += int(count)


def _run_record(run_dir: Path) -> dict:
    """The run's run.json (its state and duplicate lines go into summary.csv); {} without one."""
    try:
        record = json.loads((run_dir / RUN_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def paused_collector(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """The chunks, with the cyclic garbage collector run every few chunks instead of during them.

    A chunk allocates millions of small objects; each allocation burst sets off collections that
    rescan every live record of the chunk, for nothing: none of them is part of a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        for number, chunk in enumerate(chunks, start=1):
            yield chunk
            if number % 8 == 0:  # (a collection costs a scan of the chunk still referenced)
                gc.collect(0)
    finally:
        if enabled:
            gc.enable()


def _no_records() -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = Chunk(0, [], [], 0)
    return empty.sites(), empty.named()
