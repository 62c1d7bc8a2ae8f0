"""Write report frames as CSV: UTF-8, a header row, ``\\n`` line ends, cells from :mod:`.csvsafe`.

The only module of the report stage that touches the disk. A file is written under a
``.partial`` name and renamed when complete, so a report that failed half-way never leaves a
CSV that looks whole (and a previous complete one stays until it is replaced).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TextIO

import pandas as pd

from optout_audit.report.csvsafe import csv_cells

__all__ = ["CsvWriter", "write_csv"]


class CsvWriter:
    """One CSV file written a chunk of rows at a time; use as a context manager."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self._partial = path.with_name(path.name + ".partial")
        self._out: TextIO | None = None

    def __enter__(self) -> CsvWriter:
        self._out = self._partial.open("w", encoding="utf-8", newline="")
        self._out.write(",".join(self.columns) + "\n")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (its columns in the file's order)."""
        assert self._out is not None, "CsvWriter.write outside its with block"
        cells = csv_cells(frame[self.columns])
        cells.to_csv(self._out, header=False, index=False, lineterminator="\n", na_rep="")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._out is not None
        self._out.close()
        if kind is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)


def write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> Path:
    """Write ``frame`` whole to ``path``; return the path."""
    with CsvWriter(path, columns) as writer:
        writer.write(frame)
    return path
