"""``trends.csv``: one row per run with its headline shares, for a spreadsheet or pandas to plot.

``optout-audit history RUNS_DIR`` reads every run folder under ``RUNS_DIR`` (see :mod:`.runs`),
each run's ``audit.jsonl`` in chunks, and writes one row per run, oldest first:

- ``run`` (folder name), ``run_id``, ``started_at``, ``finished_at``, ``agent_list`` from run.json;
- ``sites`` (records, invalid inputs included), ``ok`` (sites that answered), ``robots_read``
  (audited sites whose robots.txt rules were read: a 4xx counts, it allows everything);
- over ``ok`` sites, as summary.csv counts them: ``share_reserving`` (``reserves_ai_training``
  = yes; the same figure as summary.csv), ``share_partial``, ``share_blocks_all_crawlers``,
  ``share_tdm_reservation`` (an effective ``tdm-reservation: 1``), ``share_noai``;
- over ``robots_read`` sites: ``share_blocking_<purpose>`` for each purpose class (``training``,
  ``search``, ``user_triggered``, ``other``): sites whose robots.txt fully disallows at least one
  listed agent of that class; ``full_share_<agent>`` for each of :data:`MAIN_AGENTS`: sites that
  fully disallow it (the same figure as that agent's ``full_share`` in agents.csv).

Shares are rounded to 6 decimals, empty when their denominator is 0. A run's records stay compact
here (named agents plus one result for all others, as in audit.jsonl): nothing is expanded to
166 rows per site, so a million-site run costs one pass over its file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optout_audit.agents import PURPOSES
from optout_audit.auditfile import AUDIT_FILE, DEFAULT_CHUNKSIZE, Chunk, read_chunks
from optout_audit.report.agents import audited, listed_agents
from optout_audit.report.runs import read_run_info
from optout_audit.report.write import write_csv

__all__ = ["MAIN_AGENTS", "TREND_COLUMNS", "count_run", "run_trends", "trend_rows", "write_trends"]

#: The agents that get a column of their own in trends.csv and a line in a diff's summary.
MAIN_AGENTS = ("GPTBot", "ClaudeBot", "CCBot", "Google-Extended", "Applebot-Extended", "meta-externalagent",
               "Bytespider", "PerplexityBot", "OAI-SearchBot", "ChatGPT-User")  # fmt: skip
_PURPOSE_COLUMNS = {purpose: "share_blocking_" + purpose.replace("-", "_") for purpose in PURPOSES}
_OK_SHARES = {"share_reserving": "reserves_yes", "share_partial": "reserves_partial",
              "share_blocks_all_crawlers": "blocks_all_crawlers", "share_tdm_reservation": "tdm_reservation",
              "share_noai": "noai"}  # fmt: skip
TREND_COLUMNS = [
    "run", "run_id", "started_at", "finished_at", "agent_list", "sites", "ok", "robots_read", *_OK_SHARES,
    *_PURPOSE_COLUMNS.values(), *(f"full_share_{agent}" for agent in MAIN_AGENTS),
]  # fmt: skip


def _chunk_counts(sites: pd.DataFrame, named: pd.DataFrame) -> pd.Series:
    """The additive counts of one chunk of records (see the module docstring)."""
    targets = audited(sites)
    other = targets["other_verdict"].fillna("unknown")
    read = targets.index[other.ne("unknown")]
    agents = listed_agents().astype("str")
    purpose_of = agents.set_index("agent")["purpose"]
    entries = named[named["record"].isin(read) & named["agent"].isin(purpose_of.index)]
    entries = entries.drop_duplicates(["record", "agent"]).assign(purpose=lambda f: f["agent"].map(purpose_of))
    counts = {
        "sites": len(sites),
        "ok": int(sites["status"].eq("ok").sum()),
        "robots_read": len(read),
        "reserves_yes": int(sites["reserves_ai_training"].eq("yes").sum()),
        "reserves_partial": int(sites["reserves_ai_training"].eq("partial").sum()),
        "blocks_all_crawlers": int(sites["blocks_all_crawlers"].eq(True).sum()),
        "tdm_reservation": int(sites["tdm_reservation"].eq(1).sum()),
        "noai": int(sites["noai"].eq(True).sum()),
    }
    counts |= _purpose_counts(entries, other.loc[read], agents["purpose"].value_counts())
    counts |= _agent_counts(entries, other.loc[read])
    return pd.Series(counts, dtype="int64")


def _purpose_counts(entries: pd.DataFrame, other: pd.Series, class_size: pd.Series) -> dict[str, int]:
    """Per purpose class: read sites that fully disallow at least one listed agent of the class.

    An agent no user-agent line names gets the site's ``other`` verdict, so ``other == full``
    blocks the class unless the site names every agent of it.
    """
    by_class = entries.groupby(["record", "purpose"]).size().unstack(fill_value=0)
    full = entries[entries["verdict"].eq("full")].groupby(["record", "purpose"]).size().unstack(fill_value=0)
    by_class = by_class.reindex(index=other.index, columns=list(PURPOSES), fill_value=0)
    full = full.reindex(index=other.index, columns=list(PURPOSES), fill_value=0)
    unnamed_left = by_class.lt(class_size.reindex(list(PURPOSES), fill_value=0), axis="columns")
    blocked = full.gt(0) | unnamed_left.mul(other.eq("full"), axis="index")
    return {f"blocking_{purpose}": int(blocked[purpose].sum()) for purpose in PURPOSES}


def _agent_counts(entries: pd.DataFrame, other: pd.Series) -> dict[str, int]:
    """Per main agent: read sites whose robots.txt fully disallows it (named, else ``other``)."""
    main = entries[entries["agent"].isin(MAIN_AGENTS)]
    verdicts = main.pivot(index="record", columns="agent", values="verdict")
    verdicts = verdicts.reindex(index=other.index, columns=list(MAIN_AGENTS))
    effective = np.where(verdicts.isna(), other.to_numpy()[:, None], verdicts.to_numpy(dtype=object))
    full = (effective == "full").sum(axis=0)
    return {f"full_{agent}": int(count) for agent, count in zip(MAIN_AGENTS, full, strict=True)}


def count_run(run_dir: Path, chunksize: int = DEFAULT_CHUNKSIZE) -> pd.Series:
    """Return the run's counts (sites, ok, robots_read, reserves_yes ... full_GPTBot), one chunk at a time."""
    total: pd.Series | None = None
    for chunk in read_chunks(Path(run_dir) / AUDIT_FILE, chunksize):
        counts = _chunk_counts(chunk.sites(), chunk.named())
        total = counts if total is None else total.add(counts, fill_value=0).astype("int64")
    if total is None:
        empty = Chunk(0, [], [], 0)
        total = _chunk_counts(empty.sites(), empty.named())
    return total


