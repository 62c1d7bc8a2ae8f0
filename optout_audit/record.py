"""The rules that turn one site's fetches into its :class:`~optout_audit.items.SiteAudit` record.

Pure: no Scrapy, no network. The spider fetches and hands each document's outcome (a
:class:`~optout_audit.items.Fetch`) and bytes to a :class:`SiteRecord`, which parses them with the
detectors of :mod:`optout_audit.detect` and, at :meth:`SiteRecord.finish`, assembles the record.
Anything that replays stored documents (a re-read of the evidence archive, a test) builds the same
record the same way.

The order of a site's audit is fixed: robots.txt first (:meth:`SiteRecord.read_robots`), then
:meth:`SiteRecord.documents_to_fetch` says which of the other documents may be fetched, each read
with :meth:`SiteRecord.read_document`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urljoin, urlsplit

from optout_audit import PRODUCT_TOKEN
from optout_audit.agents import Agent
from optout_audit.detect.aitxt import AiTxt, parse_aitxt
from optout_audit.detect.body import read_robots_body
from optout_audit.detect.conflicts import find_conflicts
from optout_audit.detect.headers import HeaderSignals, parse_headers
from optout_audit.detect.html import HtmlSignals, crawler_names, parse_html_head
from optout_audit.detect.llmstxt import LlmsTxt, disallowed_links, parse_llmstxt
from optout_audit.detect.robots import AgentVerdict, RobotsTxt
from optout_audit.detect.rsl import RslDocument, parse_rsl
from optout_audit.detect.tdmpolicy import TdmPolicy, parse_tdm_policy
from optout_audit.detect.tdmrep import TdmrepFile, effective_tdm, parse_tdmrep
from optout_audit.detect.trusttxt import TrustTxt, parse_trusttxt
from optout_audit.detect.verdict import (
    DomainVerdict,
    RobotsEvidence,
    agent_results,
    domain_verdict,
    robots_evidence,
    robots_rules_known,
    unread_sources,
)
from optout_audit.items import AgentResult, Conflict, Fetch, PageSignals, SiteAudit
from optout_audit.publicsuffix import registered_domain

__all__ = [
    "DOCUMENT_PATHS",
    "FAULT_MESSAGES",
    "GIVE_UP_FAULTS",
    "SiteRecord",
    "abandoned_record",
    "fault_message",
    "first_delay",
    "invalid_record",
    "jsonable",
    "new_audit",
    "site_status",
]

#: The documents of a site after robots.txt, in fetch order, and their paths from the site root.
DOCUMENT_PATHS = {
    "home": "", "tdmrep": ".well-known/tdmrep.json", "aitxt": "ai.txt", "llmstxt": "llms.txt", "trusttxt": "trust.txt",
}  # fmt: skip
#: Licence files fetched at most per site, whatever number of signals point to them.
MAX_RSL_FETCHES = 2
#: robots.txt faults after which the site's other documents are not asked for: the host is
#: unreachable, or too slow to answer its first request (asking again would only wait again).
GIVE_UP_FAULTS = frozenset(
    {
        "dns_error",
        "connection_refused",
        "tls_error",
        "no_route",
        "timeout",
        "connect_timeout",
        "dns_nxdomain",
        "dns_nodata",
        "dns_servfail",
        "dns_timeout",
    }
)
#: What a site's ``error`` cell says for each fault class; the exception as raised stays in the
#: record's fetch (``robots.error`` in audit.jsonl).
FAULT_MESSAGES = {
    "dns_error": "the name could not be resolved",
    "dns_nxdomain": "no such domain (DNS NXDOMAIN)",
    "dns_nodata": "the name has no address (DNS NODATA)",
    "dns_servfail": "the DNS server failed or refused to answer",
    "dns_timeout": "DNS look-up timed out",
    "connection_refused": "connection refused",
    "no_route": "no route to the host",
    "tls_error": "TLS handshake failed",
    "connect_timeout": "connecting timed out",
    "timeout": "timed out",
    "connection_dropped": "connection closed mid-body",
    "headers_too_large": "response headers beyond the parser's bounds (128 lines, 8,190 bytes)",
    "too_many_redirects": "more than 5 redirects",
    "too_large": "body larger than the size limit",
    "blocked_address": "refused: the address is not a public one (see --allow-private-networks)",
    "not_modified_without_document": "HTTP 304 without a stored document",
    "bad_redirect": "a redirect without a usable Location",
    "internal_error": "internal error of optout-audit (the record holds the details)",
    "abandoned": "not audited: every worker that took it stopped before finishing it",
    "error": "the download failed",
}


class SiteRecord:
    """One site's audit in progress: the evidence read so far, and the record it makes."""

    def __init__(
        self, audit: SiteAudit, agents: Sequence[Agent], training: frozenset[str], timeout: float | None = None
    ) -> None:
        self.audit = audit
        self.timeout = timeout  # seconds per request, for the message of a timeout
        self.agents = agents
        self.training = training
        self.robots: RobotsTxt | None = None
        self.robots_text: bytes | None = None  # the body parsed, for the parsers compared in conflicts
        self.headers: HeaderSignals | None = None
        self.html: HtmlSignals | None = None
        self.tdmrep: TdmrepFile | None = None
        self.aitxt: AiTxt | None = None
        self.evidence: RobotsEvidence | None = None
        self.rules_known = False  # robots.txt was read (or is known absent)
        self.llms: LlmsTxt | None = None
        self.trusttxt: TrustTxt | None = None
        self.rsl_documents: list[RslDocument] = []
        self.tdm_policy: TdmPolicy | None = None

    def read_robots(self, fetch: Fetch, body: bytes | None = None, cut: bool = False) -> None:
        """robots.txt's outcome; ``body`` when it answered 2xx, ``cut`` when its download was stopped."""
        if fetch.status == "ok" and body is not None:
            read = read_robots_body(body, cut)
            fetch.status, fetch.fault = read.status, read.fault
            self.robots = RobotsTxt.parse(read.text)
            self.robots_text = read.text
        audit = self.audit
        audit.robots = fetch
        self.rules_known = robots_rules_known(fetch.status, self.robots is not None)
        if self.rules_known:
            robots = self.robots or RobotsTxt.parse(b"")
            audit.own_access = robots.can_fetch(audit.url or "/", PRODUCT_TOKEN)
            audit.crawl_delay = first_delay(line.value for line in robots.lines_for(PRODUCT_TOKEN, "crawl-delay"))
            named, other = agent_results(self.robots, self.agents)
            audit.agents = [_agent_result(verdict) for verdict in named]
            audit.other_agents = _agent_result(other)
            if self.robots is not None:
                self.evidence = robots_evidence(self.robots, self.agents)
                audit.robots_evidence = jsonable(asdict(self.evidence))
        else:
            # RFC 9309: unreachable or 5xx means complete disallow, for us too.
            audit.own_access = False
            audit.other_agents = AgentResult("*", "unknown")

    def documents_to_fetch(self) -> list[str]:
        """The documents to fetch after robots.txt (names of :data:`DOCUMENT_PATHS`), in order.

        The ones not to fetch are recorded as skipped, with the reason.
        """
        audit = self.audit
        if audit.robots.fault in GIVE_UP_FAULTS and not audit.robots.redirects:
            reason = f"not fetched: robots.txt could not be fetched ({audit.robots.fault})"
            for name in DOCUMENT_PATHS:
                setattr(audit, name, Fetch(status="skipped", error=reason))
            return []
        if audit.own_access:
            return list(DOCUMENT_PATHS)
        audit.home = Fetch(status="skipped", url=audit.url, error="robots.txt does not let optout-audit fetch /")
        return [name for name in DOCUMENT_PATHS if name != "home"]

    def read_document(
        self,
        name: str,
        fetch: Fetch,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        charset: str | None = None,
    ) -> None:
        """A document's outcome, with its response headers and body when it answered."""
        setattr(self.audit, name, fetch)
        if fetch.status != "ok":
            return  # an error page says nothing about the site's pages: its signals stay unknown
        if name == "home":
            self.headers = parse_headers(list(headers))
            self.html = parse_html_head(body, charset, agent_names=crawler_names(self.agents))
        elif name == "tdmrep":
            self.tdmrep = parse_tdmrep(body)
            self.audit.tdmrep_evidence = jsonable(asdict(self.tdmrep))
            if not self.tdmrep.valid:
                fetch.status, fetch.error = "invalid", self.tdmrep.error
        elif name == "aitxt":
            self.aitxt = parse_aitxt(body)
            self.audit.aitxt_evidence = jsonable(asdict(self.aitxt))
            if not self.aitxt.robots_style:
                fetch.status, fetch.error = "invalid", "not a robots-style ai.txt"
        elif name == "llmstxt":
            self.llms = parse_llmstxt(body, fetch.final_url or fetch.url)
            barred = disallowed_links(self.llms, self.robots, self.audit.origin, sorted(self.training))
            self.audit.llmstxt_evidence = jsonable({**asdict(self.llms), "disallowed_links": barred})
            if not self.llms.markdown:
                fetch.status, fetch.error = "invalid", "not a Markdown llms.txt"
        elif name == "trusttxt":
            self.trusttxt = parse_trusttxt(body)
            self.audit.trusttxt_evidence = jsonable(asdict(self.trusttxt))
            if not self.trusttxt.valid:
                fetch.status, fetch.error = "invalid", "no variable=value line"

    def may_follow(self, url: str) -> bool:
        """May optout-audit follow a home-page redirect to ``url``? Our robots.txt reading decides on
        this origin; another origin's robots.txt is not fetched, so its targets are followed."""
        target, site = urlsplit(url), urlsplit(self.audit.url or "")
        if target.scheme not in ("http", "https"):
            return False
        if (target.scheme, target.netloc.lower()) != (site.scheme, site.netloc.lower()):
            return True
        if not self.rules_known:
            return False  # RFC 9309: unreadable robots.txt is complete disallow
        return (self.robots or RobotsTxt.parse(b"")).can_fetch(url, PRODUCT_TOKEN)

    def followups(self) -> list[tuple[str, str]]:
        """``(kind, url)`` of the documents the signals read so far point to: ``rsl`` licence files
        (at most :data:`MAX_RSL_FETCHES`) and the ``tdm_policy`` of an effective reservation."""
        found: list[tuple[str, str]] = []
        if self.audit.robots.fault in GIVE_UP_FAULTS and not self.audit.robots.redirects:
            return found
        base = self.audit.url or "/"
        licences = list(self.evidence.licenses if self.evidence else [])
        licences += (self.headers.rsl_links if self.headers else []) + (self.html.rsl_links if self.html else [])
        for url in dict.fromkeys(_absolute(base, link) for link in licences):
            if url and len(found) < MAX_RSL_FETCHES:
                found.append(("rsl", url))
        tdm = effective_tdm(
            self.tdmrep, self.headers.tdm_reservation if self.headers else None,
            self.headers.tdm_policy if self.headers else None, self.html.tdm_reservation if self.html else None,
            self.html.tdm_policy if self.html else None,
        )  # fmt: skip
        policy = _absolute(base, tdm.policy) if tdm.reservation == 1 and tdm.policy else ""
        if policy:
            found.append(("tdm_policy", policy))
        return found

    def read_followup(self, kind: str, fetch: Fetch, body: bytes = b"") -> None:
        """A follow-up document's outcome (see :meth:`followups`), with its body when it answered."""
        if kind == "rsl":
            self.audit.rsl.append(fetch)
            document = parse_rsl(body) if fetch.status == "ok" else None
            if document is not None:
                self.rsl_documents.append(document)
                if not document.valid:
                    fetch.status, fetch.error = "invalid", document.error
            self.audit.rsl_evidence.append(jsonable(asdict(document)) if document is not None else {})
        elif kind == "tdm_policy":
            self.audit.tdm_policy = fetch
            if fetch.status == "ok":
                self.tdm_policy = parse_tdm_policy(body)
                self.audit.tdm_policy_evidence = jsonable(asdict(self.tdm_policy))
                if not self.tdm_policy.valid:
                    fetch.status, fetch.error = "invalid", self.tdm_policy.error

    def finish(self, finished_at: str) -> SiteAudit:
        """The site's record, with its status and domain verdict."""
        audit = self.audit
        audit.status, audit.fault, audit.error = site_status(audit.robots)
        if audit.fault:
            audit.error = fault_message(audit.fault, self.timeout) or audit.error
        verdict = domain_verdict(
            site_answered=audit.status == "ok",
            robots_read=self.rules_known,
            named_agents=audit.agents,
            other_agents=audit.other_agents,
            training_agents=self.training,
            evidence=self.evidence,
            headers=self.headers,
            html=self.html,
            tdmrep=self.tdmrep,
            aitxt=self.aitxt,
            unread=unread_sources(
                {**{name: getattr(audit, name).status for name in DOCUMENT_PATHS}, **_rsl_status(audit)}
            ),
            origin=audit.origin or audit.url.rstrip("/"),
            rsl=self.rsl_documents,
            trusttxt=self.trusttxt,
            llms=self.llms,
            tdm_policy=self.tdm_policy,
        )
        audit.page = _page_signals(self.headers, self.html, verdict)
        audit.verdict = jsonable(asdict(verdict))
        found = find_conflicts(
            self.robots,
            self.agents,
            robots_text=self.robots_text,
            rules_known=self.rules_known,
            headers=self.headers,
            html=self.html,
            tdmrep=self.tdmrep,
            aitxt=self.aitxt,
        )
        audit.conflicts = [Conflict(c.kind, c.severity, c.agent, c.signal, c.detail, c.line) for c in found]
        audit.finished_at = finished_at
        return audit

    def fail(self, exc: BaseException, finished_at: str) -> SiteAudit:
        """The record of a site whose audit hit a bug of ours: status ``error``, never lost."""
        audit = self.audit
        audit.status, audit.fault = "error", "internal_error"
        audit.error = f"internal error: {type(exc).__name__}: {exc}"[:300]
        audit.verdict, audit.finished_at = jsonable(asdict(DomainVerdict())), finished_at
        return audit


