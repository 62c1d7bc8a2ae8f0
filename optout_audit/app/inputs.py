"""URL lists -> crawl targets, and a reason for every line that is not a site.

Accepted files: a text list (one URL or bare domain a line, ``#`` comments, blank lines), a CSV
with a ``url`` or ``domain`` column, or Tranco's ``rank,domain`` lines. Hosts are lower-cased
and IDNA-encoded (``bücher.test`` -> ``xn--bcher-kva.test``), paths and queries dropped, and
duplicates removed by origin (scheme, host and port; a bare domain is its https origin): the
first raw line wins.

A file that cannot be read as a URL list at all raises :class:`InputError` (the CLI turns it
into a one-line message and exit code 2); a bad *line* becomes an :class:`InvalidLine` that the
crawl reports as a ``status=invalid_input`` row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import idna

from optout_audit.app.errors import UsageError

__all__ = [
    "InputEntries",
    "InputError",
    "InputFacts",
    "InvalidLine",
    "Target",
    "check_input",
    "count_entries",
    "input_facts",
    "parse_line",
    "parsed_lines",
    "read_given_input",
    "read_input",
    "read_targets",
]

MAX_LINE_CHARS = 2048  # longer lines are not URLs anyone means; they are reported, not parsed
_SHOWN_INPUT_CHARS = 200
_TRANCO_LINE = re.compile(r"^\s*\d+\s*,\s*[^,\s]+\s*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: A first line that is only one of these is the header of a one-column CSV.
_HEADER_NAMES = ("url", "domain")


class InputError(UsageError):
    """The input file as a whole is unusable (missing, empty, binary, CSV without a known column)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A site to audit."""

    input: str  # the raw line as given (shortened when very long)
    line: int  # 1-based line number in the input file
    host: str  # lower-case IDNA, no port
    url: str  # the site root, e.g. "https://example.com/" or "http://example.com:8080/"
    scheme_given: bool  # False for bare domains: https first, http when https cannot connect
    origin: str = ""  # scheme://host[:port] without the scheme's default port: the site's identity


@dataclass(frozen=True, slots=True)
class InvalidLine:
    input: str
    line: int
    reason: str


def _shown(raw: str) -> str:
    return raw if len(raw) <= _SHOWN_INPUT_CHARS else raw[:_SHOWN_INPUT_CHARS] + "…"


_PLAIN_HOST = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def normalise_host(host: str) -> str:
    """Lower-case IDNA form of ``host``; raises ValueError with a reason when it is not a host name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise ValueError("no host name")
    if _PLAIN_HOST.match(host) and "xn--" not in host:
        return host  # plain ASCII letters-digits-hyphens: IDNA would return it unchanged
    if _IPV4.match(host) or host.startswith("["):
        return host
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"not a valid host name ({exc})") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("not a valid host name")
    return ascii_host


def parse_line(raw: str, line: int) -> Target | InvalidLine | None:
    """One input value -> a target, a reason it is not one, or None for blanks and comments."""
    text = raw.strip()
    if not text or text.startswith("#"):
        return None
    if len(text) > MAX_LINE_CHARS:
        return InvalidLine(_shown(raw), line, f"line longer than {MAX_LINE_CHARS} characters")
    if any(ch.isspace() for ch in text):
        return InvalidLine(_shown(raw), line, "not a URL or domain (contains spaces)")
    scheme_given = "://" in text
    if not scheme_given:
        if text.count(":") > 1 and not text.startswith("["):
            return InvalidLine(_shown(raw), line, "not a URL or domain")
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        return InvalidLine(_shown(raw), line, f"not a valid URL ({exc})")
    if parts.scheme.lower() not in ("http", "https"):
        return InvalidLine(_shown(raw), line, f"unsupported scheme '{parts.scheme}' (only http and https)")
    try:
        host = normalise_host(parts.hostname or "")
    except ValueError as exc:
        return InvalidLine(_shown(raw), line, str(exc))
    if not scheme_given and "." not in host:
        return InvalidLine(_shown(raw), line, "not a URL or domain (no dot in the name)")
    scheme = parts.scheme.lower()
    netloc = host if port is None else f"{host}:{port}"
    origin_netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return Target(_shown(raw), line, host, f"{scheme}://{netloc}/", scheme_given, f"{scheme}://{origin_netloc}")


