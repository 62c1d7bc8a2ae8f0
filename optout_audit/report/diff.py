"""``changes.csv``: what changed between two runs, domain by domain, and a short summary of it.

``optout-audit diff OLD_RUN NEW_RUN`` reads both runs' ``audit.jsonl`` in chunks and writes one
row per change, columns :data:`CHANGE_COLUMNS`:

``domain``
    the lower-case IDNA host (invalid input lines have none and are left out).
``scope``, ``item``
    ``domain`` with a domains.csv column (:data:`DOMAIN_ITEMS`); ``signal`` with a signal name
    (signals.csv's, e.g. ``tdm_reservation``, ``robots_training_agent_full``); ``agent`` with a
    listed agent's name (domain_agents.csv's ``verdict``).
``change``
    ``added`` / ``removed``: the domain is in the new / old run only (one row, item
    ``reserves_ai_training``, with its verdict in that run); such a domain gets no other row.
    ``changed``: a domain column or an agent's verdict differs. ``appeared`` / ``disappeared``:
    a signal is shown by the new / old run only.
``old``, ``new``
    the values as domains.csv / domain_agents.csv write them (``true``/``false``, empty when
    unknown); for signals ``false``/``true``.

What is compared, for a domain present in both runs:

- ``status``, ``robots_status`` and ``reserves_ai_training``: always. A site that became
  unreachable gets these three rows (e.g. ``ok`` -> ``unreachable``, ``yes`` -> ``unknown``).
- the other domain columns (``blocks_all_crawlers``, ``noai``, ``noimageai``, ``tdm_reservation``,
  ``tdm_source``, ``tdm_policy``, ``content_signal``, ``content_usage``) and the signals: only when
  the site answered (``status`` ``ok``) in both runs. What a failed run could not read is not a
  change in what the site says; the three rows above say what happened.
- agent verdicts: only when both runs read the robots.txt rules (a 4xx counts: it allows
  everything); a verdict that became ``unknown`` is told by ``robots_status``. Every listed agent
  is compared: a site that adds ``User-agent: *`` / ``Disallow: /`` gets a row for each agent it
  does not name otherwise.

Rows are ordered by domain, then scope (domain, signal, agent), then item (domain columns in
:data:`DOMAIN_ITEMS` order, signals by name, agents in the list's order). The summary
(:func:`summarise`) is counted from these rows only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optout_audit.auditfile import AUDIT_FILE, DEFAULT_CHUNKSIZE, Chunk, read_chunks
from optout_audit.report.agents import OTHER_AGENTS, audited, listed_agents, site_agents
from optout_audit.report.csvsafe import csv_cells
from optout_audit.report.history import MAIN_AGENTS
from optout_audit.report.write import write_csv

__all__ = ["CHANGE_COLUMNS", "DOMAIN_ITEMS", "DiffResult", "RunState", "compare_runs", "diff_runs", "read_state",
           "summarise", "write_changes"]  # fmt: skip

CHANGE_COLUMNS = ["domain", "scope", "item", "change", "old", "new"]
#: Compared whatever happened to the site.
OUTCOME_ITEMS = ["status", "robots_status", "reserves_ai_training"]
#: Compared when the site answered in both runs.
READING_ITEMS = ["blocks_all_crawlers", "noai", "noimageai", "tdm_reservation", "tdm_source", "tdm_policy",
                 "content_signal", "content_usage"]  # fmt: skip
DOMAIN_ITEMS = [*OUTCOME_ITEMS, *READING_ITEMS]
SCOPES = ("domain", "signal", "agent")
_EMPTY = pd.DataFrame(columns=CHANGE_COLUMNS, dtype="str")


@dataclass
class RunState:
    """What a diff needs of one run, one row per audited domain.

    ``sites``: indexed by domain; :data:`DOMAIN_ITEMS` as their domains.csv cells (str, ``""`` when
    unknown), ``signals`` (a list), ``other_verdict`` (every agent no user-agent line names) and
    ``rules_known``. ``named``: one row per (domain, listed agent) named by a user-agent line:
    ``domain``, ``agent``, ``verdict``.
    """

    sites: pd.DataFrame
    named: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["domain", "agent", "verdict"]))


def _site_view(sites: pd.DataFrame) -> pd.DataFrame:
    """Audited records -> domain, the DOMAIN_ITEMS cells, signals, other_verdict, rules_known."""
    sites = sites.loc[audited(sites).index]
    cells = csv_cells(sites[DOMAIN_ITEMS]).fillna("").astype("str")
    other = sites["other_verdict"].fillna("unknown").astype("str")
    return cells.assign(domain=sites["domain"], signals=sites["signals"], other_verdict=other,
                        rules_known=other.ne("unknown"))  # fmt: skip


def read_state(run_dir: Path, chunksize: int = DEFAULT_CHUNKSIZE) -> RunState:
    """Read a run folder's audit.jsonl in chunks into a :class:`RunState`.

    The named verdicts are domain_agents.csv's rows (:func:`.agents.site_agents`) without the
    ``*`` row, whose verdict is ``other_verdict``: the compact form, compared without expanding it.
    """
    site_parts, named_parts = [], []
    for chunk in read_chunks(Path(run_dir) / AUDIT_FILE, chunksize):
        sites = chunk.sites()
        site_parts.append(_site_view(sites))
        rows = site_agents(sites, chunk.named())
        named_parts.append(rows.loc[rows["agent"].ne(OTHER_AGENTS), ["domain", "agent", "verdict"]])
    if not site_parts:
        return RunState(_site_view(Chunk(0, [], [], 0).sites()).set_index("domain"))
    sites = pd.concat(site_parts).drop_duplicates("domain").set_index("domain")  # one row per site anyway
    named = pd.concat(named_parts, ignore_index=True).drop_duplicates(["domain", "agent"])
    return RunState(sites, named.astype("str"))


def _rows(domain: pd.Index | pd.Series, scope: str, item, change: str, old, new) -> pd.DataFrame:
    """Change rows; every argument a scalar or one value per domain (matched by position)."""
    values = {"domain": domain, "scope": scope, "item": item, "change": change, "old": old, "new": new}
    columns = {name: np.asarray(value, dtype=object) if isinstance(value, (pd.Series, pd.Index, np.ndarray))
               else value for name, value in values.items()}  # fmt: skip
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(domain)))
    return frame.astype("str") if len(frame) else _EMPTY


def membership_changes(old: RunState, new: RunState) -> pd.DataFrame:
    """One row per domain in one run only: ``added`` / ``removed``, with its reserves_ai_training."""
    added = new.sites.index.difference(old.sites.index)
    removed = old.sites.index.difference(new.sites.index)
    return pd.concat([
        _rows(added, "domain", "reserves_ai_training", "added", "", new.sites.loc[added, "reserves_ai_training"]),
        _rows(removed, "domain", "reserves_ai_training", "removed", old.sites.loc[removed, "reserves_ai_training"], ""),
    ])  # fmt: skip


def _common(old: RunState, new: RunState) -> tuple[pd.DataFrame, pd.DataFrame]:
    both = old.sites.index.intersection(new.sites.index)
    return old.sites.loc[both], new.sites.loc[both]


def domain_changes(old: RunState, new: RunState) -> pd.DataFrame:
    """``changed`` rows for the domain columns (see the module docstring for which are compared when)."""
    before, after = _common(old, new)
    answered = before["status"].eq("ok") & after["status"].eq("ok")
    parts = []
    for item in DOMAIN_ITEMS:
        differs = before[item].ne(after[item])
        if item in READING_ITEMS:
            differs &= answered
        index = before.index[differs]
        parts.append(_rows(index, "domain", item, "changed", before.loc[index, item], after.loc[index, item]))
    return pd.concat(parts)


def signal_changes(old: RunState, new: RunState) -> pd.DataFrame:
    """``appeared`` / ``disappeared`` rows for the signals of sites that answered in both runs."""
    before, after = _common(old, new)
    answered = before["status"].eq("ok") & after["status"].eq("ok")
    pairs = [
        frame.loc[answered, "signals"].explode().dropna().rename("signal").reset_index().drop_duplicates()
        for frame in (before, after)
    ]
    merged = pairs[0].merge(pairs[1], on=["domain", "signal"], how="outer", indicator=True)
    gone, came = merged[merged["_merge"].eq("left_only")], merged[merged["_merge"].eq("right_only")]
    return pd.concat([
        _rows(gone["domain"], "signal", gone["signal"].to_numpy(), "disappeared", "true", "false"),
        _rows(came["domain"], "signal", came["signal"].to_numpy(), "appeared", "false", "true"),
    ])  # fmt: skip


def agent_changes(old: RunState, new: RunState) -> pd.DataFrame:
    """``changed`` rows for every listed agent whose verdict differs, where both runs read the rules.

    Only the agents either run names, plus every agent for a site whose verdict for unnamed agents
    changed, are looked at; any other agent has the same (unnamed) verdict in both runs.
    """
    before, after = _common(old, new)
    known = before.index[before["rules_known"] & after["rules_known"]]
    named = [run.named[run.named["domain"].isin(known)] for run in (old, new)]
    moved = known[before.loc[known, "other_verdict"].ne(after.loc[known, "other_verdict"])]
    agents = listed_agents()["agent"].astype("str").to_numpy()
    every = pd.DataFrame({"domain": np.repeat(moved.to_numpy(dtype=object), len(agents)),
                          "agent": np.tile(agents, len(moved))})  # fmt: skip
    pairs = pd.concat([named[0][["domain", "agent"]], named[1][["domain", "agent"]], every]).drop_duplicates()
    verdicts = []
    for run_named, frame in zip(named, (before, after), strict=True):
        found = pairs.merge(run_named, on=["domain", "agent"], how="left")["verdict"]
        verdicts.append(found.fillna(pairs["domain"].map(frame["other_verdict"]).reset_index(drop=True)))
    differs = (verdicts[0] != verdicts[1]).to_numpy()
    changed = pairs[differs]
    return _rows(changed["domain"], "agent", changed["agent"].to_numpy(), "changed",
                 verdicts[0][differs].to_numpy(), verdicts[1][differs].to_numpy())  # fmt: skip


def _ordered(changes: pd.DataFrame) -> pd.DataFrame:
    """Sort by domain, scope, then item in its natural order (see the module docstring)."""
    domain_rank = {item: rank for rank, item in enumerate(DOMAIN_ITEMS)}
    agent_rank = {name: rank for rank, name in enumerate(listed_agents()["agent"].astype("str"))}
    scope, item = changes["scope"], changes["item"]
    item_rank = (
        item.map(domain_rank).where(scope.eq("domain")).fillna(item.map(agent_rank).where(scope.eq("agent"))).fillna(0)
    )  # signals: 0, then by name
    keyed = changes.assign(_scope=scope.map({name: rank for rank, name in enumerate(SCOPES)}), _rank=item_rank)
    return keyed.sort_values(["domain", "_scope", "_rank", "item"], kind="stable", ignore_index=True).drop(
        columns=["_scope", "_rank"]
    )[CHANGE_COLUMNS]


def compare_runs(old: RunState, new: RunState) -> pd.DataFrame:
    """Every change between two runs, as the rows of changes.csv, in order."""
    parts = [membership_changes(old, new), domain_changes(old, new), signal_changes(old, new),
             agent_changes(old, new)]  # fmt: skip
    return pd.concat(parts, ignore_index=True).astype("str").pipe(_ordered)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


_STATUS_WORDS = {"unreachable": ("became unreachable", "became unreachable"),
                 "timeout": ("now times out", "now time out"), "error": ("now fails", "now fail")}  # fmt: skip


#: Domains named after a summary line before "and N more".
SUMMARY_DOMAINS = 3


def _names(domains: pd.Series) -> str:
    """`` (a.test, b.test, c.test and 4 more)``: the domains behind a summary line, in order."""
    names = sorted(set(domains.astype("str")))
    more = len(names) - SUMMARY_DOMAINS
    return f" ({', '.join(names[:SUMMARY_DOMAINS])}{f' and {more} more' if more > 0 else ''})" if names else ""


def summarise(changes: pd.DataFrame) -> list[str]:
    """The short summary printed by ``optout-audit diff``, counted from the rows of changes.csv."""
    if changes.empty:
        return ["no changes"]
    change = changes["change"]
    added, removed = int(change.eq("added").sum()), int(change.eq("removed").sum())
    changed = changes.loc[~change.isin(["added", "removed"]), "domain"].nunique()
    lines = [f"{_count(changed, 'domain', 'domains')} changed, {added} added, {removed} removed "
             f"({_count(len(changes), 'row', 'rows')})"]  # fmt: skip
    domain_rows = changes[changes["scope"].eq("domain") & change.eq("changed")]
    reserves = domain_rows[domain_rows["item"].eq("reserves_ai_training")]
    now, gone = int(reserves["new"].eq("yes").sum()), int(reserves["old"].eq("yes").sum())
    if now:
        lines.append(
            f"+{_count(now, 'domain now reserves', 'domains now reserve')} AI training site-wide"
            + _names(reserves.loc[reserves["new"].eq("yes"), "domain"])
        )
    if gone:
        lines.append(
            f"-{_count(gone, 'domain no longer reserves', 'domains no longer reserve')} AI training site-wide"
            + _names(reserves.loc[reserves["old"].eq("yes"), "domain"])
        )
    agents = changes[changes["scope"].eq("agent")]
    for agent in MAIN_AGENTS:
        rows = agents[agents["item"].eq(agent)]
        blocks, unblocks = int(rows["new"].eq("full").sum()), int(rows["old"].eq("full").sum())
        if blocks:
            lines.append(
                f"+{_count(blocks, 'domain now fully blocks', 'domains now fully block')} {agent}"
                + _names(rows.loc[rows["new"].eq("full"), "domain"])
            )
        if unblocks:
            no_longer = _count(unblocks, "domain no longer fully blocks", "domains no longer fully block")
            lines.append(f"-{no_longer} {agent}" + _names(rows.loc[rows["old"].eq("full"), "domain"]))
    signals = changes[changes["scope"].eq("signal")]
    for signal in sorted(signals["item"].unique()):
        rows = signals[signals["item"].eq(signal)]
        if came := int(rows["change"].eq("appeared").sum()):
            lines.append(f"+{came} gained {signal}" + _names(rows.loc[rows["change"].eq("appeared"), "domain"]))
        if went := int(rows["change"].eq("disappeared").sum()):
            lines.append(f"-{went} dropped {signal}" + _names(rows.loc[rows["change"].eq("disappeared"), "domain"]))
    statuses = domain_rows[domain_rows["item"].eq("status")]
    for status, (one, many) in _STATUS_WORDS.items():
        if count := int(statuses["new"].eq(status).sum()):
            lines.append(
                f"{count} {one if count == 1 else many}" + _names(statuses.loc[statuses["new"].eq(status), "domain"])
            )
    if back := int((statuses["new"].eq("ok") & statuses["old"].ne("ok")).sum()):
        lines.append(
            f"{back} {'answers' if back == 1 else 'answer'} again"
            + _names(statuses.loc[statuses["new"].eq("ok") & statuses["old"].ne("ok"), "domain"])
        )
    return lines


def write_changes(changes: pd.DataFrame, path: Path) -> Path:
    """Write changes.csv (UTF-8, CSV-injection safe, see :mod:`.csvsafe`); return the path."""
    return write_csv(Path(path), changes, CHANGE_COLUMNS)


@dataclass
class DiffResult:
    changes: pd.DataFrame
    path: Path
    summary: list[str]


def diff_runs(old_dir: Path, new_dir: Path, out: Path | None = None, *,
              chunksize: int = DEFAULT_CHUNKSIZE) -> DiffResult:  # fmt: skip
    """Compare two run folders, write changes.csv (default ``NEW/changes.csv``), return rows and summary."""
    changes = compare_runs(read_state(old_dir, chunksize), read_state(new_dir, chunksize))
    path = write_changes(changes, Path(out) if out else Path(new_dir) / "changes.csv")
    return DiffResult(changes, path, summarise(changes))
