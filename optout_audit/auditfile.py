"""THE reader of a run's audit.jsonl: resume, the merge of ``--workers`` shards, run.json's counts,
the report stage, diff and history all read the file through this module.

Its types are not a second schema: they are *projections* of :mod:`optout_audit.items` (and of
:class:`optout_audit.detect.verdict.DomainVerdict`, the shape of ``SiteAudit.verdict``), msgspec
structs built from ``dataclasses.fields`` of those classes with the same field types, each made
optional (an older or minimal record may lack it). msgspec decodes only the projected fields and
skips the rest of the ~2 KB record without building Python objects for it.

Any JSON object line is a record. A line msgspec will not take as the types say (``NaN``, a number
where text is expected, a sub-object of another shape, invalid UTF-8) is read with ``json.loads``
instead, and each value of the wrong type is read as unknown (``None``), never guessed. A line
that is not a JSON object (typically the last line of an interrupted run, cut mid-write) is no
record: :func:`read_chunks` logs it (:func:`log_unreadable`) and reports it in :attr:`Chunk.unreadable`. Blank lines are
neither.

Two readings:

- :func:`read_line`: one line's site key, status and each document's ``unchanged`` (resume,
  shard merge, run.json counts);
- :func:`read_chunks`: the whole file, a chunk of records at a time, each chunk as DataFrames
  (:meth:`Chunk.sites`, :meth:`Chunk.named`, :meth:`Chunk.conflicts`) with pandas' nullable
  dtypes, derived from the same field types (diff, history). It is :func:`line_spans` (where
  each chunk's lines are) and :func:`read_span` (one chunk's records): the report stage reads
  spans in several processes at once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import operator
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from optout_audit.detect.verdict import DomainVerdict
from optout_audit.items import AgentResult, Conflict, Fetch, SiteAudit

if typing.TYPE_CHECKING:
    import pandas as pd

__all__ = ["AGENT_FIELDS", "AUDIT_FILE", "CONFLICT_FIELDS", "DEFAULT_CHUNKSIZE", "DOCUMENTS", "FETCH_COLUMNS",
           "OTHER_COLUMNS", "RUN_FILE", "SITE_FIELDS", "VERDICT_FIELDS", "AuditLine", "Chunk", "Span", "audited_keys",
           "line_spans", "log_unreadable", "projection", "read_chunks", "read_line", "read_record", "read_span",
           "site_key"]  # fmt: skip

logger = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
RUN_FILE = "run.json"
#: SiteAudit's documents, one Fetch each (the TDM policy too: "skipped" unless a reservation points to one).
DOCUMENTS = ("robots", "home", "tdmrep", "aitxt", "llmstxt", "trusttxt", "tdm_policy")
#: SiteAudit's list of Fetches: the RSL licence files that signals pointed to (none to record.MAX_RSL_FETCHES).
LICENCE_FETCHES = "rsl"
#: Records per chunk of :func:`read_chunks`: memory is bounded by one chunk, not by the run.
DEFAULT_CHUNKSIZE = 20_000

#: SiteAudit's scalar fields, one column each in :meth:`Chunk.sites` (and in domains.csv).
SITE_FIELDS = ("input", "line", "domain", "registered_domain", "url", "status", "fault", "error",
               "started_at", "finished_at", "own_access", "crawl_delay")  # fmt: skip
#: Fetch fields read per document -> their column in :meth:`Chunk.sites` ({document}_{field}).
FETCH_COLUMNS = {"robots": {"status": "robots_status", "http_status": "robots_http_status"},
                 "home": {"status": "home_status"}, "tdmrep": {"status": "tdmrep_status"},
                 "aitxt": {"status": "aitxt_status"}, "llmstxt": {"status": "llmstxt_status"},
                 "trusttxt": {"status": "trusttxt_status"}, "tdm_policy": {"status": "tdm_policy_status"}}  # fmt: skip
#: The statuses of the record's RSL licence fetches, in fetch order: a list column of :meth:`Chunk.sites`.
LICENCE_STATUS_COLUMN = "rsl_statuses"
#: Every DomainVerdict field: ``SiteAudit.verdict`` is its dict.
VERDICT_FIELDS = tuple(field.name for field in dataclasses.fields(DomainVerdict))
#: Every AgentResult field: the rows of :meth:`Chunk.named`.
AGENT_FIELDS = tuple(field.name for field in dataclasses.fields(AgentResult))
#: ``other_agents`` (the result of every listed agent no user-agent line names) -> its columns.
OTHER_COLUMNS = {name: f"other_{name}" for name in AGENT_FIELDS if name != "agent"}

_FIELD_TYPES: dict[type, dict[str, Any]] = {}  # projection -> {field: type}, for the lenient reading


def _unwrapped(kind: Any) -> Any:
    """``kind`` without its ``| None``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007 (built from a list)
    return kind


