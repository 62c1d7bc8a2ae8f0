"""Cut audit.jsonl into chunks and compute them on every core, results in file order.

:func:`chunk_spans` finds where each chunk of ``chunksize`` lines starts and ends, without
decoding anything; :func:`chunk_results` computes each span (:func:`process_chunk`) in worker
processes and yields the results in file order. Workers read their span from the file
themselves, so only the results cross between processes, and at most :data:`_AHEAD` chunks per
worker are in flight: memory stays bounded however long the run, even when the writer is
slower than the workers.

A small file (under :data:`PARALLEL_FROM` bytes) or a single core is computed in this process:
starting workers would cost more than it saves.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from optout_audit.report.chunk import ChunkResult, pandas_chunk
from optout_audit.report.expand import Irregular
from optout_audit.report.fastpath import fast_chunk

__all__ = ["PARALLEL_FROM", "chunk_results", "chunk_spans", "default_workers", "process_chunk"]

#: Files smaller than this (bytes) are computed without worker processes (~16,000 records).
PARALLEL_FROM = 32 << 20
_DROP_EVERY = 1 << 24  # bytes of the mapped file scanned between two MADV_DONTNEED
#: Chunks queued per worker: enough to keep it busy while the report process writes.
_AHEAD = 3


def default_workers() -> int:
    """The cores this process may run on (``OPTOUT_REPORT_WORKERS`` overrides; 1 = no workers)."""
    if setting := os.environ.get("OPTOUT_REPORT_WORKERS"):
        return max(1, int(setting))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def chunk_spans(path: Path, chunksize: int) -> Iterator[tuple[int, int]]:
    """(start, end) byte offsets of consecutive chunks of ``chunksize`` lines.

    Chunks end after a ``\\n`` (a file whose lines end in a lone ``\\r`` is one chunk: the crawler
    never writes one); a chunk's lines are then split as a text file splits them (``\\r`` too).
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be positive, not {chunksize}")
    if not path.stat().st_size:
        return  # (an empty file cannot be mapped)
    # Mapped, not read: no copy of the file. The pages already scanned are dropped from this
    # process as it goes (they stay in the page cache), or they would all count in its RSS.
    with path.open("rb") as audit, mmap.mmap(audit.fileno(), 0, access=mmap.ACCESS_READ) as text:
        size, start, end, lines, dropped = len(text), 0, 0, 0, 0
        while end := text.find(b"\n", end) + 1:
            lines += 1
            if lines == chunksize:
                yield start, end
                start, lines = end, 0
                if end - dropped >= _DROP_EVERY and hasattr(text, "madvise"):
                    scanned = end - end % mmap.PAGESIZE
                    text.madvise(mmap.MADV_DONTNEED, dropped, scanned - dropped)
                    dropped = scanned
    if size > start:  # the last chunk, or a last line without a line end
        yield start, size


def process_chunk(path: Path, start: int, end: int) -> ChunkResult:
    """Read bytes ``start:end`` of ``path`` (whole lines) and compute the chunk (see :mod:`.chunk`)."""
    with path.open("rb") as audit:
        audit.seek(start)
        lines = audit.read(end - start).splitlines(keepends=True)  # \n, \r\n or \r, as a text file reads
    try:
        return fast_chunk(lines)
    except Irregular:
        return pandas_chunk(lines)


def _context() -> multiprocessing.context.BaseContext:
    """How to start workers: ``fork`` where it is safe, else ``forkserver`` (or the platform's default).

    A forked worker starts with this process's modules imported (pandas alone takes a second to
    import). But a fork copies the locks of every other thread as they are at that instant, so a
    process with other threads (a crawl that builds its reports, a scrapyd job) gets workers forked
    from a clean server process instead; the file writers start their threads after the workers.
    """
    if sys.platform != "linux":
        return multiprocessing.get_context()
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def chunk_results(path: Path, chunksize: int, workers: int | None = None) -> Iterator[ChunkResult]:
    """Every chunk's result, in file order; ``workers`` processes (default :func:`default_workers`)."""
    workers = default_workers() if workers is None else workers
    spans = chunk_spans(path, chunksize)
    if workers < 2 or path.stat().st_size < PARALLEL_FROM:
        for start, end in spans:
            yield process_chunk(path, start, end)
        return
    with _context().Pool(workers) as pool:
        pending: deque = deque()
        for start, end in spans:
            pending.append(pool.apply_async(process_chunk, (path, start, end)))
            if len(pending) >= _AHEAD * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
