"""The record schema: one :class:`SiteAudit` per distinct input site, success or not.

A run's ``audit.jsonl`` holds one ``SiteAudit.to_dict()`` per line; every report is rebuilt from
it. Values use a small fixed vocabulary so that reports, diffs and users can rely on them:

``SiteAudit.status``
    ``ok`` (the site answered, whatever it answered), ``unreachable`` (DNS, refused, TLS),
    ``timeout``, ``invalid_input`` (the input line is not a site), ``error`` (anything else,
    e.g. a connection dropped mid-body). ``fault`` names the precise cause.
``Fetch.status`` (and so ``robots_status`` for robots.txt)
    ``ok``, ``missing`` (4xx, or more than 5 redirects: RFC 9309 "unavailable"),
    ``server_error`` (5xx), ``unreachable``, ``timeout``, ``invalid`` (2xx but not a file of
    that kind, e.g. HTML served as robots.txt), ``too_large`` (read on its head only),
    ``error``, ``skipped`` (not fetched; ``error`` says why).
Per-agent ``verdict``
    ``full`` | ``partial`` | ``none`` | ``unknown`` (robots.txt could not be read).
``reserves_ai_training``
    ``yes`` | ``partial`` | ``no`` | ``unknown`` (see README "Verdict semantics").
Tri-state booleans (``noai`` ...) are ``True``, ``False`` or ``None`` = could not be read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SITE_STATUSES = ("ok", "unreachable", "timeout", "invalid_input", "error")
FETCH_STATUSES = ("ok", "missing", "server_error", "unreachable", "timeout", "invalid", "too_large", "error", "skipped")
AGENT_VERDICTS = ("full", "partial", "none", "unknown")
DOMAIN_VERDICTS = ("yes", "partial", "no", "unknown")


@dataclass(slots=True)
class Fetch:
    """The outcome of fetching one document of a site."""

    status: str = "skipped"
    url: str = ""
    final_url: str = ""
    http_status: int | None = None
    redirects: int = 0
    bytes: int = 0
    content_type: str = ""
    fault: str = ""  # dns_error, connection_refused, tls_error, timeout, connection_dropped, ...
    error: str = ""
    fetched_at: str = ""
    # Re-audits with --cache (optout_audit/downloader/cachepolicy.py): True = the server answered 304 and the stored
    # document was read; False = fetched anew; None = no cache, or no document (a failure).
    unchanged: bool | None = None
    # The evidence archive (optout_audit/archive/): the WARC-Record-ID of the document's response record
    # (its last hop) and the SHA-256 (hex) of its body as received; "" when nothing was archived.
    warc_record_id: str = ""
    sha256: str = ""


@dataclass(slots=True)
class AgentResult:
    """robots.txt's answer for one AI agent: a row of domain_agents.csv."""

    agent: str
    verdict: str  # full | partial | none | unknown
    named: bool = False
    via: str = ""  # named | wildcard | default | "" when unknown
    rule: str = ""  # the deciding line, e.g. "Disallow: /"
    line: int | None = None


@dataclass(slots=True)
class Conflict:
    """One thing a site's signals say against each other or miss: a row of conflicts.csv.

    ``kind``: silent_miss | parsers_disagree | signals_contradict | split_by_purpose (see
    detect/conflicts.py); ``severity``: error | warning | info; ``line``: the robots.txt line, if any.
    """

    kind: str
    severity: str
    agent: str = ""
    signal: str = ""
    detail: str = ""
    line: int | None = None


@dataclass(slots=True)
class PageSignals:
    """What the home page's headers and <head> say (None: not read)."""

    noai: bool | None = None
    noimageai: bool | None = None
    noai_sources: list[str] = field(default_factory=list)  # e.g. "meta:robots", "header:x-robots-tag"
    robots_meta: list[dict[str, str]] = field(default_factory=list)  # {"name", "content"}
    x_robots_tag: list[str] = field(default_factory=list)
    tdm_reservation_header: str | None = None  # raw value
    tdm_policy_header: str | None = None
    tdm_reservation_meta: str | None = None
    tdm_policy_meta: str | None = None
    content_usage_header: str | None = None
    content_signal_header: str | None = None
    license_links: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SiteAudit:
    """Everything the audit learned about one site. Exactly one per distinct input site."""

    input: str  # the raw input line (first one seen for this host)
    line: int | None = None  # its line number in the input file
    domain: str = ""  # lower-case IDNA host, e.g. xn--bcher-kva.test
    # The site's identity: scheme://host[:port] of its input line (a bare domain is https://host),
    # whatever scheme the audit ended up using. Two lines with one origin are one site.
    origin: str = ""
    registered_domain: str = ""  # public-suffix registrable domain
    url: str = ""  # the site root that was audited, e.g. https://example.com/
    status: str = "ok"
    fault: str = ""
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    robots: Fetch = field(default_factory=Fetch)
    home: Fetch = field(default_factory=Fetch)
    tdmrep: Fetch = field(default_factory=Fetch)
    aitxt: Fetch = field(default_factory=Fetch)
    llmstxt: Fetch = field(default_factory=Fetch)
    trusttxt: Fetch = field(default_factory=Fetch)
    #: fetched only when a signal points to them: RSL licence files (robots.txt License lines, Link
    #: headers, <link rel="license" type="application/rsl+xml">) and the TDM policy of a reservation
    rsl: list[Fetch] = field(default_factory=list)
    tdm_policy: Fetch = field(default_factory=Fetch)
    own_access: bool | None = None  # may optout-audit fetch "/" under the site's robots.txt
    crawl_delay: float | None = None
    # Compact on purpose (a million sites x 166 agents): ``agents`` holds the listed agents that a
    # user-agent line names; every other listed agent gets ``other_agents`` (agent="*").
    agents: list[AgentResult] = field(default_factory=list)
    other_agents: AgentResult = field(default_factory=lambda: AgentResult("*", "unknown"))
    robots_evidence: dict[str, Any] = field(default_factory=dict)  # Content-Signal lines etc.
    page: PageSignals = field(default_factory=PageSignals)
    tdmrep_evidence: dict[str, Any] = field(default_factory=dict)
    aitxt_evidence: dict[str, Any] = field(default_factory=dict)
    llmstxt_evidence: dict[str, Any] = field(default_factory=dict)
    trusttxt_evidence: dict[str, Any] = field(default_factory=dict)
    rsl_evidence: list[dict[str, Any]] = field(default_factory=list)  # one detect.rsl.RslDocument per rsl fetch
    tdm_policy_evidence: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)  # detect.verdict.DomainVerdict as dict
    conflicts: list[Conflict] = field(default_factory=list)  # what the site's signals say against each other

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