def _field(name: str, kind: Any) -> tuple[str, Any, Any]:
    """A struct field: sub-objects and lists default to empty (never None), anything else to None."""
    kind = _unwrapped(kind)
    if kind in _FIELD_TYPES:
        return name, kind, msgspec.field(default_factory=kind)
    if typing.get_origin(kind) is list:
        return name, kind, msgspec.field(default_factory=list)
    return name, kind | None, None


def _substitute(kind: Any, replace: dict[Any, Any]) -> Any:
    """``kind`` with every dataclass in ``replace`` swapped for its projection (inside lists too)."""
    if kind in replace:
        return replace[kind]
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (list, typing.Union, types.UnionType) and args:
        swapped = tuple(_substitute(arg, replace) for arg in args)
        return list[swapped[0]] if origin is list else typing.Union[swapped]  # noqa: UP007 (built from a tuple)
    return kind


def projection(cls: type, names: Sequence[str], *, replace: dict[Any, Any] | None = None,
               override: dict[str, Any] | None = None) -> type[msgspec.Struct]:  # fmt: skip
    """A msgspec struct of the dataclass ``cls``'s fields ``names``, with their declared types, optional:
    a missing scalar is None, a missing sub-object or list is empty.

    ``replace`` swaps nested dataclasses for their projections; ``override`` gives a field another
    type (``SiteAudit.verdict``, declared ``dict[str, Any]``, is read as DomainVerdict's projection).
    A name that ``cls`` does not have raises :class:`KeyError`: the reader cannot drift from items.py.
    """
    hints = typing.get_type_hints(cls)
    declared = {field.name for field in dataclasses.fields(cls)}
    if unknown := [name for name in names if name not in declared]:
        raise KeyError(f"{cls.__name__} has no field {', '.join(unknown)}")
    fields = [_field(name, _substitute((override or {}).get(name, hints[name]), replace or {})) for name in names]
    struct = msgspec.defstruct(f"{cls.__name__}Projection", fields, gc=False)
    _FIELD_TYPES[struct] = {name: kind for name, kind, _ in fields}
    return struct


# -- the projections ----------------------------------------------------------------------------

_KeyFetch = projection(Fetch, ["unchanged"])
_KeyLine = projection(SiteAudit, ["status", "domain", "line", "origin", *DOCUMENTS, LICENCE_FETCHES],
                      replace={Fetch: _KeyFetch})  # fmt: skip
_ReportFetch = projection(Fetch, ["status", "http_status"])
_Agent = projection(AgentResult, AGENT_FIELDS)
_Verdict = projection(DomainVerdict, VERDICT_FIELDS)
#: Every Conflict field: the rows of :meth:`Chunk.conflicts`.
CONFLICT_FIELDS = tuple(field.name for field in dataclasses.fields(Conflict))
_Conflict = projection(Conflict, CONFLICT_FIELDS)
#: What the report stage reads of a record.
Record = projection(
    SiteAudit,
    [*SITE_FIELDS, *DOCUMENTS, LICENCE_FETCHES, "agents", "other_agents", "verdict", "conflicts"],
    replace={Fetch: _ReportFetch, AgentResult: _Agent, Conflict: _Conflict},
    override={"verdict": _Verdict},
)  # items.py declares it dict[str, Any]: DomainVerdict's dict

_decoders: dict[type, msgspec.json.Decoder] = {}


def _decoder(kind: Any) -> msgspec.json.Decoder:
    if kind not in _decoders:
        _decoders[kind] = msgspec.json.Decoder(kind)
    return _decoders[kind]


