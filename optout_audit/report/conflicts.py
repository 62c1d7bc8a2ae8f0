"""``conflicts.csv``: one row per conflict found in a site's signals (see :mod:`optout_audit.detect.conflicts`).

Columns: ``domain, kind, severity, agent, signal, detail, line``, from each record's ``conflicts``
(items.Conflict) as :meth:`optout_audit.auditfile.Chunk.conflicts` reads them; records without one
(older runs, invalid inputs) add no row. Text cells are guarded against spreadsheet formulas like
every report's: a robots.txt line such as ``User-agent: =HYPERLINK(...)`` ends up in ``detail``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CONFLICT_COLUMNS", "per_conflict"]

CONFLICT_COLUMNS = ["domain", "kind", "severity", "agent", "signal", "detail", "line"]


def per_conflict(sites: pd.DataFrame, conflicts: pd.DataFrame) -> pd.DataFrame:
    """The conflicts of a chunk (``Chunk.conflicts()``) with their site's domain, in record order."""
    domains = sites["domain"].reindex(conflicts["record"].to_numpy()).fillna("").to_numpy()
    return conflicts.assign(domain=domains)[CONFLICT_COLUMNS]
