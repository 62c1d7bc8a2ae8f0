"""Cheap re-audits: Scrapy's HTTP cache with conditional requests, made safe for an audit.

``optout-audit crawl --cache DIR`` turns on Scrapy's ``HttpCacheMiddleware`` with its filesystem
store in ``DIR``, a folder shared by the runs of a scheduled audit (``HTTPCACHE_ENABLED`` and
``HTTPCACHE_DIR``; scrapyd jobs can set the same two settings). A document stored by one run is
asked for again by the next with ``If-None-Match`` / ``If-Modified-Since`` (its stored ``ETag`` /
``Last-Modified``); a server that supports them answers ``304 Not Modified`` without a body, and
the stored document is used and recorded with ``Fetch.unchanged = True``.

What stock Scrapy 2.19 does with ``RFC2616Policy`` (``scrapy/extensions/httpcache.py`` and
``scrapy/downloadermiddlewares/httpcache.py``), and the three places where that would falsify an
audit, each changed here:

1. *Freshness.* ``is_cached_response_fresh`` serves a stored response **without any request**
   while it is fresh: ``max-age`` / ``Expires``, or lacking both, a tenth of the time since
   ``Last-Modified`` (Firefox's heuristic). A robots.txt last changed 300 days ago would be reused
   for 30 days unasked, so a weekly re-audit would record last week's file as today's.
   :class:`AuditCachePolicy` never calls a stored response fresh: every request is sent, made
   conditional when the stored response has validators.
2. *Server errors.* ``is_cached_response_valid`` keeps the stored response when the server now
   answers 5xx (unless it said ``must-revalidate``). An audit must record the 5xx (a robots.txt
   that answers 503 means "unknown"). :class:`AuditCachePolicy` accepts the stored response only
   on ``304``.
3. *Failures.* ``HttpCacheMiddleware.process_exception`` answers a failed download (DNS error,
   refused, timeout, connection lost) with the stored response, so a site that went down would
   look unchanged. :class:`AuditCacheMiddleware` lets every failure through.

What stays as Scrapy does it: what is stored (``should_cache_response``: 200/203/401 with an
``ETag`` or ``Last-Modified``, anything with ``max-age`` / ``Expires``, 300/301/308; never 304 or
``no-store``), the storage (``FilesystemCacheStorage``, keyed by the request fingerprint: method
and URL), and the 304 itself: the middleware swaps the 304 for the stored response (its status,
body and URL, with the 304's headers merged in, RFC 9111 4.3.4), stores it again and returns it
flagged ``cached``, so the spider never sees a 304. :class:`AuditCacheMiddleware` adds the flag
:data:`NOT_MODIFIED_FLAG` on that response and sets :data:`CACHE_META` on every request that went
through the cache, which is how :func:`optout_audit.downloader.outcomes.fetch_from_response` tells
"answered 304, stored document used" (``unchanged=True``) from "fetched anew" (``False``).
Without the cache ``unchanged`` stays ``None``.

Which documents: all but the home page (robots.txt, tdmrep.json, ai.txt, llms.txt, trust.txt, the
licences and TDM policies signals point to), whose signals are all in their body (and ``Content-Type``, which the validator covers). The home page is always fetched
whole (``dont_cache``): its signals are also response headers (``X-Robots-Tag``,
``tdm-reservation``, ``tdm-policy``, ``Content-Usage``, ``Link``), and a 304 need carry only
``ETag``, ``Date``, ``Cache-Control`` and a few more (RFC 9110 15.4.5). Many servers derive the
ETag from the file alone (nginx: mtime and size), so a site that drops ``tdm-reservation: 1``
from its configuration answers 304 without it, and the stored copy would still show it.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Request, Response

__all__ = ["CACHE_META", "NOT_MODIFIED_FLAG", "AuditCacheMiddleware", "AuditCachePolicy"]

#: request.meta key: the request went through the HTTP cache (so ``unchanged`` is True or False).
CACHE_META = "optout_httpcache"
#: response flag: the server answered 304 and this is the stored document.
NOT_MODIFIED_FLAG = "not_modified"


class AuditCachePolicy(RFC2616Policy):
    """RFC2616Policy that always revalidates and only trusts a stored response on 304."""

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # Never serve unasked: ask with the stored validators (RFC2616Policy's own helper).
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(self, cachedresponse: Response, response: Response, request: Request) -> bool:
        return response.status == 304


class AuditCacheMiddleware(HttpCacheMiddleware):
    """HttpCacheMiddleware that marks 304 revalidations and never hides a failure."""

    DOWNLOAD_EXCEPTIONS = ()  # no "error recovery" from the store: a failure is reported

    def process_request(self, request: Request, spider=None) -> Request | Response | None:
        request.meta[CACHE_META] = True  # with dont_cache too: then it is always fetched anew
        return super().process_request(request)

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        stored = request.meta.get("cached_response")
        result = super().process_response(request, response)
        if stored is not None and result is stored and response.status == 304:
            result.flags.append(NOT_MODIFIED_FLAG)
        return result

    def process_exception(self, request: Request, exception: Exception, spider=None) -> None:
        request.meta.pop("cached_response", None)
        return None