def _coerce(value: Any, kind: Any) -> Any:
    """``value`` as ``kind`` if it is one, else ``None`` (unknown) or, for a sub-object or list, empty."""
    if kind in _FIELD_TYPES:
        if not isinstance(value, dict):
            return kind()
        return kind(**{name: _coerce(value.get(name), sub) for name, sub in _FIELD_TYPES[kind].items()})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is list:
        if not isinstance(value, list):
            return []
        if args[0] in _FIELD_TYPES:  # an entry that is not an object is no entry
            value = [item for item in value if isinstance(item, dict)]
        return [item for item in (_coerce(v, args[0]) for v in value) if item is not None]
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        return _coerce(value, _unwrapped(kind))
    if kind is Any:
        return value
    if kind is bool:
        return value if isinstance(value, bool) else None
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return float(value) if ok else None
    return value if isinstance(value, kind) else None


def _lenient(raw: bytes, kind: type) -> tuple[Any, str | None]:
    """(record, None) for any JSON object line; (None, why) for anything else; (None, None) if blank."""
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg})"
    if not isinstance(value, dict):
        return None, "not a JSON object"
    return _coerce(value, kind), None


def _decode(raw: bytes, kind: type) -> tuple[Any, str | None]:
    try:
        return _decoder(kind).decode(raw), None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _lenient(raw, kind)


# -- one line -----------------------------------------------------------------------------------


def site_key(status: Any, domain: Any, line: Any, origin: Any = None) -> str:
    """A site's identity in a run: its origin (``scheme://host[:port]``; the host in runs made before
    records had an origin), or its input line for an input that is not a site ("": neither)."""
    if status == "invalid_input":
        return f"\0line:{line}"
    if isinstance(origin, str) and origin:
        return origin
    return domain if isinstance(domain, str) else ""


class AuditLine(NamedTuple):
    key: str  # see site_key
    status: str  # "?" when the record has none
    unchanged: tuple[Any, ...]  # each fetch's ``unchanged`` (True, False, None): DOCUMENTS order, then each licence


def read_line(raw: bytes) -> AuditLine | None:
    """The site key, status and cache use of one audit.jsonl line; None if it is not a JSON object."""
    line, _ = _decode(raw, _KeyLine)
    if line is None:
        return None
    fetches = (*(getattr(line, name) for name in DOCUMENTS), *getattr(line, LICENCE_FETCHES))
    return AuditLine(
        site_key(line.status, line.domain, line.line, line.origin),
        line.status if line.status is not None else "?",
        tuple(fetch.unchanged if fetch is not None else None for fetch in fetches),
    )


def read_record(raw: bytes) -> Any:
    """One line as the report stage reads it (a :data:`Record`); None if it is not a JSON object."""
    return _decode(raw, Record)[0]


# -- the whole file, in chunks ------------------------------------------------------------------


def _dtype(kind: Any) -> str | None:
    """The pandas dtype of a field's declared type (None: a Python object column, e.g. a list)."""
    return {bool: "boolean", int: "Int64", float: "Float64", str: "str"}.get(_unwrapped(kind))


_SITE_TYPES = typing.get_type_hints(SiteAudit)
_FETCH_TYPES = typing.get_type_hints(Fetch)
_AGENT_TYPES = typing.get_type_hints(AgentResult)
_VERDICT_TYPES = typing.get_type_hints(DomainVerdict)
#: The columns of :meth:`Chunk.sites` and their dtypes, derived from the schema's field types.
SITE_DTYPES: dict[str, str | None] = {
    **{name: _dtype(_SITE_TYPES[name]) for name in SITE_FIELDS},
    **{column: _dtype(_FETCH_TYPES[name]) for fields in FETCH_COLUMNS.values() for name, column in fields.items()},
    **{name: _dtype(_VERDICT_TYPES[name]) for name in VERDICT_FIELDS},
    **{column: _dtype(_AGENT_TYPES[name]) for name, column in OTHER_COLUMNS.items()},
    LICENCE_STATUS_COLUMN: None,
}
#: The columns of :meth:`Chunk.named`: ``record`` and every AgentResult field.
NAMED_DTYPES: dict[str, str | None] = {"record": "int64", **{name: _dtype(_AGENT_TYPES[name]) for name in AGENT_FIELDS}}
_CONFLICT_TYPES = typing.get_type_hints(Conflict)
#: The columns of :meth:`Chunk.conflicts`: ``record`` and every Conflict field.
CONFLICT_DTYPES: dict[str, str | None] = {
    "record": "int64",
    **{name: _dtype(_CONFLICT_TYPES[name]) for name in CONFLICT_FIELDS},
}


