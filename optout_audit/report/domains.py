"""``domains.csv``: one row per record of the run, invalid input lines included.

The first fifteen columns are DESIGN.md's contract; the rest are the record's other headline
fields. ``reservation_signals`` and ``signals`` are the verdict's lists joined with ``;``.
Two columns are counted from the per-agent rows (see :mod:`.agents`):

- ``training_agents_full``: training-purpose agents that robots.txt disallows fully;
- ``ai_agents_named``: listed agents that a user-agent line names.

Both are empty, not 0, where no agent's verdict is known (robots.txt unreadable, site
unreachable, invalid input): a failed fetch is unknown, never silently "no".
"""

from __future__ import annotations

import pandas as pd

__all__ = ["DOMAIN_COLUMNS", "per_domain", "with_agent_counts"]

DOMAIN_COLUMNS = [
    # DESIGN.md "Public contracts"
    "input", "domain", "status", "robots_status", "reserves_ai_training", "reservation_signals",
    "blocks_all_crawlers", "noai", "noimageai", "tdm_reservation", "tdm_source", "tdm_policy",
    "content_signal", "content_usage", "error",
    # extras
    "registered_domain", "url", "fault", "robots_http_status", "home_status", "tdmrep_status",
    "aitxt_status", "own_access", "training_agents_full", "ai_agents_named", "signals",
    "started_at", "finished_at",
]  # fmt: skip


def with_agent_counts(sites: pd.DataFrame, site_agents: pd.DataFrame) -> pd.DataFrame:
    """Return ``sites`` plus ``training_agents_full`` and ``ai_agents_named`` (see the docstring)."""
    record = site_agents["record"]
    known = site_agents["verdict"].ne("unknown").groupby(record).any()
    full = site_agents["purpose"].eq("training") & site_agents["verdict"].eq("full")
    counts = pd.DataFrame(
        {
            "training_agents_full": full.groupby(record).sum(),
            "ai_agents_named": site_agents["named"].fillna(False).astype(bool).groupby(record).sum(),
        }
    )
    return sites.join(counts[known].astype("Int64"))


def per_domain(sites: pd.DataFrame) -> pd.DataFrame:
    """Return one row per record with the columns of ``domains.csv``, lists joined with ``;``."""
    joined = {name: sites[name].str.join(";").astype("str") for name in ("reservation_signals", "signals")}
    return sites.assign(**joined)[DOMAIN_COLUMNS]
