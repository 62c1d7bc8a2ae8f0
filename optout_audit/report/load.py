"""Read a run folder's reports back into pandas, typed: :func:`load_run` and :func:`domain_agents`.

::

    import optout_audit
    run = optout_audit.load_run("reports/20261201T101500Z")
    run.domains.groupby("reserves_ai_training").size()
    pairs = optout_audit.report.load.domain_agents("reports/20261201T101500Z", expand=True)

Dtypes are pandas' nullable ones, so an empty cell (unknown) stays unknown instead of turning a
column into ``object`` or ``float64``: ``boolean`` for ``true``/``false`` columns, ``Int64`` for
counts, line numbers and HTTP statuses, ``Float64`` for shares, ``category`` for the columns whose
values come from a fixed vocabulary (statuses, verdicts, agent names, purposes), UTC datetimes for
``*_at`` columns, ``str`` for the rest. Text cells come back as written, so a cell that began
with a formula character keeps the ``'`` that neutralised it (see :mod:`.csvsafe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optout_audit.items import (
    AGENT_VERDICTS,
    DOMAIN_VERDICTS,
    FETCH_STATUSES,
    SITE_STATUSES,
)
from optout_audit.report.agents import (
    HEADLINE_AGENTS,
    OTHER_AGENTS,
    headline_column,
    listed_agents,
)
from optout_audit.report.build import REPORT_COLUMNS

__all__ = ["RunTables", "domain_agents", "load_run", "read_report"]

_VERDICT = pd.CategoricalDtype(AGENT_VERDICTS)
_FETCH = pd.CategoricalDtype(FETCH_STATUSES)
_PURPOSE = pd.CategoricalDtype([*listed_agents()["purpose"].cat.categories])
#: Each report file's typed columns; any other column is ``str``.
DTYPES: dict[str, dict[str, object]] = {
    "domains.csv": {
        "status": pd.CategoricalDtype(SITE_STATUSES), "robots_status": _FETCH, "home_status": _FETCH,
        "tdmrep_status": _FETCH, "aitxt_status": _FETCH, "reserves_ai_training": pd.CategoricalDtype(DOMAIN_VERDICTS),
        "blocks_all_crawlers": "boolean", "noai": "boolean", "noimageai": "boolean", "own_access": "boolean",
        "tdm_reservation": "Int64", "robots_http_status": "Int64", "training_agents_full": "Int64",
        "ai_agents_named": "Int64", "tdm_source": "category", "fault": "category",
        **{headline_column(agent): _VERDICT for agent in HEADLINE_AGENTS},
        "llmstxt_status": _FETCH, "trusttxt_status": _FETCH, "tdm_policy_status": _FETCH,  # (rsl_status: text)
    },
    "domain_agents.csv": {"agent": "category", "purpose": _PURPOSE, "verdict": _VERDICT, "named": "boolean",
                          "via": "category", "line": "Int64"},
    "agents.csv": {"agent": "category", "purpose": _PURPOSE, **dict.fromkeys(AGENT_VERDICTS, "Int64"),
                   "full_share": "Float64", "named": "Int64"},
    "signals.csv": {"signal": "category", "domains": "Int64", "share": "Float64", "reserving": "boolean"},
    "summary.csv": {},
}  # fmt: skip
_DATES = {"domains.csv": ["started_at", "finished_at"]}


def read_report(path: Path) -> pd.DataFrame:
    """One report file (named as in :data:`~.build.REPORT_COLUMNS`) with its typed columns."""
    path = Path(path)
    dtypes = DTYPES.get(path.name, {})
    read = {column: ("str" if isinstance(dtype, pd.CategoricalDtype) or dtype == "category" else dtype)
            for column, dtype in dtypes.items()}  # fmt: skip
    frame = pd.read_csv(path, dtype=read, keep_default_na=False, na_values=[""], true_values=["true"],
                        false_values=["false"])  # fmt: skip
    frame = frame.astype({column: "str" for column in frame.columns if column not in dtypes})
    # Read as text, then made categorical: a fixed vocabulary keeps its categories (and order) even
    # where a run has no row of some value.
    frame = frame.astype(
        {column: dtype for column, dtype in dtypes.items() if column in frame and read[column] == "str"}
    )
    for column in _DATES.get(path.name, []):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def domain_agents(run_dir: Path, *, expand: bool = False) -> pd.DataFrame:
    """domain_agents.csv; with ``expand``, one row per (audited domain, listed agent), as before the
    compact form: each domain's named rows, and its ``*`` row for every other listed agent, in the
    list's order.
    """
    rows = read_report(Path(run_dir) / "domain_agents.csv")
    return expand_agents(rows) if expand else rows


def expand_agents(rows: pd.DataFrame) -> pd.DataFrame:
    """Compact domain_agents rows (each domain's ``*`` row first) -> every (domain, listed agent) pair."""
    agents = listed_agents()
    width = len(agents)
    site = rows["agent"].astype("str").eq(OTHER_AGENTS).cumsum().to_numpy() - 1  # the domain's "*" row, numbered
    star = rows[rows["agent"].astype("str").eq(OTHER_AGENTS)].reset_index(drop=True)
    grid = star.drop(columns=["agent", "purpose"]).merge(agents, how="cross")
    named = rows[rows["agent"].astype("str").ne(OTHER_AGENTS)]
    position = pd.Series(np.arange(width), index=agents["agent"].astype("str").to_numpy())
    at = site[named.index.to_numpy()] * width + position[named["agent"].astype("str")].to_numpy()
    for column in ("verdict", "named", "via", "rule", "line"):
        values = grid[column].copy()
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.cat.set_categories(values.cat.categories.union(named[column].dropna().unique(), sort=False))
        values.iloc[at] = named[column].to_numpy()
        grid[column] = values
    grid["agent"] = pd.Categorical(grid["agent"].astype("str"), categories=agents["agent"].astype("str"))
    grid["purpose"] = grid["purpose"].astype(rows["purpose"].dtype)
    return grid[REPORT_COLUMNS["domain_agents.csv"]]


def _summary(frame: pd.DataFrame) -> pd.Series:
    """summary.csv as a Series by metric: counts as int, shares as float, generated_at a Timestamp."""
    values: dict[str, object] = {}
    for metric, text in zip(frame["metric"], frame["value"], strict=True):
        if metric == "generated_at":
            values[metric] = pd.Timestamp(text)
        elif pd.isna(text) or text == "":
            values[metric] = pd.NA
        elif metric.startswith("share_"):
            values[metric] = float(text)
        elif text.lstrip("-").isdigit():
            values[metric] = int(text)
        else:
            values[metric] = text
    return pd.Series(values, dtype=object, name="value").rename_axis("metric")


@dataclass
class RunTables:
    """A run's report tables (see README "Data dictionary")."""

    domains: pd.DataFrame
    domain_agents: pd.DataFrame  # compact, or every (domain, agent) pair when loaded with expand_agents
    agents: pd.DataFrame
    signals: pd.DataFrame
    summary: pd.Series  # by metric


def load_run(path: Path, *, expand_agents: bool = False) -> RunTables:
    """Every report table of the run folder ``path``, typed (see the module docstring).

    ``expand_agents``: domain_agents with one row per (domain, listed agent) instead of the compact
    form (166 rows per domain). Raises :class:`FileNotFoundError` for a folder without reports
    (``optout-audit report RUN`` builds them).
    """
    path = Path(path)
    missing = [name for name in REPORT_COLUMNS if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} has no {', '.join(missing)} (optout-audit report {path} builds them)")
    return RunTables(
        domains=read_report(path / "domains.csv"),
        domain_agents=domain_agents(path, expand=expand_agents),
        agents=read_report(path / "agents.csv"),
        signals=read_report(path / "signals.csv"),
        summary=_summary(read_report(path / "summary.csv")),
    )
