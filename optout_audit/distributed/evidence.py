"""A distributed run's evidence archive: workers' WARC bytes sent through Redis, written by the coordinator.

A worker's archive (:class:`optout_audit.archive.warc.WarcArchive`) writes its WARC files and their
indexes into an :class:`ArchiveOutbox` instead of its own disk. Each time the worker sends records to
Redis it first takes the bytes written since the last send (:meth:`ArchiveOutbox.take`: per file, its
name, the offset they start at and the bytes) and adds them to the same transaction, ahead of the
records. A site's responses are archived before its record exists, so a record never reaches the
coordinator before the evidence it names, and a worker killed before a send loses both together.

The coordinator's :class:`ArchiveInbox` writes each piece at its offset into ``RUN_DIR/archive/``
under the worker's file name: the files are byte for byte those the worker would have written on
its own disk, offsets in their indexes included, so ``evidence.csv``, ``verify`` and
``report --from-archive`` read a distributed run as any other. A piece sent twice (a retried
transaction, or a batch read again after the coordinator was killed between writing and
acknowledging) is recognised by its offset: written once. A piece that starts past the end of its
file means bytes were lost on the way (Redis restarted without its append-only file): it is
written where it belongs, the gap counted in run.json and left for ``verify`` to report.

Bytes of a site audited twice (a lease that ran out) stay in the archive; the run's record names
the first one's.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import IO, NamedTuple

__all__ = ["ArchiveInbox", "ArchiveOutbox", "Piece"]

logger = logging.getLogger(__name__)

#: What a worker may name a file of the archive: a name, never a path.
_FILE_NAME = re.compile(r"optout-audit-[A-Za-z0-9_.-]+\.warc\.gz(\.evidence\.csv)?")


class _OutgoingFile:
    """One archive file of a worker: the bytes written to it and not sent yet."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent = 0  # the file's length at the coordinator once what was taken is written
        self.pending = bytearray()
        self.closed = False

    def write(self, data: bytes | str) -> int:
        self.pending += data.encode("utf-8") if isinstance(data, str) else data
        return len(data)

    def close(self) -> None:
        self.closed = True


class Piece(NamedTuple):
    """Bytes of an archive file, from ``offset`` on."""

    name: str
    offset: int
    data: bytes


class ArchiveOutbox:
    """The archive files of a worker, kept in memory until they are sent (``opener`` of a WarcArchive)."""

    def __init__(self, tag: str) -> None:
        self.tag = re.sub(r"[^A-Za-z0-9_-]", "-", tag)
        self._files: dict[str, _OutgoingFile] = {}

    def open(self, path: Path, text: bool) -> IO:
        outgoing = _OutgoingFile(path.name)
        self._files[outgoing.name] = outgoing
        return outgoing  # type: ignore[return-value]  # write() and close() are all the archive uses

    @property
    def pending_bytes(self) -> int:
        return sum(len(outgoing.pending) for outgoing in self._files.values())

    def take(self) -> list[Piece]:
        """The bytes written since the last take, a piece per file; files closed and sent are forgotten."""
        pieces = []
        for name, outgoing in list(self._files.items()):
            if outgoing.pending:
                pieces.append(Piece(name, outgoing.sent, bytes(outgoing.pending)))
                outgoing.sent += len(outgoing.pending)
                outgoing.pending.clear()
            if outgoing.closed:
                del self._files[name]
        return pieces

    def give_back(self, pieces: list[Piece]) -> None:
        """Pieces that could not be sent: they go out again, first, with the next take."""
        for piece in pieces:
            outgoing = self._files.get(piece.name)
            if outgoing is None:  # closed and forgotten meanwhile
                outgoing = self._files[piece.name] = _OutgoingFile(piece.name)
                outgoing.closed = True
            outgoing.pending[:0] = piece.data
            outgoing.sent = piece.offset


class ArchiveInbox:
    """The coordinator's side: pieces of the workers' archive files written into ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._handles: dict[str, IO[bytes]] = {}
        self._unsynced: set[str] = set()
        self.repeated = 0  # pieces already written (sent or read twice)
        self.gaps = 0  # pieces that started past their file's end: bytes lost before them
        self.refused = 0  # pieces whose name is not an archive file's

    def _handle(self, name: str) -> IO[bytes]:
        handle = self._handles.get(name)
        if handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / name
            handle = self._handles[name] = path.open("r+b" if path.exists() else "w+b")
        return handle

    def write(self, name: str, offset: int, data: bytes) -> None:
        if not _FILE_NAME.fullmatch(name) or offset < 0:
            self.refused += 1
            logger.warning("refused a piece of archive named %r at offset %d", name[:80], offset)
            return
        handle = self._handle(name)
        end = handle.seek(0, os.SEEK_END)
        if end >= offset + len(data):
            self.repeated += 1
            return
        if end < offset:
            self.gaps += 1
            logger.warning("%s: %d bytes before offset %d never arrived", name, offset - end, offset)
        else:
            handle.truncate(offset)  # the tail of a write cut by a kill, or the same bytes again
        handle.seek(offset)
        handle.write(data)
        self._unsynced.add(name)

    def sync(self) -> None:
        """On disk before the pieces are acknowledged in Redis."""
        for name in self._unsynced:
            handle = self._handles[name]
            handle.flush()
            os.fsync(handle.fileno())
        self._unsynced.clear()

    def close(self) -> None:
        self.sync()
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
