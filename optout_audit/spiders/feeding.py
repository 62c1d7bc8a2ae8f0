"""Feeding the crawl: how many sites are open at once, and handing their first request to the engine.

Scrapy reads a spider's ``start()`` one request per turn of its engine loop (it waits for the
engine's next call after each), so with thousands of fast sites the downloader is never full:
a profile of a 3,000-host crawl at ``CONCURRENT_REQUESTS=128`` showed about 30 requests in flight.
The spider instead hands each site's first request straight to the engine (``engine.crawl``,
Scrapy's public API for injecting requests) as long as fewer than :attr:`SiteGate.limit` sites
are open, and waits on the gate otherwise. A site is open from its first request to its item,
so memory is bounded by the limit, not by the length of the input list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: Sites open per request slot: a site between two of its requests is open but not downloading.
OPEN_SITES_PER_SLOT = 1.25
#: How long start() waits for a site to close before it checks whether the downloader went idle.
STALL_CHECK_SECONDS = 1.0


def open_site_limit(concurrent_requests: int) -> int:
    return max(8, int(concurrent_requests * OPEN_SITES_PER_SLOT) + 8)


class SiteGate:
    """Counts open sites; :meth:`room` waits until fewer than ``limit`` are open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._waiter: asyncio.Future[None] | None = None

    def opened(self) -> None:
        self.open += 1

    def closed(self) -> None:
        self.open -= 1
        if self._waiter is not None and self.open < self.limit:
            self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # start() resumes on a later turn of the loop, not inside this callback

    async def room(self, stalled: Callable[[], bool] = lambda: False) -> None:
        """Return once a site may open. ``stalled()`` says the downloader went idle although the
        gate is full (a site that never closed, e.g. after a callback error): then go on anyway."""
        loop = asyncio.get_running_loop()
        while self.open >= self.limit:
            self._waiter = loop.create_future()
            timer = loop.call_later(STALL_CHECK_SECONDS, self._wake)
            await self._waiter
            timer.cancel()
            if self.open >= self.limit and stalled():
                return


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"K/N"`` (0 <= K < N) -> (K, N); None or ``"0/1"`` -> None (every entry)."""
    if text is None or text == "":
        return None
    if isinstance(text, tuple):
        number, count = text
    else:
        first, _, second = str(text).partition("/")
        try:
            number, count = int(first), int(second)
        except ValueError:
            raise ValueError(f"shard must be K/N, e.g. 0/2, not {text!r}") from None
    if not 0 <= number < count:
        raise ValueError(f"shard must be K/N with 0 <= K < N, not {text!r}")
    return None if count == 1 else (number, count)
