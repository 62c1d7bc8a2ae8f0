"""W3C TDM Reservation Protocol (TDMRep): the site file, value rules and processing priority.

Spec: https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/ (docs/signals.md).

* ``/.well-known/tdmrep.json`` is a JSON *array* of rules ``{"location", "tdm-reservation",
  "tdm-policy"?}``. The first rule in array order whose location matches the path decides
  ("the most specific match is the first in sequence"), not the longest one. Locations are
  robots.txt patterns (``*``, final ``$``, case-sensitive), matched as Google does.
* ``tdm-reservation`` is ``1`` (reserved) or ``0`` (not reserved); any other value is a protocol
  error and means unset. JSON ``true`` and ``1.0`` are protocol errors too, although Python
  compares them equal to 1.
* Priority (3.6): the file, then response headers, then HTML meta; each later valid value
  supersedes, absence (or a protocol error) never resets.

Not done here: fetching, EPUB/PDF metadata, reading the TDM policy itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from optout_audit.detect.patterns import uncovered_path
from optout_audit.detect.robots import escape_pattern, path_of, pattern_matches

__all__ = [
    "TdmResult",
    "TdmRule",
    "TdmrepFile",
    "effective_tdm",
    "parse_tdmrep",
    "tdm_value",
    "tdmrep_reserved_path",
    "tdmrep_reserves_somewhere",
]

SOURCE_FILE = "tdmrep.json"
SOURCE_HEADER = "header"
SOURCE_META = "meta"


def tdm_value(raw: object) -> int | None:
    """``1``/``0`` for a valid ``tdm-reservation`` value, None for a protocol error or absence.

    Strings (header and meta values) count after stripping whitespace; any other value is
    read as a JSON value, which counts only as the integer 0 or 1.

    >>> tdm_value(" 1 "), tdm_value(1), tdm_value(True), tdm_value("true"), tdm_value(1.0)
    (1, 1, None, None, None)
    """
    if isinstance(raw, str):
        text = raw.strip()
        return int(text) if text in ("0", "1") else None
    return _json_tdm_value(raw)


def _json_tdm_value(raw: object) -> int | None:
    # type() and not isinstance(): True is an int in Python, and a protocol error in TDMRep;
    # so is the string "1" in a JSON file, where the spec asks for a number.
    if isinstance(raw, int) and type(raw) is int and raw in (0, 1):  # isinstance narrows for mypy
        return raw
    return None


@dataclass(slots=True)
class TdmRule:
    """One entry of a tdmrep.json array; ``valid`` False (with ``error``) means it is skipped."""

    index: int
    location: str
    reservation: int | None
    policy: str | None
    valid: bool
    error: str = ""

    @property
    def pattern(self) -> bytes:
        """The location as a pattern, escaped as Google escapes robots.txt patterns."""
        return escape_pattern(_encode(self.location))

    def _matches(self, path: bytes) -> bool:
        """Does the location match ``path`` (bytes escaped as Google escapes them)?"""
        return pattern_matches(self.pattern, path)


@dataclass(slots=True)
class TdmrepFile:
    """A parsed tdmrep.json. ``valid`` False (with ``error``) means the origin has no usable file."""

    valid: bool
    error: str = ""
    rules: list[TdmRule] = field(default_factory=list)

    def match(self, path: str) -> TdmRule | None:
        """The first valid rule, in array order, whose location matches ``path`` (or a URL)."""
        target = _path_bytes(path)
        return next((rule for rule in self.rules if rule.valid and rule._matches(target)), None)


@dataclass(slots=True)
class TdmResult:
    """The TDMRep reading that applies to one path after processing priority."""

    reservation: int | None = None
    source: str = ""  # "tdmrep.json" | "header" | "meta" | "" (unset)
    policy: str | None = None
    rule_index: int | None = None  # the deciding tdmrep.json rule
    #: sources holding a protocol error: "header"/"meta" for a bad value, "tdmrep.json" for a
    #: file that is not an array or that has a rule that is skipped
    invalid: list[str] = field(default_factory=list)


def parse_tdmrep(body: bytes) -> TdmrepFile:
    """Read a ``/.well-known/tdmrep.json`` body; never raises."""
    try:
        # json.loads on bytes detects UTF-8 (with or without BOM), UTF-16 and UTF-32.
        document = json.loads(body)
    except (ValueError, RecursionError, TypeError) as exc:
        return TdmrepFile(valid=False, error=_json_error(exc))
    if not isinstance(document, list):
        return TdmrepFile(valid=False, error="not a JSON array")
    return TdmrepFile(valid=True, rules=[_rule(index, entry) for index, entry in enumerate(document)])


def effective_tdm(
    file: TdmrepFile | None,
    header_reservation: str | None,
    header_policy: str | None,
    meta_reservation: str | None,
    meta_policy: str | None,
    path: str = "/",
) -> TdmResult:
    """Apply TDMRep processing priority: file rule, then header, then meta (docs/signals.md).

    ``file`` is None when the origin has no tdmrep.json. Each property is superseded on its own
    ("absence does not reset the current value"); the policy is dropped when the reservation
    is not 1 (the spec says to ignore it then).
    """
    result = TdmResult()
    if file is not None:
        _apply_file(result, file, path)
    _apply_value(result, SOURCE_HEADER, header_reservation, header_policy)
    _apply_value(result, SOURCE_META, meta_reservation, meta_policy)
    if result.reservation != 1:
        result.policy = None
    return result


def tdmrep_reserves_somewhere(file: TdmrepFile | None) -> bool:
    """Is there a path whose first matching rule reserves TDM rights (a "partial" verdict when ``/`` is not)?"""
    return tdmrep_reserved_path(file) is not None


def tdmrep_reserved_path(file: TdmrepFile | None) -> str | None:
    """A path whose first matching valid rule is ``tdm-reservation: 1``, or None when there is none.

    The first matching rule wins, so a reserving rule whose every path an earlier rule already
    matches reserves nothing (:mod:`optout_audit.detect.patterns` decides that coverage).
    """
    if file is None or not file.valid:
        return None
    earlier: list[bytes] = []
    for rule in file.rules:
        if not rule.valid:
            continue
        if rule.reservation == 1:
            path = uncovered_path(rule.pattern, earlier)
            if path is not None:
                return path.decode("utf-8", "replace")
        earlier.append(rule.pattern)
    return None


def _apply_file(result: TdmResult, file: TdmrepFile, path: str) -> None:
    if not file.valid or any(not rule.valid for rule in file.rules):
        result.invalid.append(SOURCE_FILE)
    rule = file.match(path) if file.valid else None
    if rule is not None:
        result.reservation, result.policy = rule.reservation, rule.policy
        result.source, result.rule_index = SOURCE_FILE, rule.index


def _apply_value(result: TdmResult, source: str, reservation: str | None, policy: str | None) -> None:
    """Let a header or meta value supersede the current one; a protocol error only gets noted."""
    if reservation is None:
        return
    value = tdm_value(reservation)
    if value is None:
        result.invalid.append(source)
        return
    result.reservation, result.source, result.rule_index = value, source, None
    # Each property is superseded on its own: a technique that omits tdm-policy keeps the earlier one.
    if isinstance(policy, str) and policy.strip():
        result.policy = policy.strip()


def _rule(index: int, entry: object) -> TdmRule:
    """Validate one array entry."""
    if not isinstance(entry, dict):
        return TdmRule(index, "", None, None, valid=False, error="not an object")
    location = entry.get("location")
    reservation = _json_tdm_value(entry.get("tdm-reservation"))
    policy = entry.get("tdm-policy")
    policy = policy if isinstance(policy, str) else None
    location_text = location if isinstance(location, str) else ""
    error = ""
    if not isinstance(location, str) or not location:
        error = "missing location"
    elif "tdm-reservation" not in entry:
        error = "missing tdm-reservation"
    elif reservation is None:
        error = f"invalid tdm-reservation {_short(entry.get('tdm-reservation'))}"
    return TdmRule(index, location_text, reservation, policy, valid=not error, error=error)


def _json_error(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON (line {exc.lineno}: {exc.msg})"
    if isinstance(exc, UnicodeDecodeError):
        return "not JSON (undecodable bytes)"
    return f"not JSON ({type(exc).__name__})"


def _short(value: object) -> str:
    """A JSON rendering of a scalar for error messages; containers by their JSON type."""
    if isinstance(value, (list, dict)):
        return "array" if isinstance(value, list) else "object"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _path_bytes(path: str) -> bytes:
    """A path as bytes for matching, escaped as Google escapes it; a full URL is reduced to its path."""
    if not isinstance(path, str):
        return b"/"
    if path.startswith("/"):
        return escape_pattern(_encode(path))
    try:
        return escape_pattern(path_of(path))
    except UnicodeError:  # path_of encodes with surrogateescape, which refuses other lone surrogates
        return escape_pattern(path_of(_encode(path).decode("utf-8", "replace")))


def _encode(text: str) -> bytes:
    """UTF-8 bytes of ``text``; bytes smuggled in by surrogateescape come back as they were."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