def _decode(data: bytes) -> str:
    if not data.strip():
        raise InputError("the input file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("the input file starts like UTF-16 but is not valid UTF-16 text") from None
    if b"\x00" in data[:65536]:
        raise InputError("the input file is binary, not a list of URLs")
    text = data.decode("utf-8-sig", errors="replace")
    if text.count("\ufffd") > max(16, len(text) // 100):
        raise InputError("the input file is not UTF-8 text")
    return text


def _values(text: str) -> Iterator[tuple[str, int]]:
    """(value, line number) for each data line, whatever the file's format."""
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    if ("," in first and not _TRANCO_LINE.match(first)) or first.strip().strip('"').lower() in _HEADER_NAMES:
        yield from _csv_values(lines)
        return
    for number, raw in enumerate(lines, start=1):
        if "," in raw and _TRANCO_LINE.match(raw):
            raw = raw.split(",", 1)[1]
        yield raw, number


def _csv_values(lines: list[str]) -> Iterator[tuple[str, int]]:
    rows = csv.reader(io.StringIO("\n".join(lines)))
    header = [cell.strip().lower() for cell in next(rows, [])]
    for name in ("url", "domain"):
        if name in header:
            column = header.index(name)
            break
    else:
        raise InputError(f"the CSV has no 'url' or 'domain' column (columns: {', '.join(header)[:200]})")
    for number, row in enumerate(rows, start=2):
        yield (row[column] if column < len(row) else ""), number


def read_input(path: str | Path) -> bytes:
    """The bytes of the input file; InputError when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_given_input(path: Path) -> bytes:
    """The bytes of the list a user named (``crawl INPUT``, ``-a input=``): InputError saying what it is if not a file."""
    if path.is_dir():
        raise InputError(f"the input is a folder, not a URL list: {path}")
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    return read_input(path)


def _read_text(path: str | Path) -> str:
    return _decode(read_input(path))


def _data_lines(text: str) -> int:
    lines = sum(1 for raw, _ in _values(text) if raw.strip() and not raw.lstrip().startswith("#"))
    if not lines:
        raise InputError("the input file has no URL or domain lines (only comments or blank lines)")
    return lines


@dataclass(frozen=True, slots=True)
class InputFacts:
    """What a run records of its input list (run.json ``input_sha256``, ``input_lines``)."""

    sha256: str  # hex SHA-256 of the file's bytes: a resume must be given the same list
    lines: int  # data lines (not blank, not comments): an upper bound of the sites, for the progress bar


def input_facts(data: bytes) -> InputFacts:
    """The SHA-256 and data line count of a URL list's bytes; InputError if it is not a usable list.

    One pass over the bytes and no line parsed: what :func:`check_input` checks, plus the hash.
    """
    return InputFacts(hashlib.sha256(data).hexdigest(), _data_lines(_decode(data)))


def check_input(path: str | Path) -> int:
    """Raise InputError if ``path`` is not a usable URL list; else the number of data lines in it.

    Cheap (no line is parsed), so a crawl of a million-line list starts at once; the count is
    an upper bound of the sites, for the progress bar.
    """
    return _data_lines(_decode(read_given_input(Path(path))))


def parsed_lines(path: str | Path) -> Iterator[Target | InvalidLine]:
    """Every data line of a URL list, parsed, in order; a site named twice comes twice."""
    for raw, number in _values(_read_text(path)):
        entry = parse_line(raw, number)
        if entry is not None:
            yield entry


def read_targets(path: str | Path) -> Iterator[Target | InvalidLine]:
    """Targets and invalid lines of a URL list, deduplicated by origin (first line kept)."""
    seen: set[str] = set()
    for entry in parsed_lines(path):
        if isinstance(entry, Target):
            if entry.origin in seen:
                continue
            seen.add(entry.origin)
        yield entry


class InputEntries:
    """The entries of :func:`read_targets` (``path``), counted: a complete run has one record each.

    ``count`` is None until an iteration has gone through the whole list; then it is the number
    of entries, distinct sites and invalid lines. The crawl iterates the list anyway, so it learns
    the count for nothing; an iteration stopped early leaves it None (nothing partial is reported).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.count: int | None = None

    def __iter__(self) -> Iterator[Target | InvalidLine]:
        count = 0
        for entry in read_targets(self.path):
            count += 1
            yield entry
        self.count = count


def count_entries(path: str | Path) -> int:
    """The number of records a complete run of ``path`` has: its distinct sites and its invalid lines.

    A full parse of the list: where a crawl has gone through it, its :class:`InputEntries` count
    is the same number at no cost.
    """
    entries = InputEntries(path)
    for _ in entries:
        pass
    return entries.count or 0
