"""Per-agent tables: ``domain_agents.csv`` (one row per domain and listed agent) and ``agents.csv``.

A record keeps only the agents that a user-agent line names (``agents``) and one result for all
the others (``other_agents``); here every audited site is expanded to all 166 listed agents, in
the list's order. Audited sites are the records with a domain that are not ``invalid_input``: an
unreachable site is in, with every agent ``unknown``.

``agents.csv`` counts domains per verdict for each agent:

- ``full``, ``partial``, ``none``, ``unknown``: domains where robots.txt gives the agent that
  verdict (``unknown``: robots.txt could not be read, or the site could not be reached);
- ``full_share`` = ``full / (full + partial + none)``: the share of fully disallowing domains
  among those whose robots.txt was read (a 4xx counts as read: it allows everything). It leaves
  ``unknown`` out of the denominator so that unreachable sites do not dilute it; the cell is empty
  when no domain's robots.txt was read. Rounded to 6 decimals;
- ``named``: domains with a user-agent line that names the agent.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from optout_audit.agents import ai_agents
from optout_audit.items import AGENT_VERDICTS

__all__ = ["AGENT_COLUMNS", "DOMAIN_AGENT_COLUMNS", "count_verdicts", "listed_agents", "per_agent", "per_site_agent"]

DOMAIN_AGENT_COLUMNS = ["domain", "agent", "purpose", "verdict", "named", "via", "rule", "line"]
AGENT_COLUMNS = ["agent", "purpose", *AGENT_VERDICTS, "full_share", "named"]
_RESULT = {"verdict": "other_verdict", "named": "other_named", "via": "other_via", "rule": "other_rule",
           "line": "other_line"}  # fmt: skip


@cache
def listed_agents() -> pd.DataFrame:
    """One row per agent of the bundled list, in its order: agent, purpose (both categorical)."""
    rows = [(agent.name, agent.purpose) for agent in ai_agents()]
    frame = pd.DataFrame(rows, columns=["agent", "purpose"])
    return frame.astype({"agent": pd.CategoricalDtype(frame["agent"]), "purpose": "category"})


def audited(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites that get agent rows: a domain, and not an invalid input line."""
    return sites[sites["domain"].fillna("").ne("") & sites["status"].ne("invalid_input")]


def per_site_agent(sites: pd.DataFrame, named: pd.DataFrame) -> pd.DataFrame:
    """Return one row per audited site and listed agent: record, domain, agent, purpose, verdict ...

    Rows come site by site in file order, agents in list order. ``domain``, ``agent`` and
    ``purpose`` are categorical: each repeats 166 times or more. A missing verdict is ``unknown``.
    """
    agents, targets = listed_agents(), audited(sites)
    width, height = len(agents), len(targets)
    grid = pd.concat(
        [
            targets[["domain"]].astype("category").iloc[np.repeat(np.arange(height), width)].reset_index(),
            agents.iloc[np.tile(np.arange(width), height)].reset_index(drop=True),
        ],
        axis=1,
    )
    rows, found = _named_rows(targets.index, agents["agent"], named)
    for column, other in _RESULT.items():
        values = targets[other].iloc[np.repeat(np.arange(height), width)].reset_index(drop=True)
        values.iloc[rows] = found[column].to_numpy()
        grid[column] = values
    return grid.assign(verdict=grid["verdict"].fillna("unknown"))


def _named_rows(records: pd.Index, agents: pd.Series, named: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Grid row of each named entry of a listed agent for an audited site, and those entries."""
    site_at = pd.Series(np.arange(len(records)), index=records)
    agent_at = pd.Series(np.arange(len(agents)), index=agents.astype("str").to_numpy())
    found = named[named["record"].isin(records) & named["agent"].isin(agent_at.index)]
    rows = site_at[found["record"]].to_numpy() * len(agents) + agent_at[found["agent"]].to_numpy()
    return rows, found


def count_verdicts(site_agents: pd.DataFrame) -> pd.DataFrame:
    """Return one row per listed agent: how many domains got each verdict, and how many name it."""
    agent = site_agents["agent"]
    known = site_agents["verdict"].where(site_agents["verdict"].isin(AGENT_VERDICTS))  # any other: not counted
    verdict = pd.Categorical(known, categories=AGENT_VERDICTS)
    counts = site_agents.groupby([agent, verdict], observed=False).size().unstack()
    named = site_agents["named"].fillna(False).groupby(agent, observed=False).sum()
    return counts.assign(named=named).rename_axis(index="agent", columns=None).astype("int64")


def per_agent(counts: pd.DataFrame) -> pd.DataFrame:
    """Return one row per listed agent: purpose, domains per verdict, full_share and named."""
    read = counts["full"] + counts["partial"] + counts["none"]
    share = (counts["full"] / read.where(read > 0)).round(6).astype("Float64")
    table = counts.assign(full_share=share).reset_index().astype({"agent": "str"})
    agents = listed_agents().astype("str")
    return agents.merge(table, on="agent", how="left", validate="one_to_one")[AGENT_COLUMNS]