#: Where each column of :meth:`Chunk.sites` is in a record (dotted: inside a sub-object).
_SITE_PATHS = {
    **{name: name for name in SITE_FIELDS},
    **{column: f"{document}.{name}" for document, fields in FETCH_COLUMNS.items() for name, column in fields.items()},
    **{name: f"verdict.{name}" for name in VERDICT_FIELDS},
    **{column: f"other_agents.{name}" for name, column in OTHER_COLUMNS.items()},
    LICENCE_STATUS_COLUMN: LICENCE_FETCHES,  # (the Fetches; Chunk.sites keeps their statuses)
}
_site_values = operator.attrgetter(*_SITE_PATHS.values())
_agent_values = operator.attrgetter(*AGENT_FIELDS)
_conflict_values = operator.attrgetter(*CONFLICT_FIELDS)


def _columns(rows: list[tuple[Any, ...]], dtypes: dict[str, str | None]) -> dict[str, Any]:
    """Rows of values (in ``dtypes`` order) -> {column: a pandas array of its dtype}."""
    import numpy as np
    import pandas as pd

    transposed = list(zip(*rows, strict=True)) if rows else [()] * len(dtypes)
    columns = {}
    for (column, dtype), values in zip(dtypes.items(), transposed, strict=True):
        if dtype is None:  # lists stay Python lists
            cells = np.empty(len(values), dtype=object)
            cells[:] = values
            columns[column] = cells
        elif dtype in _MASKED:
            columns[column] = _masked(values, dtype)
        else:
            columns[column] = pd.array(values, dtype=dtype)
    return columns


#: Nullable dtypes built from a values array and a mask: pd.array's per-value checks cost 2-3 times more.
_MASKED = {"boolean": bool, "Int64": "int64"}


def _masked(values: tuple[Any, ...], dtype: str) -> Any:
    """A ``boolean`` / ``Int64`` array of ``values`` (the decoder's bools / ints, or None)."""
    import numpy as np
    import pandas as pd

    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    missing = np.equal(cells, None)
    data = np.zeros(len(cells), dtype=_MASKED[dtype])
    data[~missing] = cells[~missing].astype(_MASKED[dtype])
    array_type = pd.arrays.BooleanArray if dtype == "boolean" else pd.arrays.IntegerArray
    return array_type(data, missing)


@dataclass
class Chunk:
    """Consecutive records of audit.jsonl. ``first``: the record number (0-based, in file order, lines
    that are not records left out) of ``records[0]``; ``unreadable``: (1-based line number, why) of the
    chunk's lines that are not records; ``lines``: the lines the chunk spans."""

    first: int
    records: list[Any]
    unreadable: list[tuple[int, str]]
    lines: int

    def index(self) -> pd.RangeIndex:
        import pandas as pd

        return pd.RangeIndex(self.first, self.first + len(self.records), name="record")

    def sites(self) -> pd.DataFrame:
        """One row per record, indexed by ``record``: :data:`SITE_DTYPES`' columns.

        SiteAudit's scalars, each document's status (and robots.txt's HTTP status), every verdict
        field, ``other_agents`` as ``other_verdict``, ``other_named`` ..., and the list of the RSL
        licence fetches' statuses (``rsl_statuses``).
        """
        import pandas as pd

        columns = _columns(list(map(_site_values, self.records)), SITE_DTYPES)
        licences = columns[LICENCE_STATUS_COLUMN]
        licences[:] = [[fetch.status for fetch in fetches] if fetches else fetches for fetches in licences]
        return pd.DataFrame(columns, index=self.index())

    def named(self) -> pd.DataFrame:
        """One row per entry of the records' ``agents`` lists: ``record`` and :data:`AGENT_FIELDS`."""
        import pandas as pd

        numbers, entries = [], []
        for number, record in enumerate(self.records, start=self.first):
            if record.agents:
                numbers.extend([number] * len(record.agents))
                entries.extend(record.agents)
        rows = [(number, *values) for number, values in zip(numbers, map(_agent_values, entries), strict=True)]
        return pd.DataFrame(_columns(rows, NAMED_DTYPES))

    def conflicts(self) -> pd.DataFrame:
        """One row per entry of the records' ``conflicts`` lists: ``record`` and :data:`CONFLICT_FIELDS`."""
        import pandas as pd

        rows = [
            (number, *_conflict_values(conflict))
            for number, record in enumerate(self.records, start=self.first)
            for conflict in record.conflicts
        ]
        return pd.DataFrame(_columns(rows, CONFLICT_DTYPES))


