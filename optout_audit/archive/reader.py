"""Reading archived responses back by record id: status, headers as received, body as served and decoded.

Offsets come from the run's ``evidence.csv``; each record is one gzip member, read with a single
seek. warcio parses it and undoes the HTTP content encoding (gzip, deflate, br) as the crawl's
decompression did, so the detectors get the bytes they got during the crawl.
"""

from __future__ import annotations

import csv
import io
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from optout_audit.archive.finish import ARCHIVE_DIR, EVIDENCE_FILE

__all__ = ["ArchiveReader", "StoredResponse"]


@dataclass(slots=True)
class StoredResponse:
    record_id: str
    uri: str
    status: int
    headers: list[tuple[str, str]]  # as received, in order (Latin-1 decoded)
    body: bytes  # content-decoded, as the detectors read it (or as served, when asked)
    truncated: str  # WARC-Truncated ("" when whole)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


class ArchiveReader:
    """The response records of one run folder, by WARC-Record-ID."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.where: dict[str, tuple[str, int, int]] = {}
        self._files: dict[str, object] = {}
        path = self.run_dir / EVIDENCE_FILE
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                rows = csv.reader(handle)
                header = next(rows, [])
                try:
                    record, name, offset, length = (
                        header.index(c) for c in ("record_id", "warc_file", "offset", "length")
                    )
                except ValueError:
                    return
                where = self.where
                for row in rows:
                    try:
                        where[row[record]] = (sys.intern(row[name]), int(row[offset]), int(row[length]))
                    except (IndexError, ValueError):
                        continue  # a damaged row: its record cannot be found (verify names it)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self.where

    def response(self, record_id: str, as_served: bool = False) -> StoredResponse | None:
        """The archived response, or None when the run has no such record.

        ``body`` is content-decoded, or with ``as_served`` the bytes exactly as stored.
        """
        found = self.where.get(record_id)
        if found is None:
            return None
        name, offset, length = found
        handle = self._files.get(name)
        if handle is None:
            handle = self._files[name] = (self.run_dir / ARCHIVE_DIR / name).open("rb")
        handle.seek(offset)
        data = zlib.decompress(handle.read(length), zlib.MAX_WBITS + 16)
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
        http = record.http_headers
        body = record.raw_stream.read() if as_served else record.content_stream().read()
        return StoredResponse(
            record_id=record_id,
            uri=record.rec_headers.get_header("WARC-Target-URI") or "",
            status=int(http.get_statuscode() or 0),
            headers=list(http.headers),
            body=body,
            truncated=record.rec_headers.get_header("WARC-Truncated") or "",
        )

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
