"""``optout-audit verify RUN_DIR``: re-read and re-hash a run's evidence; name whatever does not hold.

Checks, each naming the file and the record (WARC record id and offset, CSV or JSONL line):

* **manifest.sha256**: every file of the run folder has the SHA-256 written when the run
  finished; no file is missing or added. Where audit.jsonl differs, ``manifest.audit-lines``
  (a short digest per line) names the lines.
* **WARC files**: each gzip member is read on its own (so one damaged record does not hide the
  rest): it decompresses, its gzip header is the file's usual one, warcio parses it and its
  WARC-Block-Digest and WARC-Payload-Digest match the stored bytes.
* **evidence.csv**: equals the WARC files' own indexes, and each row matches its record (file,
  offset, length, record id, URI, date, status, SHA-256 of the body); every response record has
  its row.
* **audit.jsonl**: every document's ``warc_record_id`` is a response record of that site and
  document, with the same SHA-256.
* **reports**: rebuilt from audit.jsonl (with the run's own ``generated_at``), every report
  file's lines equal the stored ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from warcio.archiveiterator import ArchiveIterator

from optout_audit.archive.finish import (
    ARCHIVE_DIR,
    AUDIT_LINES_FILE,
    EVIDENCE_FILE,
    MANIFEST_FILE,
    line_digest,
)
from optout_audit.archive.warc import EVIDENCE_COLUMNS, INDEX_SUFFIX
from optout_audit.auditfile import DOCUMENTS as AUDIT_DOCUMENTS
from optout_audit.auditfile import LICENCE_FETCHES
from optout_audit.files import file_sha256

__all__ = ["Problem", "generated_at_of", "verify_run"]

#: The documents evidence.csv names (archive/middleware.document_of); every other fetch is "other" there.
DOCUMENTS = ("robots", "home", "tdmrep", "aitxt")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    record: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: {self.message}" if self.record else f"{self.file}: {self.message}"


class _Member(NamedTuple):
    offset: int
    length: int  # 0 when it could not be read to its end
    header: bytes
    data: bytes | None
    error: str


class _Record(NamedTuple):
    file: str
    offset: int
    length: int
    kind: str
    record_id: str
    uri: str
    date: str
    status: str
    sha256: str  # of the stored payload
    truncated: str
    concurrent_to: str


def verify_run(run_dir: Path) -> list[Problem]:
    """Every mismatch found in ``run_dir`` (empty: all holds)."""
    problems: list[Problem] = []
    _check_manifest(run_dir, problems)
    records = _read_archive(run_dir, problems)
    rows = _check_evidence(run_dir, records, problems)
    _check_audit(run_dir, rows, records, problems)
    _check_reports(run_dir, problems)
    return problems


# -- the manifest ---------------------------------------------------------------------------------


def _check_manifest(run_dir: Path, problems: list[Problem]) -> None:
    from optout_audit.archive.finish import manifest_paths

    path = run_dir / MANIFEST_FILE
    if not path.is_file():
        problems.append(Problem(MANIFEST_FILE, "", "missing: the run did not finish, or the file was removed"))
        return
    listed: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8", "replace").splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(Problem(MANIFEST_FILE, f"line {number}", f"not a sha256sum line: {line[:80]!r}"))
            continue
        listed[name] = digest
    present = set(manifest_paths(run_dir))
    for name in sorted(set(listed) - present):
        problems.append(Problem(name, "", "listed in manifest.sha256 but missing"))
    for name in sorted(present - set(listed)):
        problems.append(Problem(name, "", "not listed in manifest.sha256 (added after the run finished)"))
    for name in sorted(set(listed) & present):
        if file_sha256(run_dir / name) != listed[name]:
            problems.append(Problem(name, "", "SHA-256 differs from manifest.sha256"))
            if name == "audit.jsonl":
                _name_audit_lines(run_dir, problems)


def _name_audit_lines(run_dir: Path, problems: list[Problem]) -> None:
    digests_path = run_dir / AUDIT_LINES_FILE
    if not digests_path.is_file():
        return
    expected = digests_path.read_text("utf-8").split()
    with (run_dir / "audit.jsonl").open("rb") as handle:
        lines = handle.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if number > len(expected) or line_digest(raw) != expected[number - 1]:
            problems.append(
                Problem(
                    "audit.jsonl",
                    f"line {number} ({_domain_of(raw)})",
                    "differs from the line written when the run finished",
                )
            )
    if len(lines) < len(expected):
        problems.append(Problem("audit.jsonl", f"lines {len(lines) + 1}-{len(expected)}", "missing"))


def _domain_of(raw: bytes) -> str:
    try:
        record = json.loads(raw)
        return record.get("domain") or record.get("input") or "?"
    except (ValueError, AttributeError):
        return "not JSON"


# -- the WARC files -------------------------------------------------------------------------------


def _iter_members(handle: BinaryIO, offset: int, chunk: int = 1 << 20) -> Iterator[_Member]:
    """The gzip members of a file from ``offset``, decompressed; the last one read with an error ends it."""
    handle.seek(offset)
    buffer = b""
    while True:
        while len(buffer) < 10:
            more = handle.read(chunk)
            if not more:
                break
            buffer += more
        if not buffer:
            return
        start, header = offset, buffer[:10]
        decompressor = zlib.decompressobj(zlib.MAX_WBITS + 16)
        parts = []
        try:
            while True:
                parts.append(decompressor.decompress(buffer))
                if decompressor.eof:
                    used = len(buffer) - len(decompressor.unused_data)
                    offset, buffer = offset + used, decompressor.unused_data
                    break
                offset += len(buffer)
                buffer = handle.read(chunk)
                if not buffer:
                    raise EOFError("the gzip member is cut short")
        except (zlib.error, EOFError) as exc:
            yield _Member(start, 0, header, None, f"not a readable gzip member ({exc})")
            return
        yield _Member(start, offset - start, header, b"".join(parts), "")


def _parse_member(name: str, member: _Member, problems: list[Problem]) -> _Record | None:
    where = f"record at offset {member.offset}"
    try:
        iterator = ArchiveIterator(io.BytesIO(member.data), check_digests=True)
        record = next(iterator)
        payload = record.raw_stream.read()
        checker = record.digest_checker
        headers = record.rec_headers
        record_id = headers.get_header("WARC-Record-ID") or ""
        where = f"record {record_id} at offset {member.offset}"
        for problem in checker.problems:
            problems.append(Problem(f"{ARCHIVE_DIR}/{name}", where, f"digest check failed: {problem}"))
        if checker.passed is None:
            problems.append(Problem(f"{ARCHIVE_DIR}/{name}", where, "has no digest to check"))
    except Exception as exc:
        problems.append(Problem(f"{ARCHIVE_DIR}/{name}", where, f"not a WARC record ({type(exc).__name__}: {exc})"))
        return None
    status = record.http_headers.get_statuscode() if record.http_headers and record.rec_type == "response" else ""
    return _Record(
        name,
        member.offset,
        member.length,
        record.rec_type,
        record_id,
        headers.get_header("WARC-Target-URI") or "",
        headers.get_header("WARC-Date") or "",
        status or "",
        hashlib.sha256(payload).hexdigest(),
        headers.get_header("WARC-Truncated") or "",
        headers.get_header("WARC-Concurrent-To") or "",
    )


def _read_archive(run_dir: Path, problems: list[Problem]) -> dict[str, _Record]:
    records: dict[str, _Record] = {}
    known_offsets = _evidence_offsets(run_dir)
    for path in sorted((run_dir / ARCHIVE_DIR).glob("*.warc.gz")):
        name = path.name
        members: list[_Member] = []
        with path.open("rb") as handle:
            size = path.stat().st_size
            offset = 0
            while offset < size:
                last = None
                for member in _iter_members(handle, offset):
                    last = member
                    if member.error:
                        break
                    members.append(member)
                if last is None:
                    break
                if last.error:
                    record_id = known_offsets.get((name, last.offset), "")
                    where = f"record {record_id} at offset {last.offset}" if record_id else f"offset {last.offset}"
                    problems.append(Problem(f"{ARCHIVE_DIR}/{name}", where, last.error))
                    # go on at the next record evidence.csv knows of
                    later = [o for (n, o) in known_offsets if n == name and o > last.offset]
                    if not later:
                        break
                    offset = min(later)
                    continue
                break
        headers = Counter(member.header for member in members)
        usual = headers.most_common(1)[0][0] if headers else b""
        for member in members:
            record = _parse_member(name, member, problems)
            if record is None:
                continue
            if member.header != usual:
                problems.append(
                    Problem(
                        f"{ARCHIVE_DIR}/{name}",
                        f"record {record.record_id} at offset {member.offset}",
                        "gzip header differs from the file's other records",
                    )
                )
            if record.record_id in records:
                problems.append(Problem(f"{ARCHIVE_DIR}/{name}", f"record {record.record_id}", "record id seen twice"))
            records[record.record_id] = record
    return records


def _evidence_offsets(run_dir: Path) -> dict[tuple[str, int], str]:
    """(WARC file, offset) -> record id, from evidence.csv and the indexes: where records should start."""
    found: dict[tuple[str, int], str] = {}
    sources = [run_dir / EVIDENCE_FILE, *sorted((run_dir / ARCHIVE_DIR).glob("*" + INDEX_SUFFIX))]
    for source in sources:
        try:
            with source.open(newline="", encoding="utf-8", errors="replace") as handle:
                for row in csv.DictReader(handle):
                    try:
                        found.setdefault((row["warc_file"], int(row["offset"])), row["record_id"])
                    except (KeyError, TypeError, ValueError):
                        continue
        except OSError:
            continue
    return found


# -- evidence.csv ---------------------------------------------------------------------------------


def _check_evidence(run_dir: Path, records: dict[str, _Record], problems: list[Problem]) -> dict[str, dict]:
    path = run_dir / EVIDENCE_FILE
    indexes = sorted((run_dir / ARCHIVE_DIR).glob("*.warc.gz" + INDEX_SUFFIX))
    if not path.is_file():
        if records or indexes:
            problems.append(Problem(EVIDENCE_FILE, "", "missing, but the run has an archive"))
        return {}
    header = ",".join(EVIDENCE_COLUMNS).encode()
    expected = [header]
    for index in indexes:
        expected += [line for line in index.read_bytes().split(b"\n")[1:] if line]
    stored = [line for line in path.read_bytes().split(b"\n") if line]
    for number, (want, have) in enumerate(zip(expected, stored, strict=False), start=1):
        if want != have:
            problems.append(
                Problem(
                    EVIDENCE_FILE, f"line {number} ({_record_id_of(have)})", "differs from the WARC file's own index"
                )
            )
    if len(stored) != len(expected):
        problems.append(
            Problem(EVIDENCE_FILE, "", f"{len(stored) - 1} rows, the WARC indexes have {len(expected) - 1}")
        )
    rows: dict[str, dict] = {}
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            record_id = row.get("record_id") or ""
            where = f"line {number} ({record_id})"
            record = records.get(record_id)
            if record is None or record.kind != "response":
                problems.append(Problem(EVIDENCE_FILE, where, "no such response record in the archive"))
                continue
            rows[record_id] = row
            expected_fields = {
                "warc_file": record.file,
                "offset": str(record.offset),
                "length": str(record.length),
                "url": record.uri,
                "fetched_at": record.date,
                "status": record.status,
                "truncated": record.truncated,
            }
            if not record.truncated:
                expected_fields["sha256"] = record.sha256
            for column, value in expected_fields.items():
                if row.get(column) != value:
                    problems.append(
                        Problem(EVIDENCE_FILE, where, f"{column} is {row.get(column)!r}, the record says {value!r}")
                    )
            request = records.get(row.get("request_record_id") or "")
            if request is None or request.kind != "request" or request.concurrent_to != record_id:
                problems.append(Problem(EVIDENCE_FILE, where, "its request record is missing or not this response's"))
    for record in records.values():
        if record.kind == "response" and record.record_id not in rows:
            problems.append(
                Problem(
                    f"{ARCHIVE_DIR}/{record.file}",
                    f"record {record.record_id} at offset {record.offset}",
                    "response record without a row in evidence.csv",
                )
            )
    return rows


def _record_id_of(line: bytes) -> str:
    try:
        return next(csv.reader([line.decode("utf-8", "replace")]))[EVIDENCE_COLUMNS.index("record_id")]
    except (StopIteration, IndexError):
        return "?"


# -- audit.jsonl ----------------------------------------------------------------------------------


def _check_audit(run_dir: Path, rows: dict[str, dict], records: dict[str, _Record], problems: list[Problem]) -> None:
    path = run_dir / "audit.jsonl"
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                site = json.loads(raw)
            except ValueError:
                problems.append(Problem("audit.jsonl", f"line {number}", "not JSON"))
                continue
            if not isinstance(site, dict):
                problems.append(Problem("audit.jsonl", f"line {number}", "not a record"))
                continue
            domain = site.get("domain") or site.get("input")
            licences = site.get(LICENCE_FETCHES)
            fetches = [(name, site.get(name)) for name in AUDIT_DOCUMENTS]
            fetches += [(LICENCE_FETCHES, fetch) for fetch in (licences if isinstance(licences, list) else [])]
            for document, fetch in fetches:
                record_id = fetch.get("warc_record_id") if isinstance(fetch, dict) else None
                if not record_id:
                    continue
                where = f"line {number} ({domain} {document})"
                row = rows.get(record_id)
                if row is None:
                    problems.append(Problem("audit.jsonl", where, f"names {record_id}, not in evidence.csv"))
                    continue
                # evidence.csv names the four documents every site is asked for; the others are "other"
                named = document in DOCUMENTS
                if named and (row["domain"], row["document"]) != (site.get("domain"), document):
                    problems.append(
                        Problem("audit.jsonl", where, f"names {record_id}, the {row['document']} of {row['domain']}")
                    )
                if fetch.get("sha256") != row["sha256"]:
                    problems.append(
                        Problem("audit.jsonl", where, f"sha256 differs from evidence.csv's for {record_id}")
                    )
                if fetch.get("http_status") is not None and str(fetch.get("http_status")) != row["status"]:
                    problems.append(Problem("audit.jsonl", where, f"http_status differs from record {record_id}'s"))


# -- the reports ----------------------------------------------------------------------------------


def _check_reports(run_dir: Path, problems: list[Problem]) -> None:
    from optout_audit.report import build_reports

    generated_at = generated_at_of(run_dir)
    scratch = Path(tempfile.mkdtemp(prefix="optout-verify-"))
    try:
        # the report stage reads the run's record too (summary.csv says whether the run is complete)
        for name in ("audit.jsonl", "run.json"):
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, scratch / name)
        try:
            built = build_reports(scratch, generated_at=generated_at)
        except Exception as exc:
            problems.append(Problem("audit.jsonl", "", f"the reports cannot be rebuilt from it ({exc})"))
            return
        for name, rebuilt in built.items():
            if name == "report.html":  # a view that also shows the runs beside it: the manifest covers it
                continue
            stored = run_dir / name
            if not stored.is_file():
                problems.append(Problem(name, "", "missing"))
                continue
            _compare_lines(name, stored.read_bytes(), rebuilt.read_bytes(), problems)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _compare_lines(name: str, stored: bytes, rebuilt: bytes, problems: list[Problem], limit: int = 20) -> None:
    if stored == rebuilt:
        return
    have, want = stored.split(b"\n"), rebuilt.split(b"\n")
    found = 0
    for number, (a, b) in enumerate(zip(have, want, strict=False), start=1):
        if a != b:
            first_cell = a.split(b",", 2)[1 if name in ("domains.csv",) else 0][:80].decode("utf-8", "replace")
            problems.append(
                Problem(name, f"line {number} ({first_cell})", "differs from the report rebuilt from audit.jsonl")
            )
            found += 1
            if found >= limit:
                return
    if len(have) != len(want):
        problems.append(Problem(name, "", f"{len(have)} lines, the rebuilt report has {len(want)}"))


def generated_at_of(run_dir: Path) -> str | None:
    """When the run's reports were generated (summary.csv): the stamp a rebuild must write to be identical."""
    try:
        with (run_dir / "summary.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if row and row[0] == "generated_at":
                    return row[1]
    except (OSError, IndexError):
        pass
    return None


def main(run_dir: Path) -> int:
    """The command: 0 when all holds, 1 on any mismatch (each printed on a line)."""
    from optout_audit.app.errors import UsageError

    if not run_dir.is_dir():
        raise UsageError(f"not a run folder: {run_dir}")
    if not (run_dir / "audit.jsonl").is_file():
        raise UsageError(f"{run_dir} has no audit.jsonl")
    problems = verify_run(run_dir)
    for problem in problems:
        print(problem)
    records = sum(1 for _ in (run_dir / ARCHIVE_DIR).glob("*.warc.gz"))
    if problems:
        print(f"verify: {len(problems)} mismatch(es) in {run_dir}")
        return 1
    print(f"verify: {run_dir} holds: manifest, {records} WARC file(s), evidence.csv, audit.jsonl and reports match")
    return 0


__all__ += ["main"]