def new_audit(target, started_at: str) -> SiteAudit:
    """The record of a site (an :class:`optout_audit.app.inputs.Target`) before anything is fetched."""
    return SiteAudit(
        input=target.input,
        line=target.line,
        domain=target.host,
        origin=target.origin,
        registered_domain=registered_domain(target.host),
        url=target.url,
        started_at=started_at,
    )


def abandoned_record(target, workers: int, now: str) -> SiteAudit:
    """The record of a site of a distributed run that ``workers`` workers took and none finished:
    it may be what stops them (a bug of ours), so it is not handed on forever. Status ``error``."""
    audit = new_audit(target, now)
    audit.status, audit.fault = "error", "abandoned"
    audit.error = f"not audited: {workers} workers took it and each stopped before finishing it"
    audit.verdict, audit.finished_at = jsonable(asdict(DomainVerdict())), now
    return audit


def invalid_record(input: str, line: int, reason: str, now: str) -> SiteAudit:
    """The record of an input line that is not a site."""
    return SiteAudit(
        input=input,
        line=line,
        status="invalid_input",
        error=reason,
        started_at=now,
        finished_at=now,
        verdict=jsonable(asdict(DomainVerdict())),
    )


def site_status(robots: Fetch) -> tuple[str, str, str]:
    """(status, fault, error) of a site: what happened to its first contact, the robots.txt fetch."""
    if robots.http_status is not None or robots.fault == "too_many_redirects":
        return "ok", "", ""  # it answered, even if only with redirects
    if robots.redirects:  # it answered with a redirect whose target failed: the site is up, the row says why
        return "ok", robots.fault, robots.error
    if robots.status in ("unreachable", "timeout"):
        return robots.status, robots.fault, robots.error
    return "error", robots.fault, robots.error


