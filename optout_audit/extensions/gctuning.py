"""Python's cyclic garbage collector, tuned for the length of a crawl (a Scrapy extension).

With CPython's default thresholds (700, 10, 10) the collector took a fifth of the crawler's CPU
(7 of 37 s at 3,000 hosts, timed with ``gc.callbacks``): a crawl allocates containers very fast,
the 128 open sites keep them alive for about a second, so they outlive the young collections,
are promoted, and every full collection then walks the whole heap, the ~500,000 objects of Scrapy,
Twisted, aiohttp and lxml included.

While the engine runs this extension

* moves everything alive at start-up (modules, settings, the crawler) into the permanent
  generation (:func:`gc.freeze`): never garbage, no longer walked by any collection;
* raises the thresholds to ``OPTOUT_GC_THRESHOLDS`` (the project sets (50,000, 20, 20)): a young
  collection runs once per 50,000 new containers, when most of a site's objects have died of
  their reference counts alone. Cyclic garbage waits longer, which costs little memory
  (measured in README "Performance").

When the engine stops both are undone, so that the report stage (in the same process after a
crawl) and anything else after it runs with Python's defaults. ``OPTOUT_GC_THRESHOLDS = None``
turns the extension off.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.exceptions import NotConfigured

__all__ = ["CrawlCollector"]

# Thresholds are process-wide: with several crawlers in one process the first to start tunes,
# the last to stop restores.
_running = 0
_saved: tuple[int, ...] = gc.get_threshold()


class CrawlCollector:
    def __init__(self, thresholds: tuple[int, ...]):
        self.thresholds = thresholds
        self.started = False

    @classmethod
    def from_crawler(cls, crawler):
        setting = crawler.settings.getlist("OPTOUT_GC_THRESHOLDS")  # the project's settings: (50,000, 20, 20)
        if not setting:
            raise NotConfigured("OPTOUT_GC_THRESHOLDS is off")
        extension = cls(tuple(int(value) for value in setting))
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        global _running, _saved
        if self.started:
            return
        self.started = True
        _running += 1
        if _running == 1:
            _saved = gc.get_threshold()
            gc.collect()  # start-up's own garbage, so that freeze keeps only what lives on
            gc.freeze()
            gc.set_threshold(*self.thresholds)

    def engine_stopped(self) -> None:
        global _running
        if not self.started:
            return
        self.started = False
        _running -= 1
        if _running == 0:
            gc.set_threshold(*_saved)
            gc.unfreeze()
