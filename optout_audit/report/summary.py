"""``summary.csv``: the run's headline figures, one ``metric, value`` row each.

Counts are records: ``sites`` (every record, invalid inputs included), one count per status,
one per ``reserves_ai_training`` value, ``reserves_unknown_unread`` (of the sites that answered,
those ``unknown`` only because a source that could have said yes was not read), and the records where ``blocks_all_crawlers``, ``noai``
or ``noimageai`` is true or ``tdm_reservation`` is 1. ``share_reserving`` is ``reserves_yes /
ok`` (the share of sites that answered which reserve AI training site-wide), rounded to 6
decimals, empty when no site answered. ``unreadable_lines`` counts lines of audit.jsonl that
were not a record (see :mod:`optout_audit.auditfile`). ``agent_list`` names the bundled agent list and
``generated_at`` the UTC time the report was built.
"""

from __future__ import annotations

import pandas as pd

from optout_audit.agents import AGENT_LIST_VERSION
from optout_audit.items import DOMAIN_VERDICTS

__all__ = ["SUMMARY_COLUMNS", "count_sites", "per_metric"]

SUMMARY_COLUMNS = ["metric", "value"]
_STATUSES = ("invalid_input", "ok", "unreachable", "timeout", "error")  # items.SITE_STATUSES
_FLAGS = ("blocks_all_crawlers", "tdm_reservation", "noai", "noimageai")


def count_sites(sites: pd.DataFrame) -> pd.Series:
    """Return the additive counts of ``summary.csv`` for these records, indexed by metric."""
    status = sites["status"].value_counts().reindex(list(_STATUSES), fill_value=0)
    reserves = sites["reserves_ai_training"].value_counts().reindex(list(DOMAIN_VERDICTS), fill_value=0)
    flags = {
        "blocks_all_crawlers": sites["blocks_all_crawlers"].eq(True).sum(),
        "tdm_reservation": sites["tdm_reservation"].eq(1).sum(),
        "noai": sites["noai"].eq(True).sum(),
        "noimageai": sites["noimageai"].eq(True).sum(),
    }
    # Sites that answered whose verdict is unknown only because a source that could say yes was not read
    # (not a "no": see the README's verdict semantics).
    unread = sites["unread_sources"].map(bool, na_action="ignore").fillna(False).astype(bool)
    unknown_unread = {
        "reserves_unknown_unread": int(
            (unread & sites["reserves_ai_training"].eq("unknown") & sites["status"].eq("ok")).sum()
        )
    }
    return pd.concat(
        [
            pd.Series({"sites": len(sites)}),
            status,
            reserves.add_prefix("reserves_"),
            pd.Series(unknown_unread),
            pd.Series(flags),
        ]
    ).astype("int64")


def per_metric(counts: pd.Series, *, unreadable_lines: int, generated_at: str, run: dict | None = None) -> pd.DataFrame:
    """Return one row per headline figure: metric, value (as text). ``run``: the run's run.json."""
    run = run or {}
    state = run.get("state")
    complete = "true" if state == "finished" else "false" if state in ("interrupted", "running") else ""
    duplicates = run.get("duplicate_lines")
    share = round(float(counts["reserves_yes"] / counts["ok"]), 6) if counts["ok"] else ""
    values = [
        *counts.drop(list(_FLAGS)).items(),
        ("share_reserving", share),
        *counts[list(_FLAGS)].items(),
        ("unreadable_lines", unreadable_lines),
        ("duplicate_lines", "" if duplicates is None else duplicates),
        ("complete", complete),
        ("agent_list", AGENT_LIST_VERSION),
        ("generated_at", generated_at),
    ]
    return pd.DataFrame(values, columns=SUMMARY_COLUMNS).astype("str")
