"""Writing a run's WARC files (WARC 1.1, one gzip member per record) and their evidence index.

Each fetched document, and each redirect hop on the way to it, becomes a ``response`` record (the
real status line, every header as received, in order, repeated ones kept, and the body as served:
still compressed when the server compressed it) and a ``request`` record (the request as sent),
with SHA-256 block and payload digests. Every file starts with a ``warcinfo`` record describing the
run. Files rotate at a size limit; beside each, ``NAME.warc.gz.evidence.csv`` indexes its response
records (:data:`EVIDENCE_COLUMNS`), from which the run's ``evidence.csv`` is built at its end.

warcio writes each file's warcinfo record, and reads everything back (verify, replay, the tests).
The response and request records are formatted here: warcio's builder cost 1 ms of CPU per site
(its header objects and pure-Python base32), more than the whole archive may cost a crawl, and it
would re-encode a Latin-1 header value as %-escapes, which is not what the server said. Digests
are SHA-256 written in hex (``sha256:<64 hex digits>``, RFC 3548 base16, which warcio's and other
readers check); each record is a gzip member of its own, compressed with ISA-L where installed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
import uuid
import zlib
from datetime import UTC, datetime
from io import BytesIO

try:  # ISA-L's deflate: the same gzip members at a tenth of zlib's CPU (the archive's cost in a crawl)
    from isal import isal_zlib as _deflate

    GZIP_LEVEL = 1  # ISA-L's level 1 compresses HTML about as well as zlib's 3
except ImportError:  # no wheel for this platform: the standard library's
    _deflate = zlib
    GZIP_LEVEL = 3
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

__all__ = ["EVIDENCE_COLUMNS", "INDEX_SUFFIX", "ArchivedRecord", "WarcArchive", "local_file", "sha256_label"]

#: Columns of evidence.csv and of each WARC file's index, one row per response record.
EVIDENCE_COLUMNS = (
    "domain",
    "document",
    "hop",
    "url",
    "fetched_at",
    "status",
    "sha256",
    "bytes",
    "truncated",
    "warc_file",
    "offset",
    "length",
    "record_id",
    "request_record_id",
)
#: A WARC file's index of response records lives beside it under this suffix.
INDEX_SUFFIX = ".evidence.csv"


class ArchivedRecord(NamedTuple):
    """Where one response was archived, and the hash of its body as received."""

    record_id: str
    sha256: str  # hex
    uri: str
    warc_file: str
    offset: int
    length: int


def sha256_label(hex_digest: str) -> str:
    """The WARC digest label of a SHA-256 hex digest: ``sha256:`` + the hex digits (RFC 3548 base16)."""
    return "sha256:" + hex_digest


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _warc_date() -> str:
    """Now, as WARC 1.1 dates are written (UTC, microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _warc_head(fields: list[tuple[str, str]]) -> bytes:
    return ("WARC/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n").encode("utf-8")


class _Sha256Writer(WARCWriter):
    @staticmethod
    def _create_digester():
        return Digester("sha256")


def local_file(path: Path, text: bool) -> IO:
    """A new file of the archive on this machine's disk (never one that exists)."""
    return path.open("x", newline="", encoding="utf-8") if text else path.open("xb")


class WarcArchive:
    """The WARC files of one crawl process under ``directory``, rotated past ``max_bytes``.

    ``opener(path, text)`` makes each new file (a WARC file, binary, and its index, text): by default on
    this machine's disk; a distributed worker's sends the bytes to the coordinator instead
    (:class:`optout_audit.distributed.evidence.ArchiveOutbox`). ``tag`` makes the files' names unique
    among the processes that write into one archive folder (default: the process id).
    """

    def __init__(
        self,
        directory: Path,
        info: dict[str, Any],
        max_bytes: int = 1 << 30,
        *,
        opener: Callable[[Path, bool], IO] = local_file,
        tag: str = "",
    ) -> None:
        self.directory = directory
        self.info = info
        self.max_bytes = max_bytes
        self.opener = opener
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        # Unique per process: --workers children and resumed runs write beside each other.
        self.prefix = f"optout-audit-{stamp}-{tag or os.getpid()}"
        self.sequence = -1
        self._buffer = BytesIO()
        self._builder = _Sha256Writer(self._buffer, gzip=False, warc_version="1.1")
        self._file = None
        self._index = None
        self._index_writer = None
        self.name = ""
        self.position = 0
        self.warcinfo_id = ""

    def _open(self) -> None:
        self.close()
        if self.opener is local_file:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.sequence += 1
        self.name = f"{self.prefix}-{self.sequence:05d}.warc.gz"
        self._file = self.opener(self.directory / self.name, False)
        self._index = self.opener(self.directory / (self.name + INDEX_SUFFIX), True)
        self._index_writer = csv.writer(self._index, lineterminator="\n")
        self._index_writer.writerow(EVIDENCE_COLUMNS)
        self.position = 0
        fields = {
            "software": self.info.get("software", ""),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        }
        fields.update(
            {
                key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                for key, value in self.info.items()
                if key != "software"
            }
        )
        record = self._builder.create_warcinfo_record(self.name, fields)
        self.warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._write(record)

    def _write(self, record) -> tuple[int, int]:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._builder.write_record(record)
        return self._write_member(buffer.getvalue())

    def _write_member(self, data: bytes) -> tuple[int, int]:
        compressor = _deflate.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        member = compressor.compress(data) + compressor.flush()
        self._file.write(member)
        offset = self.position
        self.position += len(member)
        return offset, len(member)

    def write_exchange(
        self,
        *,
        uri: str,
        status_line: str,
        headers: tuple[tuple[bytes, bytes], ...],
        body: bytes,
        request_line: str,
        request_headers: tuple[tuple[str, str], ...],
        peer: str,
        keep: int | None = None,
        truncated: str = "",
        domain: str = "",
        document: str = "",
        hop: int = 0,
        status: int = 0,
    ) -> ArchivedRecord:
        """Archive one response and its request; ``keep`` bytes of the body at most (WARC-Truncated)."""
        if self._file is None or self.position >= self.max_bytes:
            self._open()
        digest = hashlib.sha256(body).hexdigest()
        stored = body
        if keep is not None and len(body) > keep:
            stored, truncated = body[:keep], truncated or "length"
        payload_digest = digest if stored is body else hashlib.sha256(stored).hexdigest()
        # The response's block: the head as received, then the body as served.
        head = b"\r\n".join([status_line.encode("latin-1", "replace"), *(n + b": " + v for n, v in headers)])
        head += b"\r\n\r\n"
        block_digest = hashlib.sha256(head)
        block_digest.update(stored)
        response_id, request_id = _record_id(), _record_id()
        fetched_at = _warc_date()
        fields = [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", response_id),
            ("WARC-Date", fetched_at),
            ("WARC-Target-URI", uri),
            *((("WARC-IP-Address", peer),) if peer else ()),
            ("WARC-Warcinfo-ID", self.warcinfo_id),
            ("WARC-Payload-Digest", "sha256:" + payload_digest),
            ("WARC-Block-Digest", "sha256:" + block_digest.hexdigest()),
            *((("WARC-Truncated", truncated),) if truncated else ()),
            ("Content-Type", "application/http; msgtype=response"),
            ("Content-Length", str(len(head) + len(stored))),
        ]
        offset, length = self._write_member(b"".join((_warc_head(fields), head, stored, b"\r\n\r\n")))
        request = request_line + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in request_headers) + "\r\n"
        request_block = request.encode("utf-8", "replace")
        fields = [
            ("WARC-Type", "request"),
            ("WARC-Record-ID", request_id),
            ("WARC-Date", fetched_at),
            ("WARC-Target-URI", uri),
            ("WARC-Warcinfo-ID", self.warcinfo_id),
            ("WARC-Concurrent-To", response_id),
            ("WARC-Block-Digest", "sha256:" + hashlib.sha256(request_block).hexdigest()),
            ("Content-Type", "application/http; msgtype=request"),
            ("Content-Length", str(len(request_block))),
        ]
        self._write_member(_warc_head(fields) + request_block + b"\r\n\r\n")
        self._index_writer.writerow(
            (
                domain,
                document,
                hop,
                uri,
                fetched_at,
                status,
                digest,
                len(body),
                truncated,
                self.name,
                offset,
                length,
                response_id,
                request_id,
            )
        )
        return ArchivedRecord(response_id, digest, uri, self.name, offset, length)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._index.close()
            self._file = self._index = self._index_writer = None
