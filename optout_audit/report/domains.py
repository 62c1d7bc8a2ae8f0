"""``domains.csv``: one row per record of the run, invalid input lines included.

The first fifteen columns are the README's report contract; the rest are the record's other headline
fields. ``reservation_signals`` and ``signals`` are the verdict's lists joined with ``;``.
Columns counted from the per-agent verdicts (see :mod:`.agents`):

- ``training_agents_full``: training-purpose agents that robots.txt disallows fully;
- ``ai_agents_named``: listed agents that a user-agent line names;
- ``gptbot_verdict`` ... (one per :data:`~.agents.HEADLINE_AGENTS`): that agent's verdict, as
  domain_agents.csv gives it (``full``, ``partial``, ``none``, ``unknown``).

The two counts are empty, not 0, where no agent's verdict is known (robots.txt unreadable, site
unreachable, invalid input): a failed fetch is unknown, never silently "no". The verdict columns
are empty for invalid inputs only (an unreachable site's agents are ``unknown``).

The last columns are the fetch statuses of the documents added after the report's first version
(``llmstxt_status``, ``trusttxt_status``, ``rsl_status``, ``tdm_policy_status``), after every older
column so that those stay where they were. ``rsl_status`` has one status per licence file fetched,
joined with ``;`` in fetch order, and is ``skipped`` when no signal pointed to a licence (as
``tdm_policy_status`` is when no reservation names a policy). A record written before these documents
were fetched has none of them: empty cells (unknown), except ``rsl_status``, ``skipped`` (none fetched).
"""

from __future__ import annotations

import pandas as pd

from optout_audit.auditfile import LICENCE_STATUS_COLUMN
from optout_audit.report.agents import HEADLINE_AGENTS, agent_columns, headline_column

__all__ = ["DOMAIN_COLUMNS", "per_domain"]

DOMAIN_COLUMNS = [
    # README "Reports"
    "input", "domain", "status", "robots_status", "reserves_ai_training", "reservation_signals",
    "blocks_all_crawlers", "noai", "noimageai", "tdm_reservation", "tdm_source", "tdm_policy",
    "content_signal", "content_usage", "error",
    # extras
    "registered_domain", "url", "fault", "robots_http_status", "home_status", "tdmrep_status",
    "aitxt_status", "own_access", "training_agents_full", "ai_agents_named", "signals",
    "started_at", "finished_at",
    *(headline_column(agent) for agent in HEADLINE_AGENTS),
    "unread_sources",
    # fetched since (README "Reports")
    "llmstxt_status", "trusttxt_status", "rsl_status", "tdm_policy_status",
]  # fmt: skip
#: ``rsl_status`` of a record without a licence fetch: none was fetched.
NO_LICENCE = "skipped"


def per_domain(sites: pd.DataFrame, named: pd.DataFrame) -> pd.DataFrame:
    """One row per record with the columns of ``domains.csv`` (a chunk's frames from :mod:`optout_audit.auditfile`)."""
    joined = {
        name: sites[name].str.join(";").astype("str") for name in ("reservation_signals", "signals", "unread_sources")
    }
    joined["rsl_status"] = pd.array(
        [
            ";".join(status or "" for status in statuses) if statuses else NO_LICENCE
            for statuses in sites[LICENCE_STATUS_COLUMN]
        ],
        dtype="str",
    )  # (a licence fetch without a status, in an odd record, is an empty part: unknown)
    return sites.assign(**joined).join(agent_columns(sites, named))[DOMAIN_COLUMNS]
