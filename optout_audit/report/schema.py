"""The fields of an audit.jsonl record that the reports read, decoded straight into typed structs.

msgspec decodes one line into a :class:`Record`, skipping what no report reads (the page's
signals, the evidence, most of each fetch) without building Python objects for it: on the
benchmark's records that is about three times faster than ``json.loads`` of the whole line.
``verdict``, ``other_agents`` and ``agents`` are kept as their JSON text (``msgspec.Raw``, checked
to be JSON but not decoded): across a run they repeat, so :mod:`.fastpath` and :mod:`.expand`
decode each distinct text once (:data:`decode_verdict`, :data:`decode_result`,
:data:`decode_results`) and reuse what follows from it.

The types are strict on purpose. They are what :mod:`optout_audit.items` writes; a line that
does not fit them (a number where text is expected, ``NaN``, invalid UTF-8, a record that is
not a JSON object ...) fails here, and :mod:`.fastpath` hands its chunk to the pandas path of
:mod:`.read`, which defines the reports for any JSON whatsoever. Integers must also stay within
float precision (:data:`EXACT_INT`): pandas may pass a column of integers through float64.
"""

from __future__ import annotations

import msgspec

__all__ = ["EXACT_INT", "AgentResult", "Fetch", "Record", "Verdict", "decode", "decode_result", "decode_results",
           "decode_verdict"]

#: Largest integer magnitude the fast path accepts: beyond it a float64 round trip may change it.
EXACT_INT = 2**53


# gc=False: these structs hold only text, numbers and lists of text, never a reference cycle,
# so the cyclic garbage collector need not track (and repeatedly scan) millions of them.
class Fetch(msgspec.Struct, gc=False):
    status: str | None = None
    http_status: int | None = None


class AgentResult(msgspec.Struct, gc=False):
    """One entry of ``agents``, or the ``other_agents`` result."""

    agent: str | None = None
    verdict: str | None = None
    named: bool | None = None
    via: str | None = None
    rule: str | None = None
    line: int | None = None


class Verdict(msgspec.Struct, gc=False):
    reserves_ai_training: str | None = None
    reservation_signals: list[str] | None = None
    blocks_all_crawlers: bool | None = None
    noai: bool | None = None
    noimageai: bool | None = None
    tdm_reservation: int | None = None
    tdm_source: str | None = None
    tdm_policy: str | None = None
    content_signal: str | None = None
    content_usage: str | None = None
    signals: list[str] | None = None


class Record(msgspec.Struct, gc=False):
    input: str | None = None
    line: int | None = None
    domain: str | None = None
    registered_domain: str | None = None
    url: str | None = None
    status: str | None = None
    fault: str | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    robots: Fetch | None = None
    home: Fetch | None = None
    tdmrep: Fetch | None = None
    aitxt: Fetch | None = None
    own_access: bool | None = None
    crawl_delay: float | None = None  # no report shows it, but the pandas path types it: keep the same checks
    # JSON text (b"" when the key is absent), see the module docstring
    agents: msgspec.Raw = msgspec.Raw()  # list[AgentResult] | None
    other_agents: msgspec.Raw = msgspec.Raw()  # AgentResult | None
    verdict: msgspec.Raw = msgspec.Raw()  # Verdict | None


# Each raises (msgspec.DecodeError, ValidationError, UnicodeDecodeError ...) for anything but JSON of
# these types. ``decode(line) -> Record``; the others decode a Raw field's text (not b"").
decode = msgspec.json.Decoder(Record).decode
decode_verdict = msgspec.json.Decoder(Verdict | None).decode
decode_result = msgspec.json.Decoder(AgentResult | None).decode
decode_results = msgspec.json.Decoder(list[AgentResult] | None).decode
