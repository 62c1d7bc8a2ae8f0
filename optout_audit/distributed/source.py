"""Inside a worker's crawl: the sites its spider audits come from the queue, its records go back to Redis.

:class:`QueueSource` is handed to the spider (``OptoutSpider(source=...)``), whose ``start()``
iterates :meth:`QueueSource.targets` instead of reading an input file. It reads a few entries at a
time from the run's ``sites`` stream with ``XREADGROUP`` (blocking a few seconds when there are
none: Redis is not polled hard), and first takes over, with ``XAUTOCLAIM``, entries another worker
has held for longer than the lease without renewing it (a worker killed, frozen or cut off). While
it holds entries it renews their lease every third of it (``XCLAIM ... JUSTID`` resets their idle
time), so a domain with many sites is never taken away from a live worker.

:class:`RedisResultsPipeline` stores each record in the ``results`` stream and its origin in the
``done`` set (one ``MULTI``); once every site of an entry has its record stored, the entry is
acknowledged (``XACK``) and deleted, in the same transaction as its last records (records are
sent in batches of up to 50 ms). A worker that dies loses nothing: its entries stay pending
and go to another worker after the lease; the sites already in ``done`` are not audited again.
A record stored twice (a slow worker finishing a site another worker took over) is kept once by
the coordinator.

With the evidence archive on, the worker's WARC files are written into :attr:`QueueSource.archive_outbox`
and each send carries the bytes written since the last one, ahead of its records
(:mod:`optout_audit.distributed.evidence`). A worker takes no new entries while the results wait
uncollected past :data:`MAX_UNCOLLECTED`, and gives an entry taken over more than ``max_deliveries``
times an ``abandoned`` record per site instead of auditing it again.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

from optout_audit.app.inputs import Target
from optout_audit.distributed.connection import async_client
from optout_audit.distributed.evidence import ArchiveOutbox
from optout_audit.distributed.keys import SITES_GROUP, RunKeys, decode_group

__all__ = ["QueueSource", "RedisResultsPipeline", "encode_record"]

logger = logging.getLogger(__name__)

#: Entries read per XREADGROUP: a worker holds few domains it has not started yet.
READ_COUNT = 16
#: Records sent to Redis together: at most this many, at most this long after the first.
FLUSH_RECORDS = 64
FLUSH_SECONDS = 0.05
#: How long one XREADGROUP waits for new entries (milliseconds).
BLOCK_MS = 2000
#: Evidence bytes that make a send before FLUSH_RECORDS / FLUSH_SECONDS: a transaction stays small.
FLUSH_BYTES = 1 << 20
#: Results (records and evidence pieces) waiting in Redis past which workers take no new sites.
MAX_UNCOLLECTED = 20_000


def encode_record(item: Any) -> bytes:
    """The record's audit.jsonl line, exactly as the run's feed exporter writes it."""
    from optout_audit.extensions.exporters import AuditJsonLinesExporter

    buffer = io.BytesIO()
    AuditJsonLinesExporter(buffer, encoding="utf-8").export_item(item)
    return buffer.getvalue()


class QueueSource:
    """Sites from a run's queue for one consumer (a worker process), and their acknowledgement."""

    def __init__(
        self, url: str, run_id: str, consumer: str, lease: float, *, archive: bool = False, max_deliveries: int = 0
    ) -> None:
        self.url, self.keys, self.consumer, self.lease = url, RunKeys(run_id), consumer, lease
        #: The WARC bytes of the worker's evidence archive, sent with its records (None: no archive).
        self.archive_outbox = ArchiveOutbox(consumer) if archive else None
        self.max_deliveries = max_deliveries
        self.waiting_for_collector = False
        self.redis = None
        self.groups: dict[bytes, set[str]] = {}  # entry id -> origins without a stored record
        self.entry_of: dict[str, bytes] = {}  # origin -> its entry id
        self.claim_cursor = "0-0"
        self.stored = 0
        self._buffer: list[tuple[bytes, str]] = []  # (record line, origin) not sent yet
        self._finished: list[bytes] = []  # entries whose every record is in _buffer or sent
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushing = asyncio.Lock()
        self._flush_task: asyncio.Future | None = None
        self._renewer: asyncio.Task | None = None

    async def _connect(self):
        if self.redis is None:
            self.redis = async_client(self.url)
        return self.redis

    # -- taking sites ----------------------------------------------------------------------------

    async def targets(self) -> AsyncIterator[Target]:
        """The sites to audit, until the coordinator marks the run complete."""
        redis = await self._connect()
        self._renewer = asyncio.ensure_future(self._renew_leases())
        try:
            while True:
                pipe = redis.pipeline(transaction=False)
                pipe.hget(self.keys.meta, "state")
                pipe.xlen(self.keys.results)
                state, uncollected = await pipe.execute()
                if state != b"running":
                    return  # complete, or the run is gone
                if self._wait_for_collector(uncollected):
                    await asyncio.sleep(BLOCK_MS / 1000)
                    continue
                claimed = await redis.xautoclaim(
                    self.keys.sites,
                    SITES_GROUP,
                    self.consumer,
                    int(self.lease * 1000),
                    self.claim_cursor,
                    count=READ_COUNT,
                )
                self.claim_cursor, entries = claimed[0], claimed[1]
                if entries:
                    entries = await self._abandon_poisoned(entries)
                else:
                    reply = await redis.xreadgroup(
                        SITES_GROUP, self.consumer, {self.keys.sites: ">"}, count=READ_COUNT, block=BLOCK_MS
                    )
                    entries = reply[0][1] if reply else []
                for target in await self._take(entries):
                    yield target
        finally:
            if self._renewer is not None:
                self._renewer.cancel()

    def _wait_for_collector(self, uncollected: int) -> bool:
        """Whether to take no new sites for now: the coordinator has not collected enough results
        (stopped, or slower than the workers), and Redis would hold them all, evidence bytes included."""
        waiting = uncollected >= MAX_UNCOLLECTED
        if waiting != self.waiting_for_collector:
            self.waiting_for_collector = waiting
            if waiting:
                logger.warning("%d results wait for the coordinator: no new sites taken until it collects", uncollected)
        return waiting

    async def _abandon_poisoned(self, entries: list) -> list:
        """The entries taken over (XAUTOCLAIM) less those more than ``max_deliveries`` workers took
        and none finished: their sites get an ``abandoned`` record instead of another worker to stop."""
        if not self.max_deliveries:
            return entries
        pipe = self.redis.pipeline(transaction=False)
        for entry_id, _fields in entries:
            pipe.xpending_range(self.keys.sites, SITES_GROUP, min=entry_id, max=entry_id, count=1)
        delivered = [reply[0]["times_delivered"] if reply else 0 for reply in await pipe.execute()]
        kept, poisoned = [], []
        for entry, times in zip(entries, delivered, strict=True):
            (poisoned if times > self.max_deliveries else kept).append(entry)
        if poisoned:
            from optout_audit.downloader.outcomes import utc_now
            from optout_audit.record import abandoned_record

            for target in await self._take(poisoned):
                logger.warning("%s: abandoned after %d workers took it", target.origin, self.max_deliveries)
                await self.store(abandoned_record(target, self.max_deliveries, utc_now()))
        return kept

    async def _take(self, entries) -> list[Target]:
        taken: list[Target] = []
        finished: list[bytes] = []
        groups = [
            (entry_id, decode_group(fields)[1])
            for entry_id, fields in entries
            if fields is not None and entry_id not in self.groups
        ]  # not deleted, not ours already
        origins = [target.origin for _, targets in groups for target in targets]
        stored = iter(await self.redis.smismember(self.keys.done, origins) if origins else ())
        for entry_id, targets in groups:
            todo = [t for t in targets if not next(stored) and t.origin not in self.entry_of]
            if not todo:
                finished.append(entry_id)
                continue
            self.groups[entry_id] = {t.origin for t in todo}
            for target in todo:
                self.entry_of[target.origin] = entry_id
            taken += todo
        if finished:
            await self._acknowledge(finished)
        return taken

    async def _renew_leases(self) -> None:
        """Keep the entries this worker holds: reset their idle time every third of the lease."""
        while True:
            await asyncio.sleep(self.lease / 3)
            if self.groups:
                try:
                    await self.redis.xclaim(
                        self.keys.sites, SITES_GROUP, self.consumer, 0, list(self.groups), justid=True
                    )
                except Exception as exc:
                    logger.warning("could not renew the lease of %d queue entries: %s", len(self.groups), exc)

    # -- storing records -------------------------------------------------------------------------

    async def store(self, item: Any) -> None:
        """Queue ``item`` for the results stream; it is sent with the records stored in the same
        :data:`FLUSH_SECONDS` (at most :data:`FLUSH_RECORDS`) in one transaction, which also
        acknowledges the entries whose last site it holds: an entry is never acknowledged without
        its records stored. Records not sent yet when a worker is killed are lost with their entries'
        acknowledgement: those sites are audited again by another worker after the lease."""
        origin = getattr(item, "origin", "") or ""
        self._buffer.append((encode_record(item), origin))
        entry_id = self.entry_of.pop(origin, None)
        remaining = self.groups.get(entry_id) if entry_id is not None else None
        if remaining is not None:
            remaining.discard(origin)
            if not remaining:
                self._finished.append(entry_id)
        outbox = self.archive_outbox
        if len(self._buffer) >= FLUSH_RECORDS or (outbox is not None and outbox.pending_bytes >= FLUSH_BYTES):
            await self.flush()
        elif self._flush_timer is None:
            self._flush_timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_timer = None
        self._flush_task = asyncio.ensure_future(self.flush())  # kept: a task nobody holds may be collected

    async def flush(self) -> None:
        """Send the queued records and acknowledgements (one transaction; flushes in order)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        async with self._flushing:
            records, finished = self._buffer, self._finished
            self._buffer, self._finished = [], []
            # Every record's evidence is archived before the record is stored: all of it is in here.
            pieces = self.archive_outbox.take() if self.archive_outbox is not None else []
            if not records and not finished and not pieces:
                return
            redis = await self._connect()
            pipe = redis.pipeline(transaction=True)
            for piece in pieces:  # ahead of the records that name them
                pipe.xadd(self.keys.results, {"file": piece.name, "offset": piece.offset, "data": piece.data})
            for line, _origin in records:
                pipe.xadd(self.keys.results, {"record": line})
            origins = [origin for _line, origin in records if origin]
            if origins:
                pipe.sadd(self.keys.done, *origins)
            if finished:
                pipe.xack(self.keys.sites, SITES_GROUP, *finished)
                pipe.xdel(self.keys.sites, *finished)
            try:
                await pipe.execute()
            except Exception as exc:
                logger.warning("could not store %d records in Redis (kept, tried again): %s", len(records), exc)
                self._buffer[:0], self._finished[:0] = records, finished
                if pieces:
                    self.archive_outbox.give_back(pieces)
                if self._flush_timer is None:
                    self._flush_timer = asyncio.get_running_loop().call_later(1.0, self._flush_soon)
                return
            for entry_id in finished:
                self.groups.pop(entry_id, None)
            self.stored += len(records)

    async def _acknowledge(self, entry_ids: list[bytes]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.keys.sites, SITES_GROUP, *entry_ids)
        pipe.xdel(self.keys.sites, *entry_ids)
        await pipe.execute()
        for entry_id in entry_ids:
            self.groups.pop(entry_id, None)

    async def close(self) -> None:
        """Send what is queued, hand back the entries still held (a worker stopped early): others
        may take them at once."""
        if self._renewer is not None:
            self._renewer.cancel()
        await self.flush()
        if self.groups and self.redis is not None:
            try:  # their idle time set past the lease: the next XAUTOCLAIM of any worker takes them
                await self.redis.xclaim(
                    self.keys.sites,
                    SITES_GROUP,
                    self.consumer,
                    0,
                    list(self.groups),
                    idle=int(self.lease * 1000) + 1,
                    justid=True,
                )
            except Exception as exc:
                logger.warning("could not hand back %d queue entries: %s", len(self.groups), exc)
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None


class RedisResultsPipeline:
    """Item pipeline of a worker's crawl: each record to Redis (see :class:`QueueSource`)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def close_spider(self, spider=None) -> None:
        source = getattr(self.crawler.spider, "source", None)
        if source is not None:
            await source.close()

    async def process_item(self, item: Any, spider=None) -> Any:
        source = getattr(self.crawler.spider, "source", None)
        if source is not None:
            await source.store(item)
        return item
