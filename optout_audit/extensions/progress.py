"""Progress of a crawl: a bar on a terminal (sites done / total, rate, ETA), log lines elsewhere."""

from __future__ import annotations

import logging
import shutil
import sys
import time

from scrapy import signals
from scrapy.utils.asyncio import AsyncioLoopingCall

logger = logging.getLogger(__name__)


class Progress:
    def __init__(self, total: int | None, interval: float, terminal: bool):
        self.total, self.interval, self.terminal = total, interval, terminal
        self.done = 0
        self.started = time.monotonic()
        self.bar = None
        self.loop: AsyncioLoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        total = settings.getint("OPTOUT_TOTAL_SITES") or None
        terminal = settings.getbool("OPTOUT_PROGRESS_BAR", sys.stderr.isatty())
        extension = cls(total, settings.getfloat("OPTOUT_PROGRESS_INTERVAL", 30.0), terminal)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider) -> None:
        if self.terminal:
            from tqdm import tqdm

            # A terminal that reports no size (0 x 0) would hide the bar: fall back to 80 x 24.
            size = shutil.get_terminal_size((80, 24))
            self.bar = tqdm(total=self.total, unit="site", ncols=size.columns, nrows=size.lines, file=sys.stderr)
        else:
            self.loop = AsyncioLoopingCall(self.log)
            self.loop.start(self.interval, now=False)

    def scraped(self, item, response=None, spider=None) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)

    def log(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            eta = (self.total - self.done) / rate if rate else float("inf")
            logger.info("progress: %d/%d sites, %.1f sites/s, ETA %.0f s", self.done, self.total, rate, eta)
        else:
            logger.info("progress: %d sites, %.1f sites/s", self.done, rate)

    def closed(self, spider) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.log()
