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
  Latin-1 ``X-Robots-Tag``); every value of a repeated header is kept.
* **The exchange as it went over the wire** is left in ``request.meta[ARCHIVE_HEAD_META]`` (an
  :class:`ExchangeHead`: status line, every response header in order, the request as sent, the peer
  address) for the evidence archive (:mod:`optout_audit.archive.middleware`), which takes it out
  again when it archives the response.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import aiohttp
from scrapy import Request
from scrapy.core.downloader.handlers._aiohttp import AiohttpDownloadHandler, _ClientResponse
from scrapy.core.downloader.handlers._base_streaming import BaseStreamingDownloadHandler
from scrapy.http import Headers, Response
from scrapy.utils.ssl import _make_ssl_context

from optout_audit.downloader.dns import build_connector

__all__ = ["ARCHIVE_HEAD_META", "AuditDownloadHandler", "ExchangeHead"]

#: request.meta key of the :class:`ExchangeHead` of the request's last response
ARCHIVE_HEAD_META = "optout_exchange_head"


class ExchangeHead(NamedTuple):
    """One HTTP exchange's heads as they went over the wire (the bodies are the response's)."""

    status_line: str  # e.g. "HTTP/1.1 200 OK"
    headers: tuple[tuple[bytes, bytes], ...]  # every response header, in order, as received
    request_line: str  # e.g. "GET /robots.txt HTTP/1.1"
    request_headers: tuple[tuple[str, str], ...]  # as aiohttp sent them (Host included)
    peer: str  # the server's IP address


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

    async def _read_response(self, response: _ClientResponse, request: Request) -> Response:
        scrapy_response = await super()._read_response(response, request)
        request.meta[ARCHIVE_HEAD_META] = _exchange_head(response)
        return scrapy_response


def _exchange_head(response: _ClientResponse) -> ExchangeHead:
    version = response.version
    protocol = f"HTTP/{version.major}.{version.minor}" if version else "HTTP/1.1"
    info = response.request_info
    target = info.url.raw_path_qs or "/"
    return ExchangeHead(
        status_line=f"{protocol} {response.status} {response.reason or ''}".rstrip(),
        headers=tuple(response.raw_headers),
        request_line=f"{info.method} {target} HTTP/1.1",  # aiohttp speaks HTTP/1.1
        request_headers=tuple(info.headers.items()),
        peer=response._peername[0] if response._peername else "",
    )
