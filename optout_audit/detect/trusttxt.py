"""JournalList ``/trust.txt``: the ``datatrainingallowed=`` declaration.

Spec: JournalList's Reference Document for trust.txt (https://journallist.net/reference-document-for-trust-txt-specifications,
v1.5; ``datatrainingallowed=`` added 2024-04-04; also ``/.well-known/trust.txt``). The file is lines
of ``variable=value`` (``belongto=``, ``member=``, ``control=``, ``social=``, ``contact=`` ...), ``#``
comments, like ads.txt. ``datatrainingallowed=yes|no`` says whether the site's content may be used
to train AI; ``no`` is a site-wide reservation. The variable is read case-insensitively; another
value, or several contradicting values, is recorded as it is and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MAX_TRUSTTXT_BYTES", "TrustTxt", "parse_trusttxt"]

MAX_TRUSTTXT_BYTES = 256 * 1024


@dataclass(slots=True)
class TrustTxt:
    """What a trust.txt says; ``valid`` False when no ``variable=value`` line was found."""

    valid: bool = False
    #: "yes", "no", or "" when absent, unreadable or contradicting itself
    datatraining_allowed: str = ""
    datatraining_values: list[str] = field(default_factory=list)  # as written, lower-cased
    variables: dict[str, int] = field(default_factory=dict)  # variable -> number of lines


def parse_trusttxt(body: bytes) -> TrustTxt:
    """Read a trust.txt body (its first :data:`MAX_TRUSTTXT_BYTES`); never raises."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        return TrustTxt()
    text = bytes(body[:MAX_TRUSTTXT_BYTES]).decode("utf-8", "replace").lstrip("\ufeff")
    found = TrustTxt()
    for line in text.splitlines():
        content = line.split("#", 1)[0].strip()
        variable, sep, value = content.partition("=")
        variable = variable.strip().lower()
        if not sep or not variable or " " in variable:
            continue
        found.variables[variable] = found.variables.get(variable, 0) + 1
        if variable == "datatrainingallowed":
            found.datatraining_values.append(value.strip().lower())
    found.valid = bool(found.variables)
    distinct = set(found.datatraining_values)
    if len(distinct) == 1 and distinct <= {"yes", "no"}:
        found.datatraining_allowed = distinct.pop()
    return found