def trend_rows(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts (one row per run, with the run.json columns) -> the shares of trends.csv."""
    ok = counts["ok"].where(counts["ok"] > 0)
    read = counts["robots_read"].where(counts["robots_read"] > 0)
    shares = {column: counts[count] / ok for column, count in _OK_SHARES.items()}
    shares |= {column: counts[f"blocking_{purpose}"] / read for purpose, column in _PURPOSE_COLUMNS.items()}
    shares |= {f"full_share_{agent}": counts[f"full_{agent}"] / read for agent in MAIN_AGENTS}
    rounded = {column: values.astype("Float64").round(6) for column, values in shares.items()}
    return counts.assign(**rounded).reindex(columns=TREND_COLUMNS)


def run_trends(run_dirs: list[Path], chunksize: int = DEFAULT_CHUNKSIZE) -> pd.DataFrame:
    """Return trends.csv's rows for these run folders, oldest first (by start time, then folder name)."""
    rows = []
    for run_dir in run_dirs:
        info = read_run_info(run_dir)
        meta = {key: info.get(key) for key in ("run", "run_id", "started_at", "finished_at", "agent_list")}
        rows.append({**meta, **count_run(run_dir, chunksize).to_dict()})
    frame = pd.DataFrame.from_records(rows)
    text = ["run", "run_id", "started_at", "finished_at", "agent_list"]
    if frame.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    return (
        frame.astype({column: "str" for column in text})
        .sort_values(["started_at", "run"], na_position="last", ignore_index=True)
        .pipe(trend_rows)
    )


def write_trends(trends: pd.DataFrame, path: Path) -> Path:
    """Write trends.csv (UTF-8, CSV-injection safe, see :mod:`.csvsafe`); return the path."""
    return write_csv(Path(path), trends, TREND_COLUMNS)