def fault_message(fault: str, timeout: float | None = None) -> str:
    """A short message for a fault class (empty for one it does not know)."""
    message = FAULT_MESSAGES.get(fault, "")
    if fault == "timeout" and timeout:
        message = f"timed out after {timeout:g} s"
    return message


def _rsl_status(audit: SiteAudit) -> dict[str, str]:
    """``{"rsl": status}`` of the first licence fetch that was not read, or nothing."""
    unread = [fetch.status for fetch in audit.rsl if fetch.status not in ("ok", "missing", "invalid")]
    return {"rsl": unread[0]} if unread else {}


def _absolute(base: str, link: str) -> str:
    """``link`` made absolute against ``base``; "" unless it is an http(s) URL."""
    try:
        url = urljoin(base, link.strip())
    except ValueError:
        return ""
    return url if urlsplit(url).scheme in ("http", "https") else ""


def first_delay(values: Iterable[str]) -> float | None:
    """The first value that is a number of seconds (finite, not negative): "nan" or "-5" is no delay."""
    for value in values:
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if math.isfinite(number) and number >= 0:
            return number
    return None


def jsonable(value: Any) -> Any:
    """``value`` as JSON types: sets become sorted lists, bytes text, keys strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _agent_result(verdict: AgentVerdict) -> AgentResult:
    return AgentResult(verdict.agent, verdict.verdict, verdict.named, verdict.via, verdict.rule, verdict.line)


def _page_signals(headers: HeaderSignals | None, html: HtmlSignals | None, verdict: DomainVerdict) -> PageSignals:
    """The home page's evidence; noai / noimageai as the verdict combined them (None: page not read)."""
    page = PageSignals(noai=verdict.noai, noimageai=verdict.noimageai)
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
