"""What a cell looks like in our CSV files, and how a cell is kept from running as a formula.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a leading
tab or carriage return can hide one (OWASP "CSV Injection"). Sites control much of what we
report (an input line, a ``tdm-policy`` value, a robots.txt rule, an error text), so every text
cell that starts with one of those characters gets a single quote in front: ``'=HYPERLINK(...)``.
The quote is visible in a text reader; it is the price OWASP's advice asks, and it only ever
touches values that start with those characters. Domains never do.

Carriage returns inside a cell become ``\\n``: Python 3.11's csv writer quotes a cell with a line
feed but not one with a lone CR when the line end is ``\\n``, and readers split rows on either.

Booleans are written ``true`` / ``false``, numbers as Python writes them, anything unknown as an
empty cell. A cell with a comma, a double quote or a line feed is quoted as the csv module does
(``QUOTE_MINIMAL``, quotes doubled).

Everything here works on a column's distinct values (``pd.factorize``) and maps them back by
position, so a column that repeats a few values over millions of rows (agent names, verdicts)
costs little more than its distinct values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

__all__ = ["FORMULA_STARTS", "cell_texts", "csv_cells", "needs_change", "neutralise"]

#: First characters that make a spreadsheet evaluate a cell (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED = r'[,"\n\r]'
# What makes a cell need quoting; what makes it need any change (quoting, or neutralising a formula start).
_QUOTE_CHARS = (",", '"', "\n", "\r")
_CHANGE_MARKS = (*_QUOTE_CHARS, *("\x00" + start for start in FORMULA_STARTS))


def neutralise(values: pd.Series) -> pd.Series:
    """Return the values as text cells: a ``'`` before formula starts, CRs turned into line feeds.

    The result has object dtype; missing values stay missing (None).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    safe = _safe(pd.Series(uniques, dtype="str")).to_numpy(dtype=object, na_value=None)
    return pd.Series(_take(safe, codes, None), index=values.index, dtype=object, name=values.name)


def csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as text cells (object dtype, None when unknown), as they are written."""
    cells = {}
    for column, values in frame.items():
        codes, texts = _texts(values)
        cells[column] = pd.Series(_take(texts, codes, None), index=frame.index, dtype=object)
    return pd.DataFrame(cells, index=frame.index)


def cell_texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, texts): each value's cell as written in the file is ``texts[code]``.

    ``texts`` holds one quoted-when-needed text per distinct value, then ``""`` for a missing one,
    which ``codes`` points at with -1.
    """
    codes, texts = _texts(values)
    if not _contains(texts, _QUOTE_CHARS):  # nearly every column: nothing to quote
        return codes, np.append(texts, "")
    text = pd.Series(texts, dtype="str")
    quoted = text.where(~text.str.contains(_QUOTED), '"' + text.str.replace('"', '""', regex=False) + '"')
    return codes, np.append(quoted.to_numpy(dtype=object), "")


def _texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and the unquoted cell text of each distinct value (booleans, numbers, safe text)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if is_bool_dtype(values.dtype):
        text = pd.Series(np.where(np.asarray(uniques, dtype=bool), "true", "false"), dtype="str")
    elif is_numeric_dtype(values.dtype):
        text = pd.Series(uniques).astype("str")
    else:
        plain = np.asarray(uniques, dtype=object)
        if not _contains(plain, _CHANGE_MARKS):  # nearly every column: no cell to change
            return codes, plain
        text = _safe(pd.Series(uniques, dtype="str"))
    return codes, text.to_numpy(dtype=object)


def _contains(texts: np.ndarray, marks: tuple[str, ...]) -> bool:
    """Whether any of ``texts`` may contain one of ``marks`` (``"\\x00"`` + c: starts with c); True for non-text.

    The texts are joined with NULs once and searched for each mark: a few scans at C speed, where
    pandas' string methods would loop in Python over every distinct value.
    """
    try:
        joined = "\x00" + "\x00".join(texts)
    except TypeError:
        return True
    # single characters first (memchr); a two-character mark only when its second character occurs at all
    return any(mark in joined for mark in marks if mark[-1] in joined)


def needs_change(texts: np.ndarray) -> bool:
    """Whether any of these texts is not its own cell (it needs quoting or neutralising)."""
    return _contains(texts, _CHANGE_MARKS)


def _safe(text: pd.Series) -> pd.Series:
    """Text with a ``'`` before formula starts and every CR turned into a line feed."""
    formula = text.str.startswith(FORMULA_STARTS)
    text = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    return text.where(~formula, "'" + text)


def _take(texts: np.ndarray, codes: np.ndarray, missing: object) -> np.ndarray:
    """``texts[code]`` for every code, ``missing`` where the code is -1."""
    taken: np.ndarray = np.append(texts, np.array([missing], dtype=object))[codes]
    return taken
