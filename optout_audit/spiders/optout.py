"""The ``optout`` spider: per site robots.txt, home page, tdmrep.json, ai.txt -> one SiteAudit.

Thin glue: it makes requests, turns responses and failures into :class:`~optout_audit.items.Fetch`
records and hands them with the bytes to a :class:`~optout_audit.record.SiteRecord`, the pure rules
that read them and assemble the record. A site's fetches run one after another (at most four
requests per site); whatever fails, the chain goes on to the next step, and the last step yields
exactly one item.

robots.txt is an ordinary scheduled request. Its callback then fetches the site's other documents
itself, one after another, with ``engine.download_async`` (Scrapy's API for a request that only
passes the downloader middlewares: redirects, decompression, the cache, timeouts, the site's
download slot and its crawl delay all apply) and returns the site's item. The scheduler, the spider
middlewares and a callback round trip per document would cost more CPU than the documents'
detection (README "Performance"), and a site's documents never need them.

    scrapy crawl optout -a input=sites.txt -O audit.jsonl
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import StopDownload
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from optout_audit.agents import ai_agents, training_agents
from optout_audit.app.inputs import InputEntries, InvalidLine, Target
from optout_audit.detect.body import ROBOTS_MAX_BYTES
from optout_audit.downloader.outcomes import (
    CONNECT_FAULTS,
    fetch_from_failure,
    fetch_from_response,
    header_pairs,
    response_charset,
    utc_now,
)
from optout_audit.extensions.logformatter import quiet_expected_warnings
from optout_audit.items import Fetch, SiteAudit
from optout_audit.record import DOCUMENT_PATHS, SiteRecord, invalid_record, new_audit
from optout_audit.spiders.feeding import SiteGate, open_site_limit, parse_shard

#: Longest Crawl-delay we honour: a site asking for more still gets audited, just this slowly.
MAX_CRAWL_DELAY = 30.0
#: Headers of a site's last request: its connection is closed rather than kept idle.
_LAST_REQUEST_HEADERS = {"Connection": "close"}
#: Redirects a home page may answer with (RFC 9110 15.4), and how many we follow (RFC 9309 2.3.1.2).
_REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
#: Every status but the redirects, which RedirectMiddleware must still follow (<= 5 hops).
_HANDLED_STATUSES = [code for code in range(100, 600) if code not in _REDIRECT_CODES]
#: The home page's: every status, its redirects included (followed by _download_home).
_ALL_STATUSES = list(range(100, 600))


@dataclass(slots=True)
class SiteState:
    """One site's audit in progress, carried from callback to callback."""

    target: Target
    record: SiteRecord
    root: str  # scheme://host[:port]/ actually used
    finished: bool = False


def _keeps_the_site(method):
    """A bug in a callback must not lose the site: it ends as a row with status ``error``."""

    @functools.wraps(method)
    async def guarded(self, result, **kwargs):
        try:
            return await method(self, result, **kwargs)
        except Exception as exc:
            state: SiteState = kwargs.get("state") or result.request.cb_kwargs["state"]
            self.logger.exception("internal error while auditing %s", state.target.host)
            self._close_site(state)
            return state.record.fail(exc, utc_now())

    return guarded


