"""Scrapy's per-response and per-item DEBUG messages: built only when DEBUG is logged (optout_audit/extensions/logformatter.py)."""

from __future__ import annotations

import logging

import pytest
from scrapy import Spider
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from optout_audit import settings as project_settings
from optout_audit.extensions.logformatter import AuditLogFormatter


def _formatter(**settings) -> AuditLogFormatter:
    return AuditLogFormatter.from_crawler(get_crawler(settings_dict=settings))


def _messages(formatter):
    request = Request("https://example.test/robots.txt")
    response = Response(request.url, status=200, request=request)
    return formatter.crawled(request, response, None), formatter.scraped({"domain": "example.test"}, response, None)


def test_the_project_uses_it():
    assert project_settings.LOG_FORMATTER == "optout_audit.extensions.logformatter.AuditLogFormatter"


@pytest.mark.parametrize("level", ["INFO", "warning", logging.ERROR])
def test_not_built_above_debug(level):
    assert _messages(_formatter(LOG_LEVEL=level)) == (None, None)


def test_not_built_with_logging_off():
    assert _messages(_formatter(LOG_LEVEL="DEBUG", LOG_ENABLED=False)) == (None, None)


@pytest.mark.parametrize("level", ["DEBUG", logging.DEBUG, 5, "NOT-A-LEVEL"])
def test_scrapy_s_own_messages_at_debug(level):
    crawled, scraped = _messages(_formatter(LOG_LEVEL=level))
    assert crawled["level"] == scraped["level"] == logging.DEBUG
    assert crawled["msg"].startswith("Crawled (%(status)s)") and crawled["args"]["status"] == 200
    assert scraped["args"]["item"] == {"domain": "example.test"}


def test_other_messages_are_scrapy_s():
    crawler = get_crawler(Spider, settings_dict={"LOG_LEVEL": "INFO"})
    formatter = AuditLogFormatter.from_crawler(crawler)
    dropped = formatter.dropped({"domain": "x"}, ValueError("duplicate"), None, Spider.from_crawler(crawler, "t"))
    assert dropped["level"] == logging.WARNING and "duplicate" in str(dropped["args"]["exception"])
