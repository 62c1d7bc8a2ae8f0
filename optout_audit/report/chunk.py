"""One chunk of audit.jsonl lines -> its share of every report (:class:`ChunkResult`).

Computed in a worker process or in the report's own (:mod:`.parallel`), by one of two paths that
give the same bytes:

- :mod:`.fastpath`, plain Python over records decoded into typed structs (:mod:`.schema`), for
  chunks whose every record fits those types, i.e. every record the crawler writes;
- the pandas path of :mod:`.read`, :mod:`.agents` and :mod:`.domains`, which defines the reports
  for any JSON: a chunk with a record outside the schema takes it whole.

Either way the result holds domains.csv's rows as text and the chunk's counts for agents.csv,
signals.csv and summary.csv. domain_agents.csv's rows come as text from the pandas path; from the
fast path as, per audited site, its domain cell and its :data:`~.expand.Key`, which the report
process turns into text (:func:`.expand.agent_text`): that text is ~9.5 KB per site, and joining
it where it is written is cheaper than sending it between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optout_audit.items import AGENT_VERDICTS
from optout_audit.report.agents import DOMAIN_AGENT_COLUMNS, count_verdicts, listed_agents, per_site_agent
from optout_audit.report.domains import DOMAIN_COLUMNS, per_domain, with_agent_counts
from optout_audit.report.expand import Key
from optout_audit.report.read import decode_line, load_named, load_sites
from optout_audit.report.signals import count_signals
from optout_audit.report.summary import count_sites
from optout_audit.report.write import csv_text

__all__ = ["ChunkResult", "VERDICT_COUNT_COLUMNS", "pandas_chunk", "text_line"]

#: Columns of :attr:`ChunkResult.verdicts` (one row per listed agent, in list order).
VERDICT_COUNT_COLUMNS = [*AGENT_VERDICTS, "named"]


@dataclass
class ChunkResult:
    lines: int  # lines in the chunk, as a text file counts them (so that line numbers add up)
    unreadable: list[tuple[int, str]]  # (line number within the chunk, 1-based; why)
    domains: bytes  # domains.csv rows
    verdicts: np.ndarray  # agents x VERDICT_COUNT_COLUMNS: domains per verdict, domains naming the agent
    signals: dict[str, int]  # signal -> records carrying it
    sites: dict[str, int]  # summary metric -> count (count_sites' index)
    agent_text: bytes = b""  # domain_agents.csv rows (pandas path)
    keys: list[Key] = field(default_factory=list)  # fast path: the chunk's distinct keys
    cells: list[bytes] = field(default_factory=list)  # fast path: each audited site's domain cell ...
    site_keys: list[int] = field(default_factory=list)  # ... and its key, a position in ``keys``


def text_line(line: bytes) -> str:
    """A line as ``AuditReader`` reads it: bad UTF-8 replaced, its line end (if any) as ``\\n``."""
    body = line.rstrip(b"\r\n")  # one line end at most: splitlines cut there
    return body.decode("utf-8", "replace") + ("\n" if len(body) < len(line) else "")


def pandas_chunk(lines: list[bytes]) -> ChunkResult:
    """The chunk through the pandas path (see the module docstring)."""
    records: list[dict[str, Any]] = []
    unreadable: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        record, reason = decode_line(text_line(line))
        if record is not None:
            records.append(record)
        elif reason is not None:
            unreadable.append((number, reason))
    if not records:  # (load_sites([]) loses its index name, and per_site_agent needs it)
        verdicts = np.zeros((len(listed_agents()), len(VERDICT_COUNT_COLUMNS)), dtype=np.int64)
        return ChunkResult(len(lines), unreadable, b"", verdicts, signals={}, sites={})
    sites, named = load_sites(records), load_named(records)
    site_agents = per_site_agent(sites, named)
    domains = sites.pipe(with_agent_counts, site_agents).pipe(per_domain)
    verdicts = count_verdicts(site_agents).reindex(listed_agents()["agent"].astype("str"))[VERDICT_COUNT_COLUMNS]
    return ChunkResult(
        lines=len(lines),
        unreadable=unreadable,
        domains=csv_text(domains[DOMAIN_COLUMNS]).encode("utf-8"),
        verdicts=verdicts.to_numpy(dtype=np.int64),
        signals=_dict(count_signals(sites)),
        sites=_dict(count_sites(sites)),
        agent_text=csv_text(site_agents[DOMAIN_AGENT_COLUMNS]).encode("utf-8"),
    )


def _dict(counts: pd.Series) -> dict[str, int]:
    return {str(name): int(count) for name, count in counts.items()}
