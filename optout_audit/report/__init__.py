"""The report stage, in pandas: a run's ``audit.jsonl`` -> the CSV files of its run folder.

``build_reports(run_dir)`` writes, next to ``audit.jsonl``:

- ``domains.csv``: one row per record, invalid input lines included, with the headline agents'
  verdicts as columns (:mod:`.domains`);
- ``domain_agents.csv``: per audited domain, one ``*`` row (every listed agent not named) and one
  row per named listed agent (:mod:`.agents`; :func:`.load.domain_agents` expands it to every pair);
- ``agents.csv``: per agent, domains per verdict and ``full_share`` (:mod:`.agents`);
- ``signals.csv``: per known signal, the records carrying it (:mod:`.signals`);
- ``summary.csv``: the run's headline figures (:mod:`.summary`).

``REPORT_COLUMNS`` gives each file's header. Files are UTF-8 with ``\\n`` line ends, booleans
``true``/``false``, unknown values as empty cells, and text cells guarded against spreadsheet
formulas (:mod:`.csvsafe`). The run is read in chunks of records (:mod:`optout_audit.auditfile`),
each chunk a DataFrame in and DataFrames out, so memory does not grow with the run.
:func:`.load.load_run` reads the files back with pandas' nullable dtypes.
"""

from __future__ import annotations

from optout_audit.auditfile import DEFAULT_CHUNKSIZE
from optout_audit.report.build import REPORT_COLUMNS, build_reports
from optout_audit.report.csvsafe import csv_cells, neutralise

__all__ = ["DEFAULT_CHUNKSIZE", "REPORT_COLUMNS", "build_reports", "csv_cells", "neutralise"]
