"""The report stage: a run's ``audit.jsonl`` -> the CSV files of its run folder.

``build_reports(run_dir)`` writes, next to ``audit.jsonl``:

- ``domains.csv``: one row per record, invalid input lines included (:mod:`.domains`);
- ``domain_agents.csv``: one row per audited domain and listed AI agent (:mod:`.agents`);
- ``agents.csv``: per agent, domains per verdict and ``full_share`` (:mod:`.agents`);
- ``signals.csv``: per signal, the records carrying it (:mod:`.signals`);
- ``summary.csv``: the run's headline figures (:mod:`.summary`).

``REPORT_COLUMNS`` gives each file's header. Files are UTF-8 with ``\\n`` line ends, booleans
``true``/``false``, unknown values as empty cells, and text cells guarded against spreadsheet
formulas (:mod:`.csvsafe`). The run is read in chunks (:mod:`.parallel`), so memory does not grow with it.

The pandas modules above define every file. For speed, a chunk whose records all fit the typed
schema of :mod:`.schema` (every record the crawler writes) is computed in plain Python instead
(:mod:`.fastpath`, :mod:`.expand`) with the same bytes as result, large files on every core
(:mod:`.parallel`), and the files are written around the page cache (:mod:`.write`).
"""

from __future__ import annotations

from optout_audit.report.build import REPORT_COLUMNS, build_reports
from optout_audit.report.csvsafe import csv_cells, neutralise
from optout_audit.report.read import DEFAULT_CHUNKSIZE

__all__ = ["DEFAULT_CHUNKSIZE", "REPORT_COLUMNS", "build_reports", "csv_cells", "neutralise"]
