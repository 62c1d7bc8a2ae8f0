"""Writing a run's WARC files (WARC 1.1, one gzip member per record) and their evidence index.

Each fetched document, and each redirect hop on the way to it, becomes a ``response`` record (the
real status line, every header as received, in order, repeated ones kept, and the body as served:
still compressed when the server compressed it) and a ``request`` record (the request as sent),
with SHA-256 block and payload digests. Every file starts with a ``warcinfo`` record describing the
run. Files rotate at a size limit; beside each, ``NAME.warc.gz.evidence.csv`` indexes its response
records (:data:`EVIDENCE_COLUMNS`), from which the run's ``evidence.csv`` is built at its end.

warcio builds the records; two things are ours: digests are SHA-256 (warcio's default is SHA-1),
and the HTTP header block is written as the bytes received (warcio would re-encode a Latin-1
header value as %-escapes, which is not what the server said).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import time
import zlib
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

__all__ = ["EVIDENCE_COLUMNS", "INDEX_SUFFIX", "ArchivedRecord", "WarcArchive", "sha256_label"]

#: Columns of evidence.csv and of each WARC file's index, one row per response record.
EVIDENCE_COLUMNS = (
    "domain", "document", "hop", "url", "fetched_at", "status", "sha256", "bytes", "truncated",
    "warc_file", "offset", "length", "record_id", "request_record_id",
)
#: A WARC file's index of response records lives beside it under this suffix.
INDEX_SUFFIX = ".evidence.csv"
#: zlib level of each record's gzip member: near level 9's size at a fraction of its CPU.
GZIP_LEVEL = 6


class ArchivedRecord(NamedTuple):
    """Where one response was archived, and the hash of its body as received."""

    record_id: str
    sha256: str  # hex
    uri: str
    warc_file: str
    offset: int
    length: int


def sha256_label(hex_digest: str) -> str:
    """The WARC digest label of a SHA-256 hex digest (``sha256:`` + base32, as warcio writes them)."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


class _Sha256Writer(WARCWriter):
    @staticmethod
    def _create_digester():
        return Digester("sha256")


class _ReceivedHeaders(StatusAndHeaders):
    """An HTTP head written as the bytes received; the parsed pairs serve warcio's lookups."""

    def __init__(self, status_line: str, raw: tuple[tuple[bytes, bytes], ...]) -> None:
        pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
        super().__init__(status_line, pairs, protocol="")
        block = [status_line.encode("latin-1", "replace")]
        block += [name + b": " + value for name, value in raw]
        self._received = b"\r\n".join(block) + b"\r\n\r\n"
        self.headers_buff = self._received

    def compute_headers_buffer(self, header_filter=None) -> None:
        self.headers_buff = self._received


class WarcArchive:
    """The WARC files of one crawl process under ``directory``, rotated past ``max_bytes``."""

    def __init__(self, directory: Path, info: dict[str, Any], max_bytes: int = 1 << 30) -> None:
        self.directory = directory
        self.info = info
        self.max_bytes = max_bytes
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        # Unique per process: --workers children and resumed runs write beside each other.
        self.prefix = f"optout-audit-{stamp}-{os.getpid()}"
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
        self.directory.mkdir(parents=True, exist_ok=True)
        self.sequence += 1
        self.name = f"{self.prefix}-{self.sequence:05d}.warc.gz"
        self._file = (self.directory / self.name).open("xb")
        self._index = (self.directory / (self.name + INDEX_SUFFIX)).open("x", newline="", encoding="utf-8")
        self._index_writer = csv.writer(self._index, lineterminator="\n")
        self._index_writer.writerow(EVIDENCE_COLUMNS)
        self.position = 0
        fields = {"software": self.info.get("software", ""), "format": "WARC File Format 1.1",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"}
        fields.update({key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                       for key, value in self.info.items() if key != "software"})
        record = self._builder.create_warcinfo_record(self.name, fields)
        self.warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._write(record)

    def _write(self, record) -> tuple[int, int]:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._builder.write_record(record)
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        member = compressor.compress(buffer.getvalue()) + compressor.flush()
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
        warc_headers = {"WARC-Warcinfo-ID": self.warcinfo_id,
                        "WARC-Payload-Digest": sha256_label(digest if stored is body else
                                                            hashlib.sha256(stored).hexdigest())}
        if peer:
            warc_headers["WARC-IP-Address"] = peer
        if truncated:
            warc_headers["WARC-Truncated"] = truncated
        builder = self._builder
        response = builder.create_warc_record(uri, "response", payload=BytesIO(stored), length=len(stored),
                                              warc_headers_dict=warc_headers,
                                              http_headers=_ReceivedHeaders(status_line, headers))
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        fetched_at = response.rec_headers.get_header("WARC-Date")
        request = builder.create_warc_record(
            uri, "request", warc_headers_dict={"WARC-Warcinfo-ID": self.warcinfo_id, "WARC-Concurrent-To": response_id,
                                               "WARC-Date": fetched_at},
            http_headers=StatusAndHeaders(request_line, list(request_headers), protocol="", is_http_request=True),
        )
        offset, length = self._write(response)
        self._write(request)
        request_id = request.rec_headers.get_header("WARC-Record-ID")
        self._index_writer.writerow((domain, document, hop, uri, fetched_at, status, digest, len(body),
                                     truncated, self.name, offset, length, response_id, request_id))
        return ArchivedRecord(response_id, digest, uri, self.name, offset, length)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._index.close()
            self._file = self._index = self._index_writer = None
