"""The private pieces of Scrapy, Twisted, aiohttp and aiodns that optout-audit builds on: if an upgrade moves one, this fails first.

Scrapy is pinned (requirements.txt, pyproject.toml) because these are not public API. Before raising
the pin, run this file against the new version: each failure names the piece and the module of ours
that must change with it.
"""

from __future__ import annotations

import importlib

import pytest

#: (module, attribute, where we use it and why)
PRIVATE_PIECES = [
    (
        "scrapy.core.downloader.handlers._aiohttp",
        "AiohttpDownloadHandler",
        "optout_audit/downloader/handler.py subclasses Scrapy's aiohttp download handler",
    ),
    (
        "scrapy.core.downloader.handlers._aiohttp",
        "_ClientResponse",
        "optout_audit/downloader/handler.py reads raw header bytes from aiohttp's response",
    ),
    (
        "scrapy.core.downloader.handlers._base_streaming",
        "BaseStreamingDownloadHandler",
        "optout_audit/downloader/handler.py",
    ),
    ("scrapy.utils.ssl", "_make_ssl_context", "optout_audit/downloader/handler.py: one shared TLS context"),
    ("twisted.web._newclient", "ResponseFailed", "optout_audit/downloader/outcomes.py classifies failures"),
    ("twisted.web._newclient", "ResponseNeverReceived", "optout_audit/downloader/outcomes.py classifies failures"),
    (
        "scrapy.extensions.httpcache",
        "RFC2616Policy._set_conditional_validators",
        "optout_audit/downloader/cachepolicy.py revalidates every cached document",
    ),
    (
        "scrapy.crawler",
        "CrawlerProcess._signal_shutdown",
        "optout_audit/app/process.py learns which signal stopped a crawl",
    ),
    (
        "scrapy.core.downloader.handlers._base_streaming",
        "BaseStreamingDownloadHandler._read_response",
        "optout_audit/downloader/handler.py keeps each exchange's status line and headers for the archive",
    ),
    (
        "aiohttp",
        "TCPConnector._resolve_host",
        "optout_audit/downloader/addresses.py checks the address actually connected to",
    ),
    ("aiodns", "DNSResolver._make_channel", "optout_audit/downloader/dns.py runs c-ares's sockets on the event loop"),
    ("aiodns", "DNSResolver._sock_state_cb", "optout_audit/downloader/dns.py"),
]


@pytest.mark.parametrize(("module", "name", "user"), PRIVATE_PIECES, ids=[f"{m}.{n}" for m, n, _ in PRIVATE_PIECES])
def test_private_piece_is_still_there(module, name, user):
    try:
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{module}.{name} is gone from this Scrapy/Twisted ({exc}); {user}: adapt it before upgrading")
    assert callable(found)
