"""Resolving the next sites' names before their first request: DNS waits off the request slots.

A site's first request waits for its name inside the downloader, holding one of the
``CONCURRENT_REQUESTS`` slots for the look-up's 30-300 ms, or for seconds when the name never gets
an answer. :class:`DnsPrefetch` reads the same input list as the spider, in the same order, and
keeps the names of the next ``DNS_PREFETCH`` sites (default: 4 x ``CONCURRENT_REQUESTS``) beyond the
ones the spider has open resolving in the resolver's cache, so that most first requests find their
name there. It is only a head start: a name it has not reached yet, or one whose entry expired, is
looked up by the request as before, and nothing it does changes a record.

Off with ``--hosts-file``, with ``DNS_CLIENT = "system"`` and with ``DNS_PREFETCH = 0``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from optout_audit.downloader.dns import resolver_for

logger = logging.getLogger(__name__)


def _hosts_in_input_order(spider: Any):
    """The spider's sites' host names in its order (shard and resume skips applied); None for invalid lines."""
    from optout_audit.app.inputs import Target, parsed_lines

    shard = getattr(spider, "shard", None)
    skip = getattr(spider, "skip_hosts", set())
    index = 0
    # Not deduplicated (the spider is): a repeated name is a cache hit, and no second set of a
    # million origins is kept.
    for entry in parsed_lines(spider.input_path):
        index += 1
        if shard and (index - 1) % shard[1] != shard[0]:
            continue
        if isinstance(entry, Target) and entry.origin in skip:
            continue  # audited before this run (resume): the spider neither requests nor records it
        yield entry.host if isinstance(entry, Target) else None


class DnsPrefetch:
    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if settings.get("HOSTS_FILE") or settings.get("DNS_CLIENT", "c-ares") == "system":
            raise NotConfigured
        concurrency = settings.getint("CONCURRENT_REQUESTS", 64)
        # The head start must outlast a name that never answers (DNS_QUERY_TIMEOUT x DNS_TRIES, ~4 s):
        # at ~100 sites/s per 128 requests in flight, four times the requests in flight.
        self.window = 4 * concurrency if settings.get("DNS_PREFETCH") is None else settings.getint("DNS_PREFETCH")
        if self.window <= 0:
            raise NotConfigured
        from optout_audit.spiders.feeding import open_site_limit

        self.ahead_limit = open_site_limit(concurrency) + self.window
        self.crawler = crawler
        self.resolver = resolver_for(settings)
        self.done = 0  # sites finished (items) and invalid lines
        self.position = 0  # entries of the input passed
        self._room: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._lookups: set[asyncio.Task] = set()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> DnsPrefetch:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        if getattr(spider, "input_path", None) is None:
            return  # sites from a queue (a distributed worker): no list to read ahead
        self._room = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(spider))

    def item_scraped(self, item: Any, spider: Any) -> None:
        self.done += 1
        if self._room is not None and self.position - self.done < self.ahead_limit:
            self._room.set()

    def spider_closed(self, spider: Any) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self, spider: Any) -> None:
        assert self._room is not None
        try:
            for host in _hosts_in_input_order(spider):
                while self.position - self.done >= self.ahead_limit:
                    self._room.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._room.wait(), 1.0)
                self.position += 1
                if host is not None:
                    task = asyncio.ensure_future(self._resolve(host))
                    self._lookups.add(task)  # kept until done: the loop holds tasks only weakly
                    task.add_done_callback(self._lookups.discard)
                if self.position % 64 == 0:
                    await asyncio.sleep(0)  # let the crawl run between bursts of look-ups
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("DNS prefetch stopped", exc_info=True)

    async def _resolve(self, host: str) -> None:
        with contextlib.suppress(Exception):
            await self.resolver.resolve(host, 443)
