"""``signals.csv``: how many records carry each signal of ``verdict.signals``.

One row per known signal, always, in a fixed order (:data:`KNOWN_SIGNALS`: the reservation
signals, then the others), zero counts included, so that the file has the same rows in every run;
a signal this list does not know (from a newer detector) follows, most frequent first, then by
name. ``domains`` counts records whose ``verdict.signals`` contains the signal; ``share`` divides
it by the records with status ``ok`` (sites that answered), rounded to 6 decimals, empty when no
site answered. ``reserving`` is ``true`` for a reservation signal (one that by itself makes a
site's ``reserves_ai_training`` ``yes`` or ``partial``), ``false`` for a signal that only
describes what the site publishes.
"""

from __future__ import annotations

import pandas as pd

from optout_audit.detect.verdict import DESCRIPTIVE_SIGNALS, RESERVATION_SIGNALS

__all__ = ["KNOWN_SIGNALS", "OTHER_SIGNALS", "SIGNAL_COLUMNS", "count_signals", "per_signal"]

SIGNAL_COLUMNS = ["signal", "domains", "share", "reserving"]
#: The signals detect/verdict.py adds to ``signals`` besides the reservation signals.
OTHER_SIGNALS = DESCRIPTIVE_SIGNALS
KNOWN_SIGNALS = (*RESERVATION_SIGNALS, *OTHER_SIGNALS)


def count_signals(sites: pd.DataFrame) -> pd.Series:
    """Return the number of records carrying each signal, indexed by signal name."""
    carried = sites["signals"].explode().dropna().rename("signal").reset_index().drop_duplicates()
    return carried["signal"].value_counts().rename("domains").rename_axis("signal").astype("int64")


def per_signal(counts: pd.Series, ok_sites: int) -> pd.DataFrame:
    """Return one row per signal (see the module docstring): signal, domains, share of ok sites, reserving."""
    extra = counts.drop(list(KNOWN_SIGNALS), errors="ignore")
    extra = extra.reset_index().sort_values(["domains", "signal"], ascending=[False, True])["signal"]
    every = counts.reindex([*KNOWN_SIGNALS, *extra], fill_value=0).astype("int64")
    share = (every / ok_sites).round(6).astype("Float64") if ok_sites else pd.Series(pd.NA, every.index, "Float64")
    table = pd.DataFrame({"domains": every, "share": share}).rename_axis("signal").reset_index()
    return table.assign(reserving=table["signal"].isin(RESERVATION_SIGNALS)).astype({"signal": "str"})[SIGNAL_COLUMNS]
