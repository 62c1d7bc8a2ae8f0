"""Per-agent tables: ``domain_agents.csv`` (compact: named agents plus ``*``) and ``agents.csv``.

A record keeps only the listed agents that a user-agent line names (``agents``) and one result for
all the others (``other_agents``). domain_agents.csv keeps that form (:func:`site_agents`): per
audited site, one row with agent ``*`` (the reading every listed agent not named gets, purpose
empty), then one row per listed agent the record names, in the list's order. Audited sites are the
records with a domain that are not ``invalid_input``: an unreachable site is in, its ``*`` verdict
``unknown``. Entries for agents not on the list are left out; a second entry for the same agent
replaces the first. :func:`optout_audit.report.load.domain_agents` expands the rows to every (domain,
listed agent) pair.

Everything else here counts every (domain, listed agent) pair without building them: an agent's
verdict is its named entry's, else the site's ``*`` verdict; a missing verdict is ``unknown``.

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
from optout_audit.auditfile import OTHER_COLUMNS
from optout_audit.items import AGENT_VERDICTS

__all__ = ["AGENT_COLUMNS", "DOMAIN_AGENT_COLUMNS", "HEADLINE_AGENTS", "OTHER_AGENTS",
           "agent_columns", "audited", "count_verdicts", "headline_column", "listed_agents", "named_entries",
           "per_agent", "site_agents"]  # fmt: skip

DOMAIN_AGENT_COLUMNS = ["domain", "agent", "purpose", "verdict", "named", "via", "rule", "line"]
AGENT_COLUMNS = ["agent", "purpose", *AGENT_VERDICTS, "full_share", "named"]
#: The agent name of the row for every listed agent no user-agent line names.
OTHER_AGENTS = "*"
#: Agents whose verdict is a column of domains.csv (``gptbot_verdict`` ...): the training crawlers
#: of the largest AI developers, and the two that answer users' questions from the web.
HEADLINE_AGENTS = ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot", "PerplexityBot", "Applebot-Extended",
                   "Bytespider", "meta-externalagent")  # fmt: skip


def headline_column(agent: str) -> str:
    """The domains.csv column of a headline agent's verdict: ``Google-Extended`` -> ``google_extended_verdict``."""
    return agent.lower().replace("-", "_") + "_verdict"


@cache
def listed_agents() -> pd.DataFrame:
    """One row per agent of the bundled list, in its order: agent, purpose (both categorical)."""
    rows = [(agent.name, agent.purpose) for agent in ai_agents()]
    frame = pd.DataFrame(rows, columns=["agent", "purpose"])
    return frame.astype({"agent": pd.CategoricalDtype(frame["agent"]), "purpose": "category"})


@cache
def _position() -> pd.Series:
    """Each listed agent's position in the list, by name."""
    names = listed_agents()["agent"].astype("str")
    return pd.Series(np.arange(len(names)), index=names.to_numpy())


@cache
def _purpose() -> pd.Series:
    agents = listed_agents().astype("str")
    return pd.Series(agents["purpose"].to_numpy(), index=agents["agent"].to_numpy())


