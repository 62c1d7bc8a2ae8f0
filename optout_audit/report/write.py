"""Write report frames as CSV: UTF-8, a header row, ``\\n`` line ends, cells from :mod:`.csvsafe`.

The only module of the report stage that touches the disk. A file is written under a
``.partial`` name and renamed when complete, so a report that failed half-way never leaves a
CSV that looks whole (and a previous complete one stays until it is replaced).

Rows are assembled from each column's distinct cell texts rather than by ``DataFrame.to_csv``:
domain_agents.csv repeats a few hundred (agent, verdict, rule ...) tails after each domain, and
joining those once per distinct tail is about four times faster than the csv module's cell by
cell writing. The text is the same as ``csv_cells(frame).to_csv(...)`` would give (a test
checks it).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TextIO

import numpy as np
import pandas as pd

from optout_audit.report.csvsafe import cell_texts

__all__ = ["CsvWriter", "csv_text", "write_csv"]


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
        self._out.write(csv_text(frame[self.columns]))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._out is not None
        self._out.close()
        if kind is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)


def csv_text(frame: pd.DataFrame) -> str:
    """Return the rows of ``frame`` as CSV text, each ending in ``\\n`` (no header).

    Columns are joined right to left, each step over the distinct (cell, rest of the row) pairs
    only; a row's text is built once per distinct row tail.
    """
    if frame.empty:
        return ""
    codes = np.zeros(len(frame), dtype=np.int64)  # each row's tail, into ``tails``
    tails: np.ndarray | None = None
    for column in reversed(frame.columns):
        cells, texts = cell_texts(frame[column])
        pairs = np.where(cells < 0, len(texts) - 1, cells) + codes * len(texts)
        codes, firsts = pd.factorize(pairs)
        head = texts[firsts % len(texts)]
        tails = head if tails is None else head + "," + tails[firsts // len(texts)]
    assert tails is not None
    return "\n".join(tails[codes].tolist()) + "\n"


def write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> Path:
    """Write ``frame`` whole to ``path``; return the path."""
    with CsvWriter(path, columns) as writer:
        writer.write(frame)
    return path
