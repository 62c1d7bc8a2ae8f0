"""What a cell looks like in our CSV files, and how a cell is kept from running as a formula.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a leading
tab or carriage return can hide one (OWASP "CSV Injection"). Sites control much of what we
report (an input line, a ``tdm-policy`` value, a robots.txt rule, an error text), so every text
cell that starts with one of those characters gets a single quote in front: ``'=HYPERLINK(...)``.
The quote is visible in a text reader; it is the price OWASP's advice asks, and it only ever
touches values that start with those characters. Domains never do.

Carriage returns inside a cell become ``\\n``: Python 3.11's csv writer quotes a cell with a line
feed but not one with a lone CR when the line end is ``\\n``, and readers split rows on either.

Booleans are written ``true`` / ``false``, anything unknown as an empty cell.
"""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

__all__ = ["FORMULA_STARTS", "csv_cells", "neutralise"]

#: First characters that make a spreadsheet evaluate a cell (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(values: pd.Series) -> pd.Series:
    """Return text values with a ``'`` before formula starts and CRs turned into line feeds.

    Works on the distinct values only, so a column that repeats a few values over millions of rows
    (agent names, verdicts) costs no more than its distinct values.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not len(uniques):
        return values
    text = pd.Series(uniques, dtype="str")
    formula = text.str.startswith(FORMULA_STARTS)
    text = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    safe = text.where(~formula, "'" + text)
    # factorize gives -1 for a missing value; index an extra missing slot with it.
    lookup = pd.concat([safe, pd.Series([pd.NA], dtype="str")], ignore_index=True)
    return pd.Series(lookup.to_numpy()[codes], index=values.index, dtype="str", name=values.name)


def csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as it is written: booleans as true/false, every text cell neutralised."""
    cells = {}
    for column, values in frame.items():
        if is_bool_dtype(values.dtype):
            cells[column] = values.map({True: "true", False: "false"}, na_action="ignore").astype("str")
        elif is_numeric_dtype(values.dtype):
            cells[column] = values
        else:
            cells[column] = neutralise(values)
    return pd.DataFrame(cells, index=frame.index)
