"""``signals.csv``: how many records carry each signal of ``verdict.signals``.

One row per signal seen in the run, plus every reservation signal even when no record has it
(a zero is a finding). ``domains`` counts records whose ``verdict.signals`` contains the signal;
``share`` divides it by the records with status ``ok`` (sites that answered), rounded to 6
decimals, empty when no site answered. ``reserving`` says whether the signal reserves AI
training by itself. Rows are ordered by ``domains``, most frequent first, then by name.
"""

from __future__ import annotations

import pandas as pd

from optout_audit.detect.verdict import RESERVATION_SIGNALS

__all__ = ["SIGNAL_COLUMNS", "count_signals", "per_signal"]

SIGNAL_COLUMNS = ["signal", "domains", "share", "reserving"]


def count_signals(sites: pd.DataFrame) -> pd.Series:
    """Return the number of records carrying each signal, indexed by signal name."""
    carried = sites["signals"].explode().dropna().rename("signal").reset_index().drop_duplicates()
    return carried["signal"].value_counts().rename("domains").rename_axis("signal").astype("int64")


def per_signal(counts: pd.Series, ok_sites: int) -> pd.DataFrame:
    """Return one row per signal: signal, domains, share of ok sites, reserving."""
    every = counts.reindex(counts.index.union(pd.Index(RESERVATION_SIGNALS)), fill_value=0)
    share = (every / ok_sites).round(6).astype("Float64") if ok_sites else pd.Series(pd.NA, every.index, "Float64")
    table = pd.DataFrame({"domains": every.astype("int64"), "share": share}).rename_axis("signal").reset_index()
    return (
        table.assign(reserving=table["signal"].isin(RESERVATION_SIGNALS))
        .sort_values(["domains", "signal"], ascending=[False, True], ignore_index=True)
        .astype({"signal": "str"})[SIGNAL_COLUMNS]
    )
