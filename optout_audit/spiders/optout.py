"""The ``optout`` spider: per site robots.txt, home page, tdmrep.json, ai.txt -> one SiteAudit.

Thin glue: it makes requests, turns responses and failures into :class:`~optout_audit.items.Fetch`
records and hands bytes to the pure detectors in :mod:`optout_audit.detect`. A site's fetches run
one after another (at most four requests per site); whatever fails, the chain goes on to the next
step, and the last step yields exactly one item.

robots.txt is an ordinary scheduled request. Its callback then fetches the site's other documents
itself, one after another, with ``engine.download_async`` (Scrapy's API for a request that only
passes the downloader middlewares: redirects, decompression, the cache, timeouts, the site's
download slot and its crawl delay all apply) and returns the site's item. The scheduler, the spider
middlewares and a callback round trip per document would cost more CPU than the documents'
detection (README "Performance"), and a site's documents never need them.

    scrapy crawl optout -a input=sites.txt -O audit.jsonl
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import StopDownload
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from optout_audit import PRODUCT_TOKEN
from optout_audit.agents import ai_agents, training_agents
from optout_audit.detect.aitxt import AiTxt, parse_aitxt
from optout_audit.detect.headers import HeaderSignals, parse_headers
from optout_audit.detect.html import HtmlSignals, crawler_names, parse_html_head
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.tdmrep import TdmrepFile, parse_tdmrep
from optout_audit.detect.verdict import (
    DomainVerdict,
    RobotsEvidence,
    agent_results,
    domain_verdict,
    robots_evidence,
    robots_rules_known,
    unread_sources,
)
from optout_audit.publicsuffix import registered_domain
from optout_audit.spiders.feeding import SiteGate, open_site_limit, parse_shard
from optout_audit.downloader.outcomes import (
    CONNECT_FAULTS,
    GIVE_UP_FAULTS,
    fetch_from_failure,
    fetch_from_response,
    utc_now,
)
from optout_audit.app.inputs import InvalidLine, Target, read_targets
from optout_audit.items import AgentResult, Fetch, PageSignals, SiteAudit
from optout_audit.detect.body import ROBOTS_MAX_BYTES, read_robots_body

#: Longest Crawl-delay we honour: a site asking for more still gets audited, just this slowly.
MAX_CRAWL_DELAY = 30.0
#: Headers of a site's last request: its connection is closed rather than kept idle.
_LAST_REQUEST_HEADERS = {"Connection": "close"}
#: Every status but the redirects, which RedirectMiddleware must still follow (<= 5 hops).
_HANDLED_STATUSES = [code for code in range(100, 600) if code not in (301, 302, 303, 307, 308)]


@dataclass(slots=True)
class SiteState:
    """One site's audit in progress, carried from callback to callback."""

    target: Target
    audit: SiteAudit
    root: str  # scheme://host[:port]/ actually used
    robots: RobotsTxt | None = None
    headers: HeaderSignals | None = None
    html: HtmlSignals | None = None
    tdmrep: TdmrepFile | None = None
    aitxt: AiTxt | None = None
    evidence: RobotsEvidence | None = None
    rules_known: bool = False  # robots.txt was read (or is known absent)
    finished: bool = False