class OptoutSpider(scrapy.Spider):
    name = "optout"

    def __init__(
        self,
        input: str | None = None,
        skip_hosts: Any = None,
        shard: str | None = None,
        source: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        # A distributed run's worker (optout_audit.distributed.source.QueueSource): its sites come
        # from the run's queue, through ``source.targets()``, not from an input file.
        self.source = source
        if not input and source is None:
            raise ValueError("the optout spider needs an input file: -a input=FILE")
        self.input_path = Path(input) if input else None
        # "K/N": audit only every N-th entry of the deduplicated list, from the K-th (crawl --workers N).
        self.shard = parse_shard(shard)
        # Sites (origins, see items.SiteAudit.origin) already audited in an earlier, interrupted run (resume).
        self.skip_hosts: set[str] = set(skip_hosts or ())
        self.agents = ai_agents()
        self.training = frozenset(agent.name for agent in training_agents())
        self.gate = SiteGate(open_site_limit(64))  # sites open at once (see optout_audit.spiders.feeding)
        self.in_flight = 0  # our requests handed to Scrapy and not yet answered
        #: The entries of the input list (all shards', skipped ones too) once start() has read it whole.
        self.entries: int | None = None

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_bytes_received, signal=signals.bytes_received)
        quiet_expected_warnings(crawler.settings)
        return spider

    def on_bytes_received(self, data: bytes, request: Request, spider: scrapy.Spider) -> None:
        """Stop reading a robots.txt past the parse limit: it is parsed on its head (RFC 9309 2.5)."""
        if request.meta.get("robots_body"):
            received = request.meta["received_bytes"] = request.meta.get("received_bytes", 0) + len(data)
            if received > ROBOTS_MAX_BYTES:
                raise StopDownload(fail=False)

    async def start(self):
        # Each site's first request goes straight to the engine while the gate has room: Scrapy
        # reads start() one request per engine turn, too slowly to fill the downloader.
        engine = self.crawler.engine
        concurrency = self.crawler.settings.getint("CONCURRENT_REQUESTS")
        self.gate.limit = open_site_limit(concurrency)

        def stalled() -> bool:
            return self.in_flight < max(1, concurrency // 2)

        if self.source is not None:
            async for target in self.source.targets():
                await self.gate.room(stalled)
                self.gate.opened()
                self.in_flight += 1
                engine.crawl(self._robots_request(self._new_site(target)))
            return
        entries = InputEntries(self.input_path)
        for index, entry in enumerate(entries):
            if self.shard and index % self.shard[1] != self.shard[0]:
                continue
            if isinstance(entry, InvalidLine):
                if f"\0line:{entry.line}" not in self.skip_hosts:
                    yield invalid_record(entry.input, entry.line, entry.reason, utc_now())
                continue
            if entry.origin in self.skip_hosts:
                continue
            await self.gate.room(stalled)
            self.gate.opened()
            self.in_flight += 1
            engine.crawl(self._robots_request(self._new_site(entry)))
        self.entries = entries.count  # reached only when the whole list was read (not on a stop)

    def _new_site(self, target: Target) -> SiteState:
        audit = new_audit(target, utc_now())
        timeout = self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT") if hasattr(self, "crawler") else None
        return SiteState(target, SiteRecord(audit, self.agents, self.training, timeout), target.url)

    # -- robots.txt ------------------------------------------------------------------------------

    def _request(self, state: SiteState, path: str, callback, errback, last: bool = False, **meta: Any) -> Request:
        return Request(
            state.root + path.lstrip("/"),
            callback=callback,
            errback=errback,
            # The site's last document: its connection is closed, not kept idle for nothing
            # (hundreds of idle TLS connections cost more memory than the open sites).
            headers=_LAST_REQUEST_HEADERS if last else None,
            cb_kwargs={"state": state},
            dont_filter=True,  # sites are deduplicated at input; redirect loops must end in errback
            meta={"handle_httpstatus_list": _HANDLED_STATUSES, "download_slot": state.target.host, **meta},
        )

    def _robots_request(self, state: SiteState) -> Request:
        # No size cap while downloading (a big file is cut at ROBOTS_MAX_BYTES by on_bytes_received and
        # parsed on its head); RobotsBodyCapMiddleware restores a cap before decompression.
        return self._request(
            state, "robots.txt", self.on_robots, self.on_robots_failure, robots_body=True, download_maxsize=0
        )

    @_keeps_the_site
    async def on_robots(self, response: Response, state: SiteState):
        self.in_flight -= 1
        fetch = fetch_from_response(response.request.url, response)
        state.record.read_robots(fetch, response.body, "download_stopped" in response.flags)
        return await self._after_robots(state)

    @_keeps_the_site
    async def on_robots_failure(self, failure: Failure):
        state: SiteState = failure.request.cb_kwargs["state"]  # errbacks get no cb_kwargs
        self.in_flight -= 1
        if self._stopping():
            return self._abandon(state)
        fetch = fetch_from_failure(failure.request.url, failure)
        hops = failure.request.meta.get("redirect_urls") or []
        if hops:
            # The origin answered, with a redirect; the failure is its target's (issue 17 2a): the
            # site is reachable, its protocol files are still asked for, http is not tried.
            fetch.url, fetch.redirects = hops[0], len(hops)
        elif not state.target.scheme_given and state.root.startswith("https://") and fetch.fault in CONNECT_FAULTS:
            # A bare domain: https could not connect, try http.
            state.root = "http://" + state.root[len("https://") :]
            state.record.audit.url = state.root
            self.in_flight += 1
            return self._robots_request(state)
        state.record.read_robots(fetch)
        return await self._after_robots(state)

    async def _after_robots(self, state: SiteState) -> SiteAudit:
        record = state.record
        # The site's documents are fetched here one after another: its Crawl-delay for us is a pause
        # before each (capped: a site asking for more still gets audited, just this slowly).
        delay = min(record.audit.crawl_delay or 0.0, MAX_CRAWL_DELAY)
        steps = record.documents_to_fetch()
        for number, step in enumerate(steps, start=1):
            if delay:
                await asyncio.sleep(delay)
            # A licence or policy to fetch after the last document keeps the connection open for it.
            last = number == len(steps) and not record.followups()
            request = self._document_request(state, step, last=last)
            home = step == "home"
            download = self._download_home(request, record) if home else self._download_plain(request)
            result, failed = await self._counted(request, download)
            if failed is not None:
                if self._stopping():
                    return self._abandon(state)
                record.read_document(step, failed)
                continue
            response, hops, refused = result
            if refused is not None:
                record.read_document(step, refused)
                continue
            fetch = fetch_from_response(response.request.url, response)
            if hops:
                fetch.url, fetch.redirects = hops[0], len(hops)
            record.read_document(step, fetch, header_pairs(response), response.body, response_charset(response))
        # Licence files and a TDM policy, only where a signal read above points to one.
        followups = record.followups()
        for number, (kind, url) in enumerate(followups, start=1):
            if delay:
                await asyncio.sleep(delay)
            request = self._followup_request(state, url, number == len(followups))
            response, failed = await self._counted(request, self.crawler.engine.download_async(request))
            if failed is not None:
                if self._stopping():
                    return self._abandon(state)
                record.read_followup(kind, failed)
                continue
            record.read_followup(kind, fetch_from_response(response.request.url, response), response.body)
        self._close_site(state)
        return record.finish(utc_now())

    async def _counted(self, request: Request, download) -> tuple[Any, Fetch | None]:
        """Await one document's ``download``, counted in flight: (its result, None), or (None, the Fetch
        that records its failure)."""
        self.in_flight += 1
        try:
            return await download, None
        except Exception:
            return None, fetch_from_failure(request.url, Failure())
        finally:
            self.in_flight -= 1

    async def _download_plain(self, request: Request) -> tuple[Response, list[str], None]:
        """A document without redirects of our own to judge: (response, no hops, not refused)."""
        return await self.crawler.engine.download_async(request), [], None

    def _stopping(self) -> bool:
        """Whether the crawl is shutting down (a signal, or the engine closing the spider)."""
        return not self.crawler.crawling

    def _abandon(self, state: SiteState) -> None:
        """A site cut short by the shutdown gets no record: a resumed run audits it whole."""
        self._close_site(state)

    def _close_site(self, state: SiteState) -> None:
        if not state.finished:
            state.finished = True
            self.gate.closed()

    async def _download_home(
        self, request: Request, record: SiteRecord
    ) -> tuple[Response | None, list[str], Fetch | None]:
        """The home page, its redirects followed by us: only to targets robots.txt lets us fetch.

        RFC 9309 2.2.2 and our own rule: we obey robots.txt, so a redirect to a path it disallows to
        optout-audit is not followed (issue 17 2b). Returns (response, the URLs redirected from,
        None) or (None, hops, the Fetch that records why the chain stopped).
        """
        hops: list[str] = []
        while True:
            response = await self.crawler.engine.download_async(request)
            location = response.headers.get(b"Location") if response.status in _REDIRECT_CODES else None
            if not location:
                return response, hops, None
            target = urljoin(request.url, location.decode("latin-1").strip())
            hops.append(request.url)
            stopped = Fetch(url=hops[0], final_url=target, redirects=len(hops))
            if len(hops) > MAX_REDIRECTS:
                stopped.status, stopped.fault, stopped.error = "error", "too_many_redirects", "more than 5 redirects"
                return None, hops, stopped
            if not record.may_follow(target):
                stopped.error = "redirected to a path robots.txt does not let optout-audit fetch"
                return None, hops, stopped
            # The chain so far, in RedirectMiddleware's meta key: the archive files each hop as the
            # home page's, and the Fetch names the last hop's WARC record (downloader/outcomes.py).
            request = request.replace(url=target)
            request.meta["redirect_urls"] = list(hops)

    def _followup_request(self, state: SiteState, url: str, last: bool) -> Request:
        """A licence file or TDM policy: possibly on another host, fetched in this site's slot."""
        return Request(
            url, dont_filter=True, cb_kwargs={"state": state}, headers=_LAST_REQUEST_HEADERS if last else None,
            meta={"handle_httpstatus_list": _HANDLED_STATUSES, "download_slot": state.target.host},
        )  # fmt: skip

    def _document_request(self, state: SiteState, step: str, last: bool) -> Request:
        # Never from the HTTP cache (--cache): the home page's signals are also HTTP headers
        # (X-Robots-Tag, tdm-reservation ...), which a 304 need not repeat (downloader/cachepolicy.py).
        if step == "home":  # its redirects are followed by _download_home, which checks each target
            return self._request(state, "", None, None, last=last, dont_cache=True, dont_redirect=True,
                                 handle_httpstatus_list=_ALL_STATUSES)  # fmt: skip
        return self._request(state, DOCUMENT_PATHS[step], None, None, last=last)
