"""Write report frames as CSV: UTF-8, a header row, ``\\n`` line ends, cells from :mod:`.csvsafe`.

The only module of the report stage that writes files. A file is written under a ``.partial``
name and renamed when complete, so a report that failed half-way never leaves a CSV that looks
whole (and a previous complete one stays until it is replaced).

Rows are assembled by :func:`csv_text` from each column's distinct cell texts: the same text as
``csv_cells(frame).to_csv(header=False, index=False, lineterminator="\\n")`` (a test checks it),
without the csv module's cell-by-cell loop.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO, Self

import pandas as pd
from pandas.api.types import is_string_dtype

from optout_audit.report.csvsafe import cell_texts, needs_change

__all__ = ["CsvWriter", "column_cells", "csv_text", "write_csv"]


class CsvWriter:
    """One CSV file written a chunk of rows at a time; use as a context manager."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = Path(path)
        self.columns = columns
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._out: IO[bytes] | None = None

    def __enter__(self) -> Self:
        self._out = self._partial.open("wb")
        self._out.write((",".join(self.columns) + "\n").encode("utf-8"))
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (its columns in the file's order)."""
        self.write_text(csv_text(frame[self.columns]).encode("utf-8"))

    def write_text(self, rows: bytes) -> None:
        """Append rows already made CSV text (:func:`csv_text`, UTF-8) with the file's columns."""
        assert self._out is not None, "CsvWriter.write outside its with block"
        self._out.write(rows)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._out is not None
        try:
            self._out.close()
        except BaseException:
            self._partial.unlink(missing_ok=True)
            raise
        if kind is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)


def csv_text(frame: pd.DataFrame) -> str:
    """Return the rows of ``frame`` as CSV text, each ending in ``\\n`` (no header).

    Each column's cells are taken from its distinct values' texts (:func:`~.csvsafe.cell_texts`),
    then rows joined: the cost is linear in the cells, whatever the columns hold.
    """
    if frame.empty:
        return ""
    columns = [column_cells(values) for _, values in frame.items()]
    return "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"


def column_cells(values: pd.Series) -> list[str]:
    """Each value's cell text, as :func:`~.csvsafe.cell_texts` gives it."""
    if is_string_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype):
        # Text columns are mostly distinct values (domains, URLs, times) that need no change:
        # checked all at once, they are their own cells, with no hashing of each value.
        cells = values.to_numpy(dtype=object, na_value="")
        if not needs_change(cells):
            return cells.tolist()
    codes, texts = cell_texts(values)
    return texts[codes].tolist()  # code -1 (missing) takes the last text, ""


def write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> Path:
    """Write ``frame`` whole to ``path``; return the path."""
    with CsvWriter(path, columns) as writer:
        writer.write(frame)
    return path