def audited(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites that get agent verdicts (a domain, and not an invalid input line): their ``domain``
    and ``other_*`` columns."""
    # (compared as object arrays: pandas' comparisons of python-backed strings cost ~10x more)
    domain = sites["domain"].to_numpy(dtype=object, na_value="")
    keep = (domain != "") & (sites["status"].to_numpy(dtype=object, na_value="") != "invalid_input")
    return sites.loc[keep, ["domain", *OTHER_COLUMNS.values()]]


def _true(values: pd.Series) -> pd.Series:
    """True where the value is True; False where it is False or unknown."""
    return values.eq(True).fillna(False).astype(bool)


def _other_verdict(targets: pd.DataFrame) -> pd.Series:
    return targets["other_verdict"].fillna("unknown")


def named_entries(targets: pd.DataFrame, named: pd.DataFrame) -> pd.DataFrame:
    """The ``agents`` entries of these sites for listed agents, the last per (record, agent), with
    ``purpose`` and a missing verdict as ``unknown``."""
    found = named[named["record"].isin(targets.index) & named["agent"].isin(_position().index)]
    found = found.drop_duplicates(["record", "agent"], keep="last")
    return found.assign(verdict=found["verdict"].fillna("unknown"),
                        purpose=found["agent"].map(_purpose()).astype("str"))  # fmt: skip


def site_agents(sites: pd.DataFrame, named: pd.DataFrame) -> pd.DataFrame:
    """The rows of domain_agents.csv for these sites (see the module docstring), with ``record``."""
    targets = audited(sites)
    other = targets[list(OTHER_COLUMNS.values())].rename(columns={v: k for k, v in OTHER_COLUMNS.items()})
    star = other.assign(domain=targets["domain"], agent=OTHER_AGENTS, purpose="",
                        verdict=_other_verdict(targets)).rename_axis("record").reset_index()  # fmt: skip
    entries = named_entries(targets, named)
    entries = entries.assign(domain=entries["record"].map(targets["domain"]))
    rows = pd.concat([star, entries], ignore_index=True)
    rank = rows["agent"].map(_position()).fillna(-1)  # "*" first
    rows = rows.assign(_rank=rank).sort_values(["record", "_rank"], kind="stable", ignore_index=True)
    return rows[["record", *DOMAIN_AGENT_COLUMNS]]


def agent_columns(sites: pd.DataFrame, named: pd.DataFrame) -> pd.DataFrame:
    """Per record, what domains.csv says of its agents (empty where no agent verdict is known):

    ``training_agents_full`` (training-purpose agents that robots.txt disallows fully),
    ``ai_agents_named`` (listed agents a user-agent line names) and each headline agent's verdict.
    """
    targets = audited(sites)
    entries = named_entries(targets, named)
    other = _other_verdict(targets).to_numpy(dtype=object)
    record = entries["record"]
    verdict = entries["verdict"].to_numpy(dtype=object)
    training = entries["purpose"].to_numpy(dtype=object) == "training"

    site = targets.index.get_indexer(record)  # each entry's row in targets

    def per_site(values: np.ndarray) -> np.ndarray:
        return np.bincount(site, weights=values, minlength=len(targets)).astype(np.int64)

    overridden = per_site(np.ones(len(entries), dtype=np.int64))
    shared = len(listed_agents()) - overridden  # agents with the "*" verdict
    training_total = int(listed_agents()["purpose"].eq("training").sum())
    named_known = per_site(verdict != "unknown") > 0
    known = ((shared > 0) & (other != "unknown")) | named_known
    full = (training_total - per_site(training)) * (other == "full") + per_site(training & (verdict == "full"))
    named_count = shared * _true(targets["other_named"]).to_numpy() + per_site(_true(entries["named"]).to_numpy())
    columns = pd.DataFrame({"training_agents_full": full, "ai_agents_named": named_count}, index=targets.index)
    columns = columns.where(pd.Series(known, index=targets.index), axis=0).astype("Int64")
    headline = entries[entries["agent"].isin(HEADLINE_AGENTS)]
    picked = headline.pivot(index="record", columns="agent", values="verdict")
    picked = picked.reindex(index=targets.index, columns=list(HEADLINE_AGENTS)).to_numpy(dtype=object, copy=True)
    unnamed = pd.isna(picked)
    picked[unnamed] = np.broadcast_to(other[:, None], picked.shape)[unnamed]
    for position, agent in enumerate(HEADLINE_AGENTS):
        columns[headline_column(agent)] = pd.array(picked[:, position], dtype="str")
    return columns.reindex(sites.index)


def count_verdicts(sites: pd.DataFrame, named: pd.DataFrame) -> pd.DataFrame:
    """One row per listed agent (in list order): domains per verdict, and domains naming it.

    Every (audited site, listed agent) pair counts once: the site's ``*`` reading for every agent,
    then each named entry takes its agent from the ``*`` reading to its own. A verdict outside the
    vocabulary does not count.
    """
    targets = audited(sites)
    entries = named_entries(targets, named)
    other = _other_verdict(targets)
    width, kinds = len(_position()), len(AGENT_VERDICTS)
    agent = _position()[entries["agent"]].to_numpy()

    def verdict_code(verdicts: pd.Series) -> np.ndarray:
        return pd.Categorical(verdicts, categories=AGENT_VERDICTS).codes  # -1: outside the vocabulary

    def tally(codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        keep = codes >= 0
        cells = agent[keep] * kinds + codes[keep]
        counted = np.bincount(cells, None if weights is None else weights[keep], minlength=width * kinds)
        return counted.reshape(width, kinds)

    shared = np.bincount(verdict_code(other)[verdict_code(other) >= 0], minlength=kinds)
    counts = np.tile(shared, (width, 1))
    counts = counts - tally(verdict_code(entries["record"].map(other))) + tally(verdict_code(entries["verdict"]))
    other_named = _true(targets["other_named"])
    named_delta = _true(entries["named"]).to_numpy(int) - entries["record"].map(other_named).to_numpy(int)
    named_counts = int(other_named.sum()) + np.bincount(agent, named_delta, minlength=width)
    frame = pd.DataFrame(counts, index=_position().index.rename("agent"), columns=list(AGENT_VERDICTS))
    return frame.assign(named=named_counts).astype("int64")


def per_agent(counts: pd.DataFrame) -> pd.DataFrame:
    """Return one row per listed agent: purpose, domains per verdict, full_share and named."""
    read = counts["full"] + counts["partial"] + counts["none"]
    share = (counts["full"] / read.where(read > 0)).round(6).astype("Float64")
    table = counts.assign(full_share=share).reset_index().astype({"agent": "str"})
    agents = listed_agents().astype("str")
    return agents.merge(table, on="agent", how="left", validate="one_to_one")[AGENT_COLUMNS]
