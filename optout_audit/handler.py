"""The auditor's HTTP(S) download handler: Scrapy's HTTP/1.1 handler with cheaper TLS and a short-lived pool.

``DOWNLOAD_HANDLERS`` points ``http`` and ``https`` here. Two changes, both for CPU and memory
per site, none visible to a server:

* **TLS.** Scrapy's default context factory builds a new ``CertificateOptions`` (and so a new
  ``SSL.Context``, cipher list included) for every connection, then checks the server's certificate
  against its name with ``service_identity`` only to log a warning and go on. An auditor reads every
  site whatever its certificate (Scrapy's default too: ``DOWNLOAD_VERIFY_CERTIFICATES = False``), so
  here the context is built once and shared, and no verify callback is installed: the context's own
  mode is ``VERIFY_NONE``. What a server sees is unchanged: the same ciphers, TLS versions and SNI
  name. With ``DOWNLOAD_VERIFY_CERTIFICATES = True`` Scrapy's own checking creator is used
  unchanged.
* **Idle connections.** Twisted keeps an idle keep-alive connection for 240 s; a site's documents
  are fetched back to back and never again, so at hundreds of sites a second that is tens of
  thousands of open TLS connections (memory, and file descriptors). Idle connections are closed
  after :data:`IDLE_CONNECTION_SECONDS` instead.
"""

from __future__ import annotations

from typing import Any

from OpenSSL import SSL
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from zope.interface import implementer

from scrapy.core.downloader.contextfactory import _ScrapyClientContextFactory
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

__all__ = ["AuditDownloadHandler", "SharedContextFactory"]

#: How long an idle keep-alive connection is kept (Twisted's default: 240 s).
IDLE_CONNECTION_SECONDS = 5


@implementer(IOpenSSLClientConnectionCreator)
class _UncheckedClientTLS:
    """A client connection on the shared context, with SNI for a DNS name and no name check."""

    __slots__ = ("_create", "_server_name")

    def __init__(self, create: Any, hostname: bytes) -> None:
        self._create = create
        text = hostname.decode("ascii", "replace")
        self._server_name = None if isIPAddress(text) or isIPv6Address(text) else hostname

    def clientConnectionForTLS(self, tls_protocol: Any) -> SSL.Connection:
        connection: SSL.Connection = self._create(tls_protocol)
        if self._server_name:
            connection.set_tlsext_host_name(self._server_name)
        return connection


class SharedContextFactory(_ScrapyClientContextFactory):
    """Scrapy's context factory with its ``CertificateOptions`` (and SSL context) made once."""

    _shared_options: Any = None

    def _get_cert_options(self) -> Any:
        if self._shared_options is None:
            self._shared_options = super()._get_cert_options()
        return self._shared_options

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        if self._verify_certificates:
            return super().creatorForNetloc(hostname, port)
        return _UncheckedClientTLS(self._get_cert_options()._makeTLSConnection, hostname)


class AuditDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pool.cachedConnectionTimeout = IDLE_CONNECTION_SECONDS
        if type(self._contextFactory) is _ScrapyClientContextFactory:  # not a user's own factory
            self._contextFactory = SharedContextFactory.from_crawler(crawler)
