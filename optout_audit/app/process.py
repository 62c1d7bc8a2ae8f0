"""The crawl of a run in this process: Scrapy's CrawlerProcess, told which signal stopped it."""

from __future__ import annotations

import contextlib
import ctypes
import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess

from optout_audit.spiders.optout import OptoutSpider

if TYPE_CHECKING:
    from optout_audit.app.run import Run

__all__ = ["AuditCrawlerProcess", "crawl_here"]


class AuditCrawlerProcess(CrawlerProcess):
    """Scrapy's process, remembering which signal (SIGINT, SIGTERM) stopped it.

    Scrapy's graceful shutdown on a signal is kept as it is; the run needs to know it happened to
    mark itself interrupted and exit as a shell expects (130, 143). ``_signal_shutdown`` is Scrapy's
    own handler (a private method: tests/test_scrapy_private.py fails loudly if it goes).
    """

    received_signal: int | None = None

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        self.received_signal = signum
        super()._signal_shutdown(signum, frame)


def crawl_here(
    run: Run, feed: Path, skip: set[str], shard: str | None = None, total: int | None = None, progress: bool = True
) -> int | None:
    """Crawl ``run``'s input into ``feed``, skipping ``skip``; return the signal that stopped it early, if any.

    A spider that read the whole list leaves its count of the list's entries in ``run.entries``.
    """
    remaining = max(run.total_lines - len(skip), 0) if total is None else total
    process = AuditCrawlerProcess(run.settings(feed, remaining, progress=progress))
    crawler = process.create_crawler(OptoutSpider)
    process.crawl(crawler, input=str(run.options.input), skip_hosts=skip, shard=shard)
    process.start()
    received = process.received_signal
    if crawler.spider is not None and crawler.spider.entries is not None:
        run.entries = crawler.spider.entries
    del process, crawler  # the crawler, its spider and their buffers: the report stage does not need them
    _give_back_memory()
    return received


def _give_back_memory() -> None:
    """Return the finished crawl's memory to the system before the report stage needs its own."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed heap pages otherwise
