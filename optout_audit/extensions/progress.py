"""Progress of a crawl: a bar on a terminal (sites done / total, rate, ETA), a line every 30 s elsewhere.

:class:`ProgressBar` is the display; :class:`Progress` is the Scrapy extension that feeds it one
site per item. ``crawl --workers N`` shows one bar in the parent, fed from the children's records
(:mod:`optout_audit.app.shards`); the children show none (setting ``OPTOUT_PROGRESS = False``).
Progress goes to stderr whatever the log level: it is what a quiet run shows.
"""

from __future__ import annotations

import shutil
import sys
import time

from scrapy import signals
from scrapy.utils.asyncio import AsyncioLoopingCall

__all__ = ["Progress", "ProgressBar"]


class ProgressBar:
    """Sites done out of ``total``: a tqdm bar on a terminal, else a line every ``interval`` seconds."""

    def __init__(self, total: int | None, interval: float = 30.0, terminal: bool | None = None) -> None:
        self.total = total or None
        self.interval = interval
        self.done = 0
        self.started = self.last_line = time.monotonic()
        self.bar = None
        if sys.stderr.isatty() if terminal is None else terminal:
            from tqdm import tqdm

            # A terminal that reports no size (0 x 0) would hide the bar: fall back to 80 x 24.
            size = shutil.get_terminal_size((80, 24))
            self.bar = tqdm(total=self.total, unit="site", ncols=size.columns, nrows=size.lines, file=sys.stderr)

    def update(self, done: int) -> None:
        """``done`` sites so far (a count, not an increment)."""
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done
        if self.bar is None and time.monotonic() - self.last_line >= self.interval:
            self.last_line = time.monotonic()
            print(self.line(), file=sys.stderr, flush=True)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            eta = (self.total - self.done) / rate if rate else float("inf")
            return f"progress: {self.done:,}/{self.total:,} sites, {rate:.1f} sites/s, ETA {eta:.0f} s"
        return f"progress: {self.done:,} sites, {rate:.1f} sites/s"

    def close(self) -> None:
        """End the bar; off a terminal, the last line (so a log always ends with the final count)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.interval:
            print(self.line(), file=sys.stderr, flush=True)
            self.interval = 0.0  # said once


class Progress:
    """Scrapy extension: a :class:`ProgressBar` advanced by each scraped item."""

    def __init__(self, total: int | None, interval: float, terminal: bool | None) -> None:
        self.total, self.interval, self.terminal = total, interval, terminal
        self.bar: ProgressBar | None = None
        self.loop: AsyncioLoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        terminal = settings.getbool("OPTOUT_PROGRESS_BAR") if settings.get("OPTOUT_PROGRESS_BAR") is not None else None
        extension = cls(
            settings.getint("OPTOUT_TOTAL_SITES") or None, settings.getfloat("OPTOUT_PROGRESS_INTERVAL", 30.0), terminal
        )
        if settings.getbool("OPTOUT_PROGRESS", True):
            crawler.signals.connect(extension.opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.scraped, signal=signals.item_scraped)
            crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider) -> None:
        self.bar = ProgressBar(self.total, self.interval, self.terminal)
        if self.bar.bar is None:  # off a terminal: the line is due even while no item comes
            self.loop = AsyncioLoopingCall(self._tick)
            self.loop.start(self.interval, now=False)

    def _tick(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.done)

    def scraped(self, item, response=None, spider=None) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.done + 1)

    def closed(self, spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.bar is not None:
            self.bar.close()
