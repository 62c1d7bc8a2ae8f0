"""Scrapy's log messages, less the two it builds for every response and every item (``LOG_FORMATTER``).

Scrapy makes a DEBUG record "Crawled (200) <GET ...>" per response and "Scraped from ..." per item
whatever ``LOG_LEVEL`` says (its root logger lets every record through to the handler, which
drops them): 1.4 % of the crawler's CPU in a profile at ``LOG_LEVEL = "INFO"``, where nobody sees
them. Below DEBUG they are not made; with ``-L DEBUG`` / ``--log-level DEBUG`` they are, as Scrapy
writes them. Every other message (errors, dropped items, spider errors) is Scrapy's own.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter

__all__ = ["AuditLogFormatter", "quiet_expected_warnings"]

#: Loggers whose WARNINGs are a site's fault, already recorded in its row (a body cut mid-way, a
#: decompression bomb refused, a certificate we do not check): shown from INFO down only.
EXPECTED_WARNING_LOGGERS = (
    "scrapy.core.downloader.handlers._base_streaming",
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.httpcompression",
    "scrapy.core.downloader.tls",
)


def quiet_expected_warnings(settings) -> None:
    """At LOG_LEVEL WARNING or above, keep the warnings of :data:`EXPECTED_WARNING_LOGGERS` off the log."""
    level = logging.getLevelName(str(settings.get("LOG_LEVEL", "DEBUG")).upper())
    if isinstance(level, int) and level >= logging.WARNING:
        for name in EXPECTED_WARNING_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)


def _shows_debug(settings) -> bool:
    if not settings.getbool("LOG_ENABLED", True):
        return False
    level = settings.get("LOG_LEVEL", "DEBUG")
    number = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    return not isinstance(number, int) or number <= logging.DEBUG  # an unknown level name: log as Scrapy does


class AuditLogFormatter(LogFormatter):
    def __init__(self, debug: bool = True):
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler):
        return cls(_shows_debug(crawler.settings))

    def crawled(self, request, response, spider) -> Any:
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item, response, spider) -> Any:
        return super().scraped(item, response, spider) if self.debug else None
