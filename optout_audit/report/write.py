"""Write report frames as CSV: UTF-8, a header row, ``\\n`` line ends, cells from :mod:`.csvsafe`.

The only module of the report stage that touches the disk. A file is written under a
``.partial`` name and renamed when complete, so a report that failed half-way never leaves a
CSV that looks whole (and a previous complete one stays until it is replaced).

Rows are assembled from each column's distinct cell texts rather than by ``DataFrame.to_csv``:
domain_agents.csv repeats a few hundred (agent, verdict, rule ...) tails after each domain, and
joining those once per distinct tail is about four times faster than the csv module's cell by
cell writing. The text is the same as ``csv_cells(frame).to_csv(...)`` would give (a test
checks it).

Bytes go to disk through :class:`DirectFile`: page-aligned blocks written with ``O_DIRECT`` by a
thread of their own. A million-site run writes ~10 GB of domain_agents.csv; through the page
cache that cost ~4 s of CPU per GB on the benchmark machine (a VM: every new cache page is
allocated and dirtied), with ``O_DIRECT`` ~0.1 s per GB, and the thread writes while the report
computes. Where the OS or file system has no ``O_DIRECT`` the same class writes ordinarily.
"""

from __future__ import annotations

import errno
import mmap
import os
import queue
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

try:
    import fcntl
except ImportError:  # Windows: no O_DIRECT either
    fcntl = None  # type: ignore[assignment]

from optout_audit.report.csvsafe import cell_texts

__all__ = ["CsvWriter", "DirectFile", "csv_text", "write_csv"]


class CsvWriter:
    """One CSV file written a chunk of rows at a time; use as a context manager."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self._partial = path.with_name(path.name + ".partial")
        self._out: DirectFile | None = None

    def __enter__(self) -> CsvWriter:
        self._out = DirectFile(self._partial)
        self._out.write((",".join(self.columns) + "\n").encode("utf-8"))
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (its columns in the file's order)."""
        self.write_bytes(csv_text(frame[self.columns]).encode("utf-8"))

    def write_bytes(self, rows: bytes) -> None:
        """Append rows already in the file's format (UTF-8, ``\n`` line ends)."""
        assert self._out is not None, "CsvWriter.write outside its with block"
        self._out.write(rows)

    def write_all(self, rows: Iterable[bytes]) -> None:
        """Append each of ``rows`` (see :meth:`write_bytes`)."""
        assert self._out is not None, "CsvWriter.write outside its with block"
        self._out.write_all(rows)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._out is not None
        try:
            self._out.close()
        except BaseException:
            self._partial.unlink(missing_ok=True)
            raise
        if kind is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)


class DirectFile:
    """A new binary file, written in page-aligned blocks with ``O_DIRECT`` by a thread (see the docstring).

    :meth:`write` copies into the current block; a full block goes to the thread, which writes
    it while the next one fills (two blocks in turn). :meth:`close` writes the last, partial
    block without ``O_DIRECT`` (its length is not a multiple of the disk's block size).
    """

    BLOCK = 8 << 20  # bytes; a multiple of every disk block size

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        self._direct = _set_direct(self._fd, True)
        self._block = mmap.mmap(-1, self.BLOCK)  # anonymous mappings are page-aligned, as O_DIRECT needs
        self._used = 0
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        self._full: queue.Queue[mmap.mmap | None] = queue.Queue()
        self._thread: threading.Thread | None = None  # started with the first full block
        self._error: BaseException | None = None

    def write(self, data: bytes) -> None:
        end = self._used + len(data)
        if end < self.BLOCK:  # nearly always: one copy
            self._block[self._used : end] = data
            self._used = end
            return
        view = memoryview(data)
        while view:
            room = self.BLOCK - self._used
            self._block[self._used : self._used + min(room, len(view))] = view[:room]
            self._used += min(room, len(view))
            view = view[room:]
            if self._used == self.BLOCK:
                self._hand_over()

    def write_all(self, pieces: Iterable[bytes]) -> None:
        """:meth:`write` each piece (the same loop inlined: domain_agents.csv is a million calls)."""
        block, used, size = self._block, self._used, self.BLOCK
        for piece in pieces:
            end = used + len(piece)
            if end < size:
                block[used:end] = piece
                used = end
            else:
                self._used = used
                self.write(piece)
                block, used = self._block, self._used
        self._used = used

    def close(self) -> None:
        """Write what is left and close the file; raise the thread's error, if it had one."""
        try:
            if self._thread is not None:
                self._full.put(None)
                self._thread.join()
            if self._error is not None:
                raise self._error
            if self._direct:
                self._direct = _set_direct(self._fd, False)
            _write_all(self._fd, self._block[: self._used])
        finally:
            os.close(self._fd)
            _release(self._block)
            while not self._free.empty():
                _release(self._free.get_nowait())

    def _hand_over(self) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._free.put(mmap.mmap(-1, self.BLOCK))
            self._thread = threading.Thread(target=self._run, name="DirectFile", daemon=True)
            self._thread.start()
        self._full.put(self._block)
        self._block = self._free.get()
        self._used = 0

    def _run(self) -> None:
        while (block := self._full.get()) is not None:
            if self._error is None:
                try:
                    self._write_block(block)
                except BaseException as exc:  # raised in the writing thread by write() or close()
                    self._error = exc
            self._free.put(block)

    def _write_block(self, block: mmap.mmap) -> None:
        data = memoryview(block)
        while data:
            try:
                data = data[os.write(self._fd, data) :]
            except OSError as exc:
                if not (self._direct and exc.errno == errno.EINVAL):
                    raise
                # The file system refused O_DIRECT after all (or a short write left the offset
                # unaligned): write the rest ordinarily.
                self._direct = _set_direct(self._fd, False)


def _set_direct(fd: int, on: bool) -> bool:
    """Turn ``O_DIRECT`` on or off for ``fd``; return whether it is on."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct or fcntl is None:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | direct if on else flags & ~direct)
    except OSError:
        return False
    return on


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _release(block: mmap.mmap) -> None:
    try:
        block.close()
    except BufferError:  # a view of it still held by an error's traceback: the collector frees it later
        pass


def csv_text(frame: pd.DataFrame) -> str:
    """Return the rows of ``frame`` as CSV text, each ending in ``\\n`` (no header).

    Columns are joined right to left, each step over the distinct (cell, rest of the row) pairs
    only; a row's text is built once per distinct row tail.
    """
    if frame.empty:
        return ""
    codes = np.zeros(len(frame), dtype=np.int64)  # each row's tail, into ``tails``
    tails: np.ndarray | None = None
    for column in reversed(frame.columns):
        cells, texts = cell_texts(frame[column])
        pairs = np.where(cells < 0, len(texts) - 1, cells) + codes * len(texts)
        codes, firsts = pd.factorize(pairs)
        head = texts[firsts % len(texts)]
        tails = head if tails is None else head + "," + tails[firsts // len(texts)]
    assert tails is not None
    return "\n".join(tails[codes].tolist()) + "\n"


def write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> Path:
    """Write ``frame`` whole to ``path``; return the path."""
    with CsvWriter(path, columns) as writer:
        writer.write(frame)
    return path
