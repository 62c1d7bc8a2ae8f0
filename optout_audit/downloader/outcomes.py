"""What happened to one fetch, in the record's vocabulary (items.Fetch): responses and failures.

Failures arrive as Twisted/Scrapy exceptions; :func:`classify_failure` names them so that a
report can say "dns_error" or "tls_error" instead of a traceback.
"""

from __future__ import annotations

import time

from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from twisted.internet import error as net_error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from optout_audit.archive.middleware import ARCHIVED_META
from optout_audit.downloader.cachepolicy import CACHE_META, NOT_MODIFIED_FLAG
from optout_audit.items import Fetch

#: fault -> the Fetch.status it implies
_FAULT_STATUS = {
    "dns_error": "unreachable",
    "connection_refused": "unreachable",
    "tls_error": "unreachable",
    "no_route": "unreachable",
    "timeout": "timeout",
    "connection_dropped": "error",
    "headers_too_large": "error",
    "too_many_redirects": "missing",  # RFC 9309 2.3.1.2: more than 5 redirects -> unavailable
    "too_large": "too_large",
    "error": "error",
    # optout_audit/downloader/dns.py and addresses.py: the exception names its fault
    "dns_nxdomain": "unreachable",
    "dns_nodata": "unreachable",
    "dns_servfail": "unreachable",
    "dns_timeout": "unreachable",
    "blocked_address": "unreachable",
}
#: faults after which a bare domain is retried over http
CONNECT_FAULTS = frozenset({"connection_refused", "tls_error", "no_route", "connect_timeout"})


_SCRAPY_WRAPPERS = (CannotResolveHostError, DownloadConnectionRefusedError, DownloadFailedError, DownloadTimeoutError)


def utc_now() -> str:
    """The time now in UTC to the second, e.g. ``2026-11-28T01:15:00Z``."""
    global _stamp
    second = int(time.time())
    if second != _stamp[0]:  # a crawl stamps every fetch: format each second once
        _stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _stamp[1]


_stamp: tuple[int, str] = (-1, "")


def _is_tls(exc: BaseException) -> bool:
    name = type(exc).__module__ + "." + type(exc).__name__
    return "SSL" in name or "ssl" in name or "TLS" in str(exc)[:200]


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes: Scrapy wraps Twisted's errors (e.g. DNSLookupError)."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain and len(chain) < 8:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _classify_one(exc: BaseException) -> str | None:
    if isinstance(exc, LineTooLong) or (isinstance(exc, BadHttpMessage) and "headers" in str(exc).lower()):
        return "headers_too_large"  # past aiohttp's bounds per response: 128 lines, 8,190 bytes a line
    if isinstance(exc, (net_error.DNSLookupError, CannotResolveHostError)):
        return "dns_error"
    if isinstance(exc, (net_error.ConnectionRefusedError, DownloadConnectionRefusedError)):
        return "connection_refused"
    if isinstance(exc, (net_error.NoRouteError, net_error.UnknownHostError)):
        return "no_route"
    if isinstance(exc, net_error.TCPTimedOutError):
        return "connect_timeout"
    if isinstance(exc, (net_error.TimeoutError, TimeoutError, DownloadTimeoutError)):
        return "timeout"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        if "redirect" in text:
            return "too_many_redirects"
        if "size" in text or "decompress" in text:
            return "too_large"
        return None
    if isinstance(exc, (ResponseFailed, ResponseNeverReceived)):
        reasons = getattr(exc, "reasons", []) or []
        if any(_is_tls(reason.value) for reason in reasons):
            return "tls_error"
        return None
    if isinstance(exc, DownloadCancelledError) or "maxsize" in str(exc).lower():
        return "too_large"
    return None


def _message(exc: BaseException) -> str:
    """A one-line message: Twisted's ResponseFailed wraps its reasons in Failure reprs."""
    reasons = getattr(exc, "reasons", None)
    if reasons:
        exc = reasons[0].value
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(fault, message) for a failed request."""
    chain = _chain(failure.value)
    message = _message(chain[-1])
    # aiohttp's TLS failures reach us wrapped as Scrapy's DownloadConnectionRefusedError.
    if any(_is_tls(exc) for exc in chain if not isinstance(exc, _SCRAPY_WRAPPERS)):
        return "tls_error", message
    # DNS outcomes and refused addresses (downloader/dns.py, addresses.py) carry their fault.
    named = next((exc.fault for exc in chain if isinstance(getattr(exc, "fault", None), str)), None)
    if named:
        return named, message
    for exc in chain:
        fault = _classify_one(exc)
        if fault:
            return fault, message
    dropped = (
        ResponseFailed,
        ResponseNeverReceived,
        ResponseDataLossError,
        DownloadFailedError,
        net_error.ConnectionLost,
        net_error.ConnectionDone,
        net_error.ConnectError,
    )
    if any(isinstance(exc, dropped) for exc in chain):
        return "connection_dropped", message
    return "error", message


def fetch_from_failure(url: str, failure: Failure) -> Fetch:
    fault, message = classify_failure(failure)
    status = _FAULT_STATUS.get(fault, "timeout" if fault == "connect_timeout" else "error")
    return Fetch(status=status, url=url, final_url=url, fault=fault, error=message, fetched_at=utc_now())


def status_of_code(code: int) -> str:
    if 200 <= code < 300:
        return "ok"
    if 400 <= code < 500:
        return "missing"
    if code >= 500:
        return "server_error"
    return "error"  # 1xx / an unfollowed 3xx


def fetch_from_response(url: str, response: Response) -> Fetch:
    redirects = len(response.meta.get("redirect_urls", []) or [])
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")[:200]
    fetch = Fetch(
        status=status_of_code(response.status),
        url=url,
        final_url=response.url,
        http_status=response.status,
        redirects=redirects,
        bytes=len(response.body),
        content_type=content_type,
        fetched_at=utc_now(),
    )
    # Re-audits (optout_audit/downloader/cachepolicy.py): on a 304 to a conditional request Scrapy's cache
    # middleware hands the spider the *stored* response (its status, body and URL, the 304's headers
    # merged in, flagged "cached"), never the 304 itself; AuditCacheMiddleware adds NOT_MODIFIED_FLAG
    # to it and CACHE_META to every request that went through the cache.
    if response.meta.get(CACHE_META):
        fetch.unchanged = NOT_MODIFIED_FLAG in response.flags
    archived = response.meta.get(ARCHIVED_META)
    if archived and len(archived) == redirects + 1:  # the last hop came from the network, not the cache
        fetch.warc_record_id, fetch.sha256 = archived[-1].record_id, archived[-1].sha256
    if response.status == 304:
        # Only a 304 that no stored document stands for gets here (the cache is off, or the server
        # answered an unconditional request with 304): there is no document to read.
        fetch.status, fetch.fault = "error", "not_modified_without_document"
        fetch.error = "HTTP 304 Not Modified, but no stored document to use"
    elif 300 <= response.status < 400:
        fetch.fault, fetch.error = "bad_redirect", f"HTTP {response.status} without a usable Location"
    return fetch


def header_pairs(response: Response) -> list[tuple[str, str]]:
    """Every (name, value) of the response's headers, repeated ones included, as Latin-1 text: what
    the detectors read (the spider and a replay of the archive alike)."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    ]


def response_charset(response: Response) -> str | None:
    """The charset Scrapy gave a text response (None for a body it did not take as text)."""
    return getattr(response, "encoding", None) if hasattr(response, "text") else None
