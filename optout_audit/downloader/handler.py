"""The auditor's HTTP(S) download handler: Scrapy's aiohttp handler, resolving names our way.

``DOWNLOAD_HANDLERS`` points ``http`` and ``https`` here. Scrapy (2.19) ships the aiohttp handler
as experimental; we use it because an audit is a few small requests to very many hosts, where
Twisted's HTTP/1.1 client spends most of the crawler's CPU (TLS through pyOpenSSL memory BIOs, its
pure-Python HTTP parser): aiohttp's TLS is the standard library's and its parser is compiled. The
tests' fault matrix (DNS, refused, TLS, timeouts, drips, drops, garbage, bombs, redirects) runs
against this handler at the pinned Scrapy and aiohttp versions. Our changes to Scrapy's:

* **Names** resolve through ``HOSTS_FILE`` when set (``--hosts-file``): a name absent from it is a
  DNS error without any look-up, so a test web never leaks a request. Otherwise through c-ares
  (``--dns-server``), cached by TTL; and only public addresses are connected to unless
  ``--allow-private-networks`` (:mod:`optout_audit.downloader.dns`).
* **TLS**: one context for the run; with ``DOWNLOAD_VERIFY_CERTIFICATES = False`` (Scrapy's default:
  an auditor reads every site whatever its certificate) no certificate or name is checked. The
  server sees SNI as usual.
* **Idle connections** are closed after :data:`IDLE_CONNECTION_SECONDS`: a site's documents are
  fetched back to back and never again.
* **Headers** are taken as the bytes the server sent (aiohttp's decoded strings would lose a
  Latin-1 ``X-Robots-Tag``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp

from scrapy.core.downloader.handlers._aiohttp import AiohttpDownloadHandler, _ClientResponse
from scrapy.core.downloader.handlers._base_streaming import BaseStreamingDownloadHandler
from scrapy.http import Headers
from scrapy.utils.ssl import _make_ssl_context

from optout_audit.downloader.dns import build_connector

__all__ = ["AuditDownloadHandler"]

#: How long an idle keep-alive connection is kept (aiohttp's default: 15 s).
IDLE_CONNECTION_SECONDS = 5


class AuditDownloadHandler(AiohttpDownloadHandler):
    # Scrapy marks its handler experimental; this subclass is pinned and covered by our tests.
    experimental: ClassVar[bool] = False
    # Built on the first request: aiohttp's connector needs the running event loop, which a
    # CrawlerProcess starts only after building its crawlers.
    lazy: ClassVar[bool] = True

    def __init__(self, crawler: Any) -> None:
        # Scrapy's __init__ builds its own connector; ours differs in resolver and keep-alive.
        BaseStreamingDownloadHandler.__init__(self, crawler)
        settings = crawler.settings
        self._ssl_context = _make_ssl_context(settings)
        # Resolver (hosts file, c-ares, system) and address policy: optout_audit/downloader/dns.py.
        connector = build_connector(
            settings,
            local_addr=self._bind_address,
            limit=self._pool_size_total,
            limit_per_host=self._pool_size_per_host,
            keepalive_timeout=IDLE_CONNECTION_SECONDS,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            response_class=_ClientResponse,
            skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type", "User-Agent"),
        )

    @staticmethod
    def _extract_headers(response: _ClientResponse) -> Headers:
        return Headers(list(response.raw_headers))
