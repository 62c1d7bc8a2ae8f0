"""A run's evidence at its end: evidence.csv from the WARC files' indexes, and the manifest.

``manifest.sha256`` holds the SHA-256 of every file in the run folder, in ``sha256sum`` format
(``sha256sum -c manifest.sha256`` checks it without optout-audit); it is written last, when the
run has finished, and ``optout-audit verify`` checks it. Beside it, ``manifest.audit-lines`` holds a
short digest of each line of audit.jsonl, so that verify can name the changed lines of a file whose
whole hash no longer matches (the reports are rebuilt from audit.jsonl, evidence.csv is checked
against the WARC files, which are read record by record: each names its own records).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from optout_audit.archive.warc import EVIDENCE_COLUMNS, INDEX_SUFFIX
from optout_audit.files import file_sha256

__all__ = [
    "ARCHIVE_DIR",
    "EVIDENCE_FILE",
    "MANIFEST_FILE",
    "build_evidence",
    "finish_archive",
    "line_digest",
    "write_manifest",
]

ARCHIVE_DIR = "archive"
EVIDENCE_FILE = "evidence.csv"
MANIFEST_FILE = "manifest.sha256"
AUDIT_LINES_FILE = "manifest.audit-lines"


def build_evidence(run_dir: Path) -> Path | None:
    """RUN_DIR/evidence.csv: every WARC file's index rows, files in name order; None without an archive."""
    indexes = sorted((run_dir / ARCHIVE_DIR).glob("*.warc.gz" + INDEX_SUFFIX))
    if not indexes:
        return None
    target = run_dir / EVIDENCE_FILE
    temporary = target.with_suffix(".csv.tmp")
    header = (",".join(EVIDENCE_COLUMNS) + "\n").encode()
    with temporary.open("wb") as out:
        out.write(header)
        for index in indexes:
            data = index.read_bytes()
            if data.startswith(header):
                data = data[len(header) :]
            if data and not data.endswith(b"\n"):
                data = data[: data.rfind(b"\n") + 1]  # a row cut by a kill
            out.write(data)
    os.replace(temporary, target)
    return target


def manifest_paths(run_dir: Path) -> list[str]:
    """Every file of the run folder (relative, '/'-separated, sorted) but the manifest itself."""
    paths = []
    for root, _dirs, files in os.walk(run_dir):
        for name in files:
            relative = (Path(root) / name).relative_to(run_dir).as_posix()
            if relative != MANIFEST_FILE and not relative.endswith(".tmp"):
                paths.append(relative)
    return sorted(paths)


def line_digest(line: bytes) -> str:
    """A line's digest in manifest.audit-lines: the first 16 hex digits of its SHA-256 (without its newline)."""
    return hashlib.sha256(line).hexdigest()[:16]


def write_audit_lines(run_dir: Path) -> None:
    audit = run_dir / "audit.jsonl"
    if not audit.is_file():
        return
    temporary = run_dir / (AUDIT_LINES_FILE + ".tmp")
    with audit.open("rb") as source, temporary.open("w", encoding="ascii") as out:
        for raw in source:
            out.write(line_digest(raw.rstrip(b"\n")) + "\n")
    os.replace(temporary, run_dir / AUDIT_LINES_FILE)


def write_manifest(run_dir: Path) -> Path:
    """RUN_DIR/manifest.sha256: the SHA-256 of every file in the run folder, in sha256sum format.

    Written last, when the run has finished (with manifest.audit-lines just before it).
    """
    write_audit_lines(run_dir)
    lines = [f"{file_sha256(run_dir / relative)}  {relative}\n" for relative in manifest_paths(run_dir)]
    target = run_dir / MANIFEST_FILE
    temporary = run_dir / (MANIFEST_FILE + ".tmp")
    temporary.write_text("".join(lines), "utf-8")
    os.replace(temporary, target)
    return target


def finish_archive(run_dir: Path, finished: bool = True) -> None:
    """The end of a run: evidence.csv (when it has an archive); then, if it finished, the manifest of everything.

    An interrupted run gets no manifest (it is not sealed): its resume writes one when it finishes.
    """
    build_evidence(run_dir)
    if finished:
        write_manifest(run_dir)
    else:
        (run_dir / MANIFEST_FILE).unlink(missing_ok=True)
