"""``conflicts.csv``: one row per conflict found in a site's signals (see :mod:`optout_audit.detect.conflicts`).

Columns: ``domain, kind, severity, agent, signal, detail, line``. Read from each record's
``conflicts`` list in ``audit.jsonl``; records without one (older runs, invalid inputs) add no
row. Text cells are guarded against spreadsheet formulas like every report's (``neutralise``):
a robots.txt line such as ``User-agent: =HYPERLINK(...)`` ends up in ``detail``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from optout_audit.report import csv_cells

__all__ = ["CONFLICT_COLUMNS", "conflict_rows", "read_records", "write_conflicts"]

CONFLICT_COLUMNS = ["domain", "kind", "severity", "agent", "signal", "detail", "line"]


def read_records(audit: Path) -> Iterator[dict]:
    """The records of an audit.jsonl; a line that is not a JSON object is skipped (the CSV reports count those)."""
    with Path(audit).open("rb") as handle:
        for raw in handle:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def conflict_rows(records: Iterable[dict]) -> pd.DataFrame:
    """One row per conflict of these records, in record order, columns :data:`CONFLICT_COLUMNS`."""
    rows = []
    for record in records:
        found = record.get("conflicts")
        if not isinstance(found, list):
            continue
        domain = record.get("domain") or ""
        for conflict in found:
            if isinstance(conflict, dict):
                rows.append([domain, *(conflict.get(column) for column in CONFLICT_COLUMNS[1:])])
    frame = pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
    text = {column: "str" for column in CONFLICT_COLUMNS if column != "line"}
    return frame.astype(text).astype({"line": "Int64"})


def write_conflicts(run_dir: Path) -> Path:
    """Write ``run_dir/conflicts.csv`` from its audit.jsonl (written whole, then renamed into place)."""
    run_dir = Path(run_dir)
    path = run_dir / "conflicts.csv"
    partial = path.with_name(path.name + ".partial")
    cells = csv_cells(conflict_rows(read_records(run_dir / "audit.jsonl")))
    cells.to_csv(partial, index=False, encoding="utf-8", lineterminator="\n")
    partial.replace(path)
    return path
