"""The evidence archive's Scrapy downloader middleware: every response hop into the run's WARC files.

It sits above RedirectMiddleware (600), HttpCompressionMiddleware (590) and the HTTP cache (900)
in ``DOWNLOADER_MIDDLEWARES``: ``process_response`` runs from high to low, so it sees each hop of
a redirect chain, with the body as served (still compressed) and the head the download handler
left in ``request.meta`` (:class:`~optout_audit.downloader.handler.ExchangeHead`). A response the
HTTP cache answered from storage carries no such head and is not archived again.

What it archived is left in ``request.meta[ARCHIVED_META]``: a tuple of
:class:`~optout_audit.archive.warc.ArchivedRecord`, one per hop, which RedirectMiddleware carries
over to the next hop's request; :func:`optout_audit.downloader.outcomes.fetch_from_response` puts
the last one's record id and SHA-256 into the document's ``Fetch``.

Settings: ``OPTOUT_ARCHIVE`` (on), ``OPTOUT_ARCHIVE_DIR`` (the run's ``archive/``; no folder, no
archive), ``OPTOUT_ARCHIVE_MAX_BYTES`` (rotation), ``OPTOUT_ARCHIVE_HOME_BYTES`` (how much of a
home page is kept), ``OPTOUT_ARCHIVE_WHOLE_PAGES`` (keep home pages whole).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from optout_audit.archive.warc import WarcArchive
from optout_audit.downloader.handler import ARCHIVE_HEAD_META, ExchangeHead

__all__ = ["ARCHIVED_META", "ArchiveMiddleware", "document_of"]

logger = logging.getLogger(__name__)

#: request.meta key: the ArchivedRecord of every hop archived so far for this request's chain
ARCHIVED_META = "optout_archived"
#: What of a home page the detectors can read at most: detect.html reads a page's head from its
#: first 4 x 1 MiB (a UTF-16 page), and the download is capped at DOWNLOAD_MAXSIZE anyway.
DEFAULT_HOME_BYTES = 4 * 1024 * 1024
_DOCUMENTS = {
    "/.well-known/tdmrep.json": "tdmrep",
    "/ai.txt": "aitxt",
    "/robots.txt": "robots",
    "/": "home",
    "": "home",
}


def document_of(url: str) -> str:
    """Which of a site's documents a request chain's first URL asks for."""
    return _DOCUMENTS.get(urlsplit(url).path, "other")


class ArchiveMiddleware:
    def __init__(self, directory: Path, max_bytes: int, home_bytes: int | None, crawler) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.home_bytes = home_bytes
        self.crawler = crawler
        self.archive: WarcArchive | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        directory = settings.get("OPTOUT_ARCHIVE_DIR")
        if not settings.getbool("OPTOUT_ARCHIVE", True) or not directory:
            raise NotConfigured("no evidence archive")
        whole = settings.getbool("OPTOUT_ARCHIVE_WHOLE_PAGES", False)
        home_bytes = None if whole else settings.getint("OPTOUT_ARCHIVE_HOME_BYTES", DEFAULT_HOME_BYTES)
        middleware = cls(Path(directory), settings.getint("OPTOUT_ARCHIVE_MAX_BYTES", 1 << 30), home_bytes, crawler)
        # spider_closed: before the run is finished (a scheduled run finishes at feed_exporter_closed)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def _open(self) -> WarcArchive:
        info = run_info(self.directory.parent, self.crawler.settings)
        # A distributed worker's sites come from a queue that also takes its archive's bytes.
        outbox = getattr(getattr(self.crawler.spider, "source", None), "archive_outbox", None)
        if outbox is None:
            self.archive = WarcArchive(self.directory, info, self.max_bytes)
        else:
            self.archive = WarcArchive(self.directory, info, self.max_bytes, opener=outbox.open, tag=outbox.tag)
        return self.archive

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        head: ExchangeHead | None = request.meta.pop(ARCHIVE_HEAD_META, None)
        if head is None:
            return response  # answered from the HTTP cache: archived when it was fetched
        meta = request.meta
        archived = meta.get(ARCHIVED_META, ())
        chain = meta.get("redirect_urls") or (request.url,)
        document = "robots" if meta.get("robots_body") else document_of(chain[0])
        try:
            record = self._write(request, response, head, document, len(archived))
        except Exception:
            logger.exception("could not archive %s", request.url)
            self.crawler.stats.inc_value("optout_archive/errors")
            return response
        meta[ARCHIVED_META] = (*archived, record)
        return response

    def _write(self, request: Request, response: Response, head: ExchangeHead, document: str, hop: int):
        flags = response.flags
        truncated = "length" if "download_stopped" in flags else "disconnect" if "dataloss" in flags else ""
        return (self.archive or self._open()).write_exchange(
            uri=request.url,
            status_line=head.status_line,
            headers=head.headers,
            body=response.body,
            request_line=head.request_line,
            request_headers=head.request_headers,
            peer=head.peer,
            keep=self.home_bytes if document == "home" else None,
            truncated=truncated,
            domain=request.meta.get("download_slot") or urlsplit(request.url).hostname or "",
            document=document,
            hop=hop,
            status=response.status,
        )

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def run_info(run_dir: Path, settings) -> dict:
    """The warcinfo fields: the run's record (run.json, written before the crawl starts) and our settings."""
    from importlib.metadata import version

    from optout_audit import USER_AGENT, __version__
    from optout_audit.agents import AGENT_LIST_VERSION

    try:
        record = json.loads((run_dir / "run.json").read_text("utf-8"))
    except (OSError, ValueError):
        record = {}
    info = {
        "software": f"optout-audit/{__version__} warcio/{version('warcio')}",
        "isPartOf": record.get("run_id", ""),
        "http-header-user-agent": USER_AGENT,
        "robots": "obey (product token optout-audit); tdmrep.json and ai.txt fetched in every case",
        "tool-version": __version__,
        "agent-list": AGENT_LIST_VERSION,
        "input": record.get("input", ""),
        "input-sha256": record.get("input_sha256", ""),
        "run-settings": record.get("settings", {}),
        "crawl-settings": {
            name: settings.get(name)
            for name in (
                "DOWNLOAD_TIMEOUT",
                "DOWNLOAD_MAXSIZE",
                "REDIRECT_MAX_TIMES",
                "CONCURRENT_REQUESTS",
                "HOSTS_FILE",
                "HTTPCACHE_ENABLED",
                "OPTOUT_ARCHIVE_HOME_BYTES",
                "OPTOUT_ARCHIVE_WHOLE_PAGES",
            )
        },
    }
    return {key: value for key, value in info.items() if value not in ("", None)}