def _keeps_the_site(method):
    """A bug in a callback must not lose the site: it ends as a row with status ``error``."""

    @functools.wraps(method)
    async def guarded(self, result, **kwargs):
        try:
            return await method(self, result, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any bug, reported in the site's row
            state: SiteState = kwargs.get("state") or result.request.cb_kwargs["state"]
            self.logger.exception("internal error while auditing %s", state.target.host)
            if not state.finished:
                state.finished = True
                self.gate.closed()
            audit = state.audit
            audit.status, audit.fault = "error", "internal_error"
            audit.error = f"internal error: {type(exc).__name__}: {exc}"[:300]
            audit.verdict, audit.finished_at = _asdict(DomainVerdict()), utc_now()
            return audit

    return guarded


class OptoutSpider(scrapy.Spider):
    name = "optout"

    def __init__(self, input: str | None = None, skip_hosts: Any = None, shard: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not input:
            raise ValueError("the optout spider needs an input file: -a input=FILE")
        self.input_path = Path(input)
        # "K/N": audit only every N-th entry of the deduplicated list, from the K-th (crawl --workers N).
        self.shard = parse_shard(shard)
        # Sites already audited in an earlier, interrupted run (resume).
        self.skip_hosts: set[str] = set(skip_hosts or ())
        self.agents = ai_agents()
        self.agent_names = crawler_names(self.agents)  # handed to detect.html, which loads no data
        self.training = frozenset(agent.name for agent in training_agents())
        self.gate = SiteGate(open_site_limit(64))  # sites open at once (see optout_audit.spiders.feeding)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_bytes_received, signal=signals.bytes_received)
        # An auditor reads sites whatever their certificate; one warning per https request is noise.
        logging.getLogger("scrapy.core.downloader.tls").setLevel(logging.ERROR)
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
            return len(engine.downloader.active) < max(1, concurrency // 2)

        for index, entry in enumerate(read_targets(self.input_path)):
            if self.shard and index % self.shard[1] != self.shard[0]:
                continue
            if isinstance(entry, InvalidLine):
                if f"\0line:{entry.line}" not in self.skip_hosts:
                    yield self._invalid_item(entry)
                continue
            if entry.host in self.skip_hosts:
                continue
            audit = SiteAudit(
                input=entry.input, line=entry.line, domain=entry.host,
                registered_domain=registered_domain(entry.host), url=entry.url, started_at=utc_now(),
            )
            await self.gate.room(stalled)
            self.gate.opened()
            engine.crawl(self._robots_request(SiteState(entry, audit, entry.url)))

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
        return self._request(state, "robots.txt", self.on_robots, self.on_robots_failure, robots_body=True,
                             download_maxsize=0)

    @_keeps_the_site
    async def on_robots(self, response: Response, state: SiteState):
        fetch = fetch_from_response(response.request.url, response)
        if fetch.status == "ok":
            body = read_robots_body(response.body, "download_stopped" in response.flags)
            fetch.status, fetch.fault = body.status, body.fault
            state.robots = RobotsTxt.parse(body.text)
        state.audit.robots = fetch
        return await self._after_robots(state)

    @_keeps_the_site
    async def on_robots_failure(self, failure: Failure):
        state: SiteState = failure.request.cb_kwargs["state"]  # errbacks get no cb_kwargs
        fetch = fetch_from_failure(failure.request.url, failure)
        if not state.target.scheme_given and state.root.startswith("https://") and fetch.fault in CONNECT_FAULTS:
            # A bare domain: https could not connect, try http (DESIGN.md inputs).
            state.root = "http://" + state.root[len("https://"):]
            state.audit.url = state.root
            return self._robots_request(state)
        state.audit.robots = fetch
        return await self._after_robots(state)

    async def _after_robots(self, state: SiteState) -> SiteAudit:
        audit = state.audit
        state.rules_known = robots_rules_known(audit.robots.status, state.robots is not None)
        if state.rules_known:
            robots = state.robots or RobotsTxt.parse(b"")
            audit.own_access = robots.can_fetch(state.root, PRODUCT_TOKEN)
            delays = robots.lines_for(PRODUCT_TOKEN, "crawl-delay")
            audit.crawl_delay = _first_float(line.value for line in delays)
            if audit.crawl_delay:
                self._honour_crawl_delay(state.target.host, audit.crawl_delay)
            named, other = agent_results(state.robots, self.agents)
            audit.agents = [_agent_result(v) for v in named]
            audit.other_agents = _agent_result(other)
            if state.robots is not None:
                state.evidence = robots_evidence(state.robots, self.agents)
                audit.robots_evidence = _asdict(state.evidence)
        else:
            # RFC 9309: unreachable or 5xx means complete disallow, for us too.
            audit.own_access = False
            audit.other_agents = AgentResult("*", "unknown")
        if audit.robots.fault in GIVE_UP_FAULTS:
            reason = f"not fetched: robots.txt could not be fetched ({audit.robots.fault})"
            for name in ("home", "tdmrep", "aitxt"):
                setattr(audit, name, Fetch(status="skipped", error=reason))
            return self._finish(state)
        if audit.own_access:
            steps = ["home", "tdmrep", "aitxt"]
        else:
            audit.home = Fetch(status="skipped", url=state.root, error="robots.txt does not let optout-audit fetch /")
            steps = ["tdmrep", "aitxt"]
        engine = self.crawler.engine
        for number, step in enumerate(steps, start=1):
            request = self._document_request(state, step, last=number == len(steps))
            try:
                response = await engine.download_async(request)
            except Exception:  # noqa: BLE001 - every download failure is recorded as the step's fetch
                setattr(audit, step, fetch_from_failure(request.url, Failure()))
            else:
                self._read_document(state, step, response)
        return self._finish(state)

    def _honour_crawl_delay(self, host: str, delay: float) -> None:
        """Space this site's remaining requests as its robots.txt asks of us (capped)."""
        slot = self.crawler.engine.downloader.slots.get(host)
        if slot is not None:
            slot.delay = min(delay, MAX_CRAWL_DELAY)
            slot.randomize_delay = False

    # -- the other documents ---------------------------------------------------------------------

    def _document_request(self, state: SiteState, step: str, last: bool) -> Request:
        path = {"home": "", "tdmrep": ".well-known/tdmrep.json", "aitxt": "ai.txt"}[step]
        # Never from the HTTP cache (--cache): the home page's signals are also HTTP headers
        # (X-Robots-Tag, tdm-reservation ...), which a 304 need not repeat (optout_audit/downloader/cachepolicy.py).
        return self._request(state, path, None, None, last=last, dont_cache=step == "home")

    def _read_document(self, state: SiteState, step: str, response: Response) -> None:
        fetch = fetch_from_response(response.request.url, response)
        setattr(state.audit, step, fetch)
        if step == "home" and fetch.status == "ok":
            # An error page says nothing about the site's pages: its signals stay unknown.
            state.headers = parse_headers(_header_pairs(response))
            state.html = parse_html_head(response.body, _charset(response), agent_names=self.agent_names)
        elif fetch.status == "ok" and step == "tdmrep":
            state.tdmrep = parse_tdmrep(response.body)
            state.audit.tdmrep_evidence = _asdict(state.tdmrep)
            if not state.tdmrep.valid:
                fetch.status, fetch.error = "invalid", state.tdmrep.error
        elif fetch.status == "ok" and step == "aitxt":
            state.aitxt = parse_aitxt(response.body)
            state.audit.aitxt_evidence = _asdict(state.aitxt)
            if not state.aitxt.robots_style:
                fetch.status, fetch.error = "invalid", "not a robots-style ai.txt"

    # -- the item --------------------------------------------------------------------------------

    def _finish(self, state: SiteState) -> SiteAudit:
        if not state.finished:
            state.finished = True
            self.gate.closed()
        audit = state.audit
        audit.status, audit.fault, audit.error = _site_status(audit)
        verdict = domain_verdict(
            site_answered=audit.status == "ok",
            robots_read=state.rules_known,
            named_agents=audit.agents,
            other_agents=audit.other_agents,
            training_agents=self.training,
            evidence=state.evidence,
            headers=state.headers,
            html=state.html,
            tdmrep=state.tdmrep,
            aitxt=state.aitxt,
            unread=unread_sources({step: getattr(audit, step).status for step in ("home", "tdmrep", "aitxt")}),
        )
        audit.page = _page_signals(state.headers, state.html, verdict)
        audit.verdict = _asdict(verdict)
        audit.finished_at = utc_now()
        return audit

    def _invalid_item(self, entry: InvalidLine) -> SiteAudit:
        now = utc_now()
        return SiteAudit(
            input=entry.input, line=entry.line, status="invalid_input", error=entry.reason,
            started_at=now, finished_at=now,
            verdict=_asdict(DomainVerdict()),
        )


def _site_status(audit: SiteAudit) -> tuple[str, str, str]:
    """The site's status is what happened to its first contact, the robots.txt fetch."""
    robots = audit.robots
    if robots.http_status is not None or robots.fault == "too_many_redirects":
        return "ok", "", ""  # it answered, even if only with redirects
    if robots.status in ("unreachable", "timeout"):
        return robots.status, robots.fault, robots.error
    return "error", robots.fault, robots.error


def _agent_result(verdict) -> AgentResult:
    return AgentResult(verdict.agent, verdict.verdict, verdict.named, verdict.via, verdict.rule, verdict.line)


def _page_signals(headers: HeaderSignals | None, html: HtmlSignals | None, verdict: DomainVerdict) -> PageSignals:
    """The home page's evidence; noai / noimageai as the verdict combined them (None: page not read)."""
    page = PageSignals(noai=verdict.noai, noimageai=verdict.noimageai)
    if headers is None and html is None:
        return page
    if headers is not None:
        page.x_robots_tag = list(headers.x_robots_tag)
        page.tdm_reservation_header, page.tdm_policy_header = headers.tdm_reservation, headers.tdm_policy
        page.content_usage_header, page.content_signal_header = headers.content_usage, headers.content_signal
        page.license_links += headers.license_links
        if headers.noai or headers.noimageai:
            page.noai_sources.append("header:x-robots-tag")
    if html is not None:
        page.robots_meta = list(html.meta)
        page.tdm_reservation_meta, page.tdm_policy_meta = html.tdm_reservation, html.tdm_policy
        page.noai_sources += html.noai_sources
        page.license_links += html.license_links
    return page


def _header_pairs(response: Response) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    ]


def _charset(response: Response) -> str | None:
    return getattr(response, "encoding", None) if hasattr(response, "text") else None


def _first_float(values) -> float | None:
    """The first value that is a number of seconds (finite, not negative): "nan" or "-5" is no delay."""
    for value in values:
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if math.isfinite(number) and number >= 0:
            return number
    return None


def _asdict(obj: Any) -> dict[str, Any]:
    return _jsonable(asdict(obj))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