def log_unreadable(path: Path, number: int, reason: str) -> None:
    """Log a line of ``path`` that is not a record (1-based line number)."""
    logger.warning("%(path)s line %(line)d skipped: %(reason)s", {"path": path, "line": number, "reason": reason})


def _decode_lines(lines: list[memoryview]) -> tuple[list[Any], list[tuple[int, str]]]:
    """The records among ``lines`` and (line within them, 1-based; why) for each that is not one."""
    decode = _decoder(Record).decode
    try:  # every line as the types say (every line the crawler writes)
        return [decode(line) for line in lines if line], []
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    records, unreadable = [], []
    for number, line in enumerate(lines, start=1):
        record, reason = _decode(bytes(line), Record)
        if record is not None:
            records.append(record)
        elif reason is not None:
            unreadable.append((number, reason))
    return records, unreadable


_BLOCK = 4 << 20  # bytes read at a time


class Span(NamedTuple):
    """Consecutive lines of a file: where they start (byte offset), their bytes, the lines before them."""

    offset: int
    length: int
    lines_before: int


def line_spans(path: Path, chunksize: int) -> Iterator[Span]:
    """The file cut into spans of ``chunksize`` lines (the last one may be shorter or lack its ``\\n``).

    Only line ends are looked for (in large blocks): reading the lines is :func:`read_span`'s, so
    spans can be read in any process, in any order.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be positive, not {chunksize}")
    start = position = lines = 0  # span start, bytes scanned, lines in the span so far
    spans = 0
    with Path(path).open("rb") as audit:
        while block := audit.read(_BLOCK):
            find, at = block.find, 0
            while (end := find(b"\n", at)) >= 0:
                lines += 1
                at = end + 1
                if lines == chunksize:
                    yield Span(start, position + at - start, spans * chunksize)
                    start, lines, spans = position + at, 0, spans + 1
            position += len(block)
    if position > start:
        yield Span(start, position - start, spans * chunksize)


def read_span(path: Path, span: Span, first: int) -> Chunk:
    """The records of one span as a :class:`Chunk` numbered from ``first`` (nothing logged)."""
    with Path(path).open("rb") as audit:
        audit.seek(span.offset)
        data = audit.read(span.length)
    view, find, start, lines = memoryview(data), data.find, 0, []
    while (end := find(b"\n", start)) >= 0:
        lines.append(view[start:end])  # (views, not copies: a ~2 KB line costs more to copy than to decode)
        start = end + 1
    if start < len(data):
        lines.append(view[start:])  # a last line without a line end
    records, unreadable = _decode_lines(lines)
    return Chunk(first, records, [(span.lines_before + number, why) for number, why in unreadable], len(lines))


def read_chunks(path: Path, chunksize: int = DEFAULT_CHUNKSIZE) -> Iterator[Chunk]:
    """The records of ``path``, ``chunksize`` lines at a time (see the module docstring)."""
    path = Path(path)
    first = 0
    for span in line_spans(path, chunksize):
        chunk = read_span(path, span, first)
        for number, reason in chunk.unreadable:
            log_unreadable(path, number, reason)
        yield chunk
        first += len(chunk.records)


def audited_keys(audit_path: Path) -> set[str]:
    """Keys (see :func:`site_key`) of the complete lines of an audit.

    A last line without its newline was cut by a kill: it is removed from the file, so the
    site is audited again and appears once.
    """
    keys: set[str] = set()
    if not audit_path.is_file():
        return keys
    with audit_path.open("rb+") as handle:
        data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            handle.truncate(len(complete))
    for raw in complete.splitlines():
        line = read_line(raw)
        if line is not None and line.key:
            keys.add(line.key)
    return keys
