"""Build every report of a run folder from its ``audit.jsonl``, one chunk of records at a time.

Chunks of lines are computed in worker processes where the file is large (:mod:`.parallel`),
each into domains.csv rows, its agent rows and its counts (:mod:`.chunk`). This process writes
the rows in file order and adds up the counts; after the last chunk the totals become
``agents.csv``, ``signals.csv`` and ``summary.csv`` (pandas, as before). Memory is bounded by
the chunks in flight, not by the run: a chunk of 2,000 records is 332,000 domain_agents rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from optout_audit.report.agents import AGENT_COLUMNS, DOMAIN_AGENT_COLUMNS, count_verdicts, per_agent, per_site_agent
from optout_audit.report.chunk import VERDICT_COUNT_COLUMNS, ChunkResult
from optout_audit.report.domains import DOMAIN_COLUMNS
from optout_audit.report.expand import agent_count, agent_text
from optout_audit.report.parallel import chunk_results
from optout_audit.report.read import DEFAULT_CHUNKSIZE, load_named, load_sites, log_unreadable
from optout_audit.report.signals import SIGNAL_COLUMNS, per_signal
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
}


class _Totals:
    """The run's additive counts so far: per agent and verdict, per signal, per summary metric."""

    def __init__(self) -> None:
        self.verdicts = np.zeros((agent_count(), len(VERDICT_COUNT_COLUMNS)), dtype=np.int64)
        self.signals: Counter[str] = Counter()
        self.sites: Counter[str] = Counter()
        self.unreadable = 0

    def add(self, chunk: ChunkResult) -> None:
        self.verdicts += chunk.verdicts
        self.signals.update(chunk.signals)
        self.sites.update(chunk.sites)
        self.unreadable += len(chunk.unreadable)

    def verdict_counts(self) -> pd.DataFrame:
        """As agents.count_verdicts gives them."""
        empty = count_verdicts(per_site_agent(load_sites([]), load_named([])))
        return pd.DataFrame(self.verdicts, index=empty.index, columns=VERDICT_COUNT_COLUMNS)[empty.columns]

    def signal_counts(self) -> pd.Series:
        """As signals.count_signals gives them."""
        index = pd.Index(list(self.signals), dtype="str", name="signal")
        return pd.Series(list(self.signals.values()), index=index, dtype="int64", name="domains")

    def site_counts(self) -> pd.Series:
        """As summary.count_sites gives them."""
        index = count_sites(load_sites([])).index
        return pd.Series([self.sites[metric] for metric in index], index=index, dtype="int64")


def build_reports(
    run_dir: Path, *, chunksize: int = DEFAULT_CHUNKSIZE, generated_at: str | None = None, workers: int | None = None
) -> dict[str, Path]:
    """Write the report CSVs of ``run_dir`` from its audit.jsonl; return {file name: path}.

    ``generated_at`` (UTC, ISO 8601) defaults to now; pass it to make the output reproducible.
    ``workers``: processes for a large file (default: one per core, see :mod:`.parallel`).
    Raises :class:`FileNotFoundError` when the folder has no audit.jsonl.
    """
    run_dir = Path(run_dir)
    audit = run_dir / "audit.jsonl"
    if not audit.is_file():
        raise FileNotFoundError(f"no audit.jsonl in {run_dir}")
    totals = _Totals()
    paths = {name: run_dir / name for name in REPORT_COLUMNS}
    with (
        CsvWriter(paths["domains.csv"], DOMAIN_COLUMNS) as domains,
        CsvWriter(paths["domain_agents.csv"], DOMAIN_AGENT_COLUMNS) as domain_agents,
    ):
        lines = 0  # before this chunk
        for chunk in chunk_results(audit, chunksize, workers):
            for number, reason in chunk.unreadable:
                log_unreadable(audit, lines + number, reason)
            lines += chunk.lines
            domains.write_bytes(chunk.domains)
            domain_agents.write_bytes(chunk.agent_text)
            # Each audited site's 166 rows: its domain cell joined with its key's row pieces.
            pieces = [agent_text(key) for key in chunk.keys]
            domain_agents.write_all(map(bytes.join, chunk.cells, map(pieces.__getitem__, chunk.site_keys)))
            totals.add(chunk)
    write_csv(paths["agents.csv"], per_agent(totals.verdict_counts()), AGENT_COLUMNS)
    signals = per_signal(totals.signal_counts(), totals.sites["ok"])
    write_csv(paths["signals.csv"], signals, SIGNAL_COLUMNS)
    stamp = generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = per_metric(totals.site_counts(), unreadable_lines=totals.unreadable, generated_at=stamp,
                         run=_run_record(run_dir))
    write_csv(paths["summary.csv"], summary, SUMMARY_COLUMNS)
    return paths


def _run_record(run_dir: Path) -> dict:
    import json

    try:
        record = json.loads((run_dir / "run.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}
