"""Downloader middlewares of our own."""

from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.http import Request, Response

#: Decompressed robots.txt bodies beyond this are refused as bombs (its head is parsed up to 500 KiB).
ROBOTS_DECOMPRESSED_MAX = 8 * 1024 * 1024


class RobotsBodyCapMiddleware:
    """Puts a size cap back on robots.txt responses before HttpCompressionMiddleware decompresses them.

    The robots.txt request is downloaded without a cap so that a file larger than the cap is cut
    after its first 500 KiB and parsed on its head instead of being cancelled unread; decompression
    still needs a cap, or a small gzip bomb would expand without bound.
    """

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if request.meta.get("robots_body"):
            request.meta["download_maxsize"] = ROBOTS_DECOMPRESSED_MAX
        return response


class NoRefererRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, without a Referer on the next hop: we never send one (REFERRER_POLICY).

    Scrapy's RedirectMiddleware looks for RefererMiddleware when the engine starts and warns on
    every run that it is missing (it is off here: it only costs time). This one never looks.
    """

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def handle_referer(self, request: Request, response: Response) -> None:
        request.headers.pop("Referer", None)
