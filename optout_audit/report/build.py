"""Build every report of a run folder from its ``audit.jsonl``, one chunk of records at a time.

Per chunk: load the records (:mod:`.read`), expand them to one row per domain and agent
(:mod:`.agents`), append to ``domains.csv`` and ``domain_agents.csv``, and add the chunk's counts
to the run's totals. After the last chunk the totals become ``agents.csv``, ``signals.csv`` and
``summary.csv``. Memory is bounded by the chunk size, not by the run: a chunk of 2,000 records is
332,000 domain_agents rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pandas as pd

from optout_audit.report.agents import AGENT_COLUMNS, DOMAIN_AGENT_COLUMNS, count_verdicts, per_agent, per_site_agent
from optout_audit.report.domains import DOMAIN_COLUMNS, per_domain, with_agent_counts
from optout_audit.report.read import DEFAULT_CHUNKSIZE, AuditReader, load_named, load_sites
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
}


_Counts = TypeVar("_Counts", pd.DataFrame, pd.Series)


@dataclass
class _Totals:
    """The run's additive counts so far: per agent and verdict, per signal, per summary metric."""

    verdicts: pd.DataFrame
    signals: pd.Series
    sites: pd.Series

    @classmethod
    def start(cls) -> _Totals:
        """Zero counts: those of a run without records."""
        sites = load_sites([])
        site_agents = per_site_agent(sites, load_named([]))
        return cls(count_verdicts(site_agents), count_signals(sites), count_sites(sites))

    def add(self, sites: pd.DataFrame, site_agents: pd.DataFrame) -> None:
        self.verdicts = _plus(self.verdicts, count_verdicts(site_agents))
        self.signals = _plus(self.signals, count_signals(sites))
        self.sites = _plus(self.sites, count_sites(sites))


def _plus(total: _Counts, more: _Counts) -> _Counts:
    """``total + more``, a count missing on one side being 0."""
    return total.add(more, fill_value=0).astype("int64")


def build_reports(
    run_dir: Path, *, chunksize: int = DEFAULT_CHUNKSIZE, generated_at: str | None = None
) -> dict[str, Path]:
    """Write the report CSVs of ``run_dir`` from its audit.jsonl; return {file name: path}.

    ``generated_at`` (UTC, ISO 8601) defaults to now; pass it to make the output reproducible.
    Raises :class:`FileNotFoundError` when the folder has no audit.jsonl.
    """
    run_dir = Path(run_dir)
    audit = run_dir / "audit.jsonl"
    if not audit.is_file():
        raise FileNotFoundError(f"no audit.jsonl in {run_dir}")
    reader = AuditReader(audit, chunksize)
    totals = _Totals.start()
    paths = {name: run_dir / name for name in REPORT_COLUMNS}
    with (
        CsvWriter(paths["domains.csv"], DOMAIN_COLUMNS) as domains,
        CsvWriter(paths["domain_agents.csv"], DOMAIN_AGENT_COLUMNS) as domain_agents,
    ):
        first = 0
        for records in reader:
            sites, named = load_sites(records, first), load_named(records, first)
            first += len(records)
            site_agents = per_site_agent(sites, named)
            domains.write(sites.pipe(with_agent_counts, site_agents).pipe(per_domain))
            domain_agents.write(site_agents)
            totals.add(sites, site_agents)
    write_csv(paths["agents.csv"], per_agent(totals.verdicts), AGENT_COLUMNS)
    write_csv(paths["signals.csv"], per_signal(totals.signals, int(totals.sites["ok"])), SIGNAL_COLUMNS)
    stamp = generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = per_metric(totals.sites, unreadable_lines=len(reader.unreadable_lines), generated_at=stamp)
    write_csv(paths["summary.csv"], summary, SUMMARY_COLUMNS)
    return paths
