"""Run folders over time: find them, read their ``run.json``, list them (``optout-audit runs [DIR]``).

A *run folder* holds ``audit.jsonl`` and, when ``optout-audit crawl`` made it, ``run.json`` (run
id, UTC start and finish, input file and its SHA-256, counts by status, tool and agent-list
versions, the settings that change results; see :mod:`optout_audit.app.run`). ``DIR`` is either one
run folder or a folder of them (``reports/``); only its direct sub-folders are looked at.

:func:`run_records` reads one row per run (run.json flattened; a folder with an ``audit.jsonl`` but
no ``run.json``, e.g. a scrapyd job's feed, gets its site count from the file's lines and its
start from the first record); :func:`run_table` orders and types them; :func:`format_table` is the
text the command prints. ``state`` is run.json's (``running``, ``finished``, ``interrupted``: ``crawl
--resume`` continues it), ``finished`` / ``incomplete`` for a run.json made before it had one, or ``no run.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from optout_audit.auditfile import AUDIT_FILE, RUN_FILE, read_record

__all__ = ["RUN_COLUMNS", "find_runs", "format_table", "is_run", "read_run_info", "run_records", "run_table"]

_STATUSES = ("ok", "unreachable", "timeout", "error", "invalid_input")  # items.SITE_STATUSES
#: Columns of :func:`run_table`, in order.
RUN_COLUMNS = ["run", "run_id", "state", "started_at", "finished_at", "sites", *_STATUSES,
               "documents_unchanged", "input", "input_sha256", "tool_version", "agent_list"]  # fmt: skip
#: What ``optout-audit runs`` prints (the SHA-256 cut to 12 hex digits).
_SHOWN = ["run", "run_id", "state", "started_at", "finished_at", "sites", *_STATUSES, "input_sha256", "input"]


def is_run(path: Path) -> bool:
    """Whether ``path`` is a run folder: it holds run.json or audit.jsonl."""
    return path.is_dir() and ((path / RUN_FILE).is_file() or (path / AUDIT_FILE).is_file())


def find_runs(directory: Path) -> list[Path]:
    """``directory`` itself when it is a run folder, else its run sub-folders, sorted by name."""
    directory = Path(directory)
    if is_run(directory):
        return [directory]
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if is_run(path))


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """One run's record: run.json flattened (``counts_by_status`` spread out), plus ``run`` and ``state``."""
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / RUN_FILE).read_text("utf-8"))
        state = info.get("state") or ("finished" if info.get("finished_at") else "incomplete")
    except (OSError, ValueError):
        info, state = _from_audit(run_dir / AUDIT_FILE), "no run.json"
    if not isinstance(info, dict):
        info, state = {}, "no run.json"
    counts = info.pop("counts_by_status", None) or {}
    row = {"run": run_dir.name, "path": str(run_dir), "state": state, **info}
    for status in _STATUSES:
        row[status] = counts.get(status, 0 if counts else None)
    return row


def _from_audit(audit: Path) -> dict[str, Any]:
    """What an audit.jsonl without run.json tells cheaply: its line count and first start time."""
    if not audit.is_file():
        return {}
    sites, first = 0, None
    with audit.open("rb") as handle:
        for raw in handle:
            if first is None and raw.strip():
                first = raw
            sites += raw.endswith(b"\n")
    record = read_record(first) if first else None
    started = record.started_at if record is not None else None
    return {"sites": sites, "started_at": started}


def run_records(paths: list[Path]) -> pd.DataFrame:
    """Return one row per run folder: every field of its run.json (see :func:`read_run_info`)."""
    return pd.DataFrame.from_records([read_run_info(path) for path in paths], columns=None)


def run_table(records: pd.DataFrame) -> pd.DataFrame:
    """Return the runs in start order (then by folder name) with :data:`RUN_COLUMNS`, counts as Int64."""
    table = records.reindex(columns=[*RUN_COLUMNS, "path"])
    counts = ["sites", *_STATUSES, "documents_unchanged"]
    return (
        table.astype({column: "Int64" for column in counts})
        .astype({column: "str" for column in table.columns if column not in counts})
        .sort_values(["started_at", "run"], na_position="last", ignore_index=True)
    )


def format_table(table: pd.DataFrame) -> str:
    """The text ``optout-audit runs`` prints: aligned columns, unknown values blank."""
    if table.empty:
        return ""
    shown = table[_SHOWN].assign(input_sha256=table["input_sha256"].str.slice(0, 12))
    cells = shown.astype("object").where(shown.notna(), "").astype("str")
    widths = {column: max(len(column), int(cells[column].str.len().max())) for column in _SHOWN}
    numeric = {"sites", *_STATUSES}

    def line(values: dict[str, str]) -> str:
        parts = [values[c].rjust(widths[c]) if c in numeric else values[c].ljust(widths[c]) for c in _SHOWN]
        return "  ".join(parts).rstrip()

    return "\n".join([line({c: c for c in _SHOWN}), *(line(row) for row in cells.to_dict("records"))])
