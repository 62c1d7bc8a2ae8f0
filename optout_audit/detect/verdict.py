"""Evidence -> the domain verdict (README "Verdict semantics"), and robots.txt -> per-agent results.

``reserves_ai_training``:

* ``yes``: a site-wide reservation: a training agent fully disallowed by name; ``noai`` /
  ``noimageai``; an effective ``tdm-reservation: 1`` for ``/``; Content-Signal ``ai-train=no``;
  Content-Usage ``train-ai=n``; ``DisallowAITraining: /``; an ai.txt disallowing everything; or
  every crawler disallowed (``*`` full).
* ``partial``: a reservation for part of the site only.
* ``no``: the site answered, every source that could have said yes was read, and none did.
* ``unknown``: otherwise; ``unread_sources`` names the sources that could not be read.

A failed read never counts as "no" (see :func:`unread_sources` for what "read" means per source):
a site whose home page was refused as too large, or whose ai.txt timed out, is ``unknown``
unless something read says yes or partial.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optout_audit.detect.aitxt import AiTxt
from optout_audit.detect.headers import HeaderSignals, bing_ai_directive
from optout_audit.detect.html import HtmlSignals
from optout_audit.detect.llmstxt import LlmsTxt
from optout_audit.detect.patterns import reserved_extent
from optout_audit.detect.preferences import (
    parse_content_signal,
    parse_content_usage,
    parse_robots_content_usage,
)
from optout_audit.detect.robots import AgentVerdict, RobotsTxt, escape_pattern
from optout_audit.detect.rsl import RslDocument, parse_rsl, training_extent
from optout_audit.detect.tdmpolicy import TdmPolicy
from optout_audit.detect.tdmrep import TdmrepFile, effective_tdm, tdmrep_reserves_somewhere
from optout_audit.detect.trusttxt import TrustTxt

if TYPE_CHECKING:  # the agent list is handed in; detect/ never loads it
    from optout_audit.agents import Agent

__all__ = [
    "DESCRIPTIVE_SIGNALS",
    "RESERVATION_SIGNALS",
    "DomainVerdict",
    "RobotsEvidence",
    "agent_results",
    "domain_verdict",
    "robots_evidence",
    "unread_sources",
]

#: The names a verdict puts in ``reservation_signals`` (README "Verdict semantics").
RESERVATION_SIGNALS = (
    "robots_training_agent_full", "robots_training_agent_partial", "robots_blocks_all", "noai",
    "noimageai", "tdm_reservation", "tdmrep_partial", "content_signal_ai_train_no",
    "content_usage_train_ai_n", "disallow_ai_training", "ai_txt_disallow_all",
    "content_usage_train_ai_n_partial", "disallow_ai_training_partial", "ai_txt_partial",
    "rsl_prohibits_ai_train", "rsl_prohibits_ai_train_partial", "rsl_licence_required",
    "rsl_licence_required_partial", "trust_txt_datatraining_no",
)  # fmt: skip

#: The other names a verdict puts in ``signals``: what a site publishes, reserving nothing by itself.
DESCRIPTIVE_SIGNALS = (
    "robots_names_ai_agent", "tdmrep_json", "ai_txt", "rsl_license", "rsl_document", "content_signal",
    "content_usage", "x_robots_tag", "disallow_ai_training_line", "bing_nocache", "bing_noarchive", "trust_txt",
    "llms_txt", "tdm_policy_document",
)  # fmt: skip

#: robots.txt statuses under which the file's rules are known, given a parsed body (or none: 4xx).
ROBOTS_READ = ("ok", "missing", "invalid", "too_large")
#: Fetch statuses (items.Fetch) under which a source counts as read, per source that can say yes.
#: robots.txt: as ROBOTS_READ (too_large is read on its first 500 KiB, as RFC 9309 2.5 allows).
#: The home page only when it was read (ok): an error page or a refused page says nothing.
#: Protocol files (tdmrep.json, ai.txt, trust.txt, an RSL licence): also when absent (missing: a
#: 4xx says "no such file") or not a file of that kind (invalid: a protocol error, no statement).
READ_STATUSES = {
    "robots": ROBOTS_READ,
    "home": ("ok",),
    "tdmrep": ("ok", "missing", "invalid"),
    "aitxt": ("ok", "missing", "invalid"),
    "trusttxt": ("ok", "missing", "invalid"),
    "rsl": ("ok", "missing", "invalid"),
}


#: Documents that can never turn a verdict to yes: never unread sources, whatever happened to them.
NEVER_YES_SOURCES = frozenset({"llmstxt", "tdm_policy"})


def unread_sources(statuses: Mapping[str, str]) -> list[str]:
    """The sources, of ``statuses`` (source name -> Fetch status), that could have said yes but were not read.

    Sources that can never say yes (llms.txt, a TDMRep policy) are not sources here. A source
    name this module does not know counts as read only when its status is ``ok``.

    >>> unread_sources({"robots": "ok", "home": "too_large", "tdmrep": "missing", "aitxt": "timeout"})
    ['home', 'aitxt']
    """
    return [
        name
        for name, status in statuses.items()
        if name not in NEVER_YES_SOURCES and status not in READ_STATUSES.get(name, ("ok",))
    ]


def robots_rules_known(robots_status: str, parsed: bool) -> bool:
    """Are the site's robots.txt rules known? A 4xx means "no rules"; a 2xx needs a parsed body."""
    return robots_status == "missing" or (robots_status in ROBOTS_READ and parsed)


@dataclass(slots=True)
class RobotsEvidence:
    """The AI-relevant lines of a robots.txt, beyond Allow/Disallow."""

    content_signals: list[dict] = field(default_factory=list)  # {"agents", "value", "line", "ai_train"}
    content_usage: list[dict] = field(default_factory=list)  # {"agents", "value", "line", "path", "train_ai"}
    disallow_ai_training: list[dict] = field(default_factory=list)  # {"agents", "key", "value", "line"}
    licenses: list[str] = field(default_factory=list)
    named_ai_agents: list[str] = field(default_factory=list)
    blocks_all: bool = False
    #: how much of the site the robots.txt lines reserve: "all", "part" or "" (see _extent)
    content_usage_extent: str = ""
    disallow_ai_training_extent: str = ""


@dataclass(slots=True)
class DomainVerdict:
    reserves_ai_training: str = "unknown"
    reservation_signals: list[str] = field(default_factory=list)
    blocks_all_crawlers: bool | None = None
    noai: bool | None = None
    noimageai: bool | None = None
    tdm_reservation: int | None = None
    tdm_source: str = ""
    tdm_policy: str = ""
    content_signal: str = ""
    content_usage: str = ""
    signals: list[str] = field(default_factory=list)
    #: sources that could have said yes and were not read (see unread_sources); a "no" needs none
    unread_sources: list[str] = field(default_factory=list)
    #: RSL: "prohibited" / "licence_required" where some licence says so for this site, else ""
    rsl_training: str = ""
    bing_ai: str = ""  # Bing's nocache / noarchive reading of the home page ("" also when it was not read)
    trust_txt_datatraining: str = ""  # "yes" | "no" | ""
    llms_txt: bool | None = None  # an llms.txt in Markdown was served (None: not fetched)
    #: the TDM policy's terms when one was read: {"valid", "permits", "prohibits", "duties", "constraints"}
    tdm_policy_terms: dict = field(default_factory=dict)


def agent_results(robots: RobotsTxt | None, agents: Iterable[Agent]) -> tuple[list[AgentVerdict], AgentVerdict]:
    """(verdicts of the listed agents the file names, the verdict every other listed agent gets)."""
    if robots is None:  # no robots.txt (4xx): nothing is disallowed
        robots = RobotsTxt.parse(b"")
    named = [robots.verdict(agent.name) for agent in agents if robots.is_named(agent.name)]
    return named, robots.verdict("*")


def robots_evidence(robots: RobotsTxt, agents: Iterable[Agent]) -> RobotsEvidence:
    evidence = RobotsEvidence(blocks_all=robots.blocks_all())
    evidence.named_ai_agents = [agent.name for agent in agents if robots.is_named(agent.name)]
    for group, line in robots.lines("content-signal"):
        signal = parse_content_signal(line.value)
        evidence.content_signals.append(
            {"agents": _agents_of(group), "value": line.value, "line": line.line, "ai_train": signal.ai_train}
        )
    for group, line in robots.lines("content-usage"):
        path, usage = parse_robots_content_usage(line.value)
        evidence.content_usage.append(
            {
                "agents": _agents_of(group),
                "value": line.value,
                "line": line.line,
                "path": path,
                "train_ai": usage.train_ai,
            }
        )
    for key in ("disallowaitraining", "allowaitraining"):
        for group, line in robots.lines(key):
            evidence.disallow_ai_training.append(
                {"agents": _agents_of(group), "key": key, "value": line.value, "line": line.line}
            )
    evidence.licenses = [line.value for _, line in robots.lines("license")]
    evidence.content_usage_extent = _extent(_content_usage_rules(robots), ties_reserve=True)
    evidence.disallow_ai_training_extent = _extent(_ai_training_rules(robots), ties_reserve=False)
    return evidence


def _content_usage_rules(robots: RobotsTxt) -> list[tuple[int, bytes, bool]]:
    """(group, pattern, reserves) per Content-Usage line; a line without a path covers every path.

    attach-05: the longest matching path decides, as for Allow/Disallow, and equal paths combine
    to the most restrictive preference; a preference that is not ``train-ai=n`` reserves nothing.
    """
    rules = []
    for group, line in robots.lines("content-usage"):
        path, usage = parse_robots_content_usage(line.value)
        if path is not None and not usage.raw:
            continue  # a bare path: not a rule of the grammar
        rules.append((id(group), _pattern(path or ""), usage.train_ai == "n"))
    return rules


def _ai_training_rules(robots: RobotsTxt) -> list[tuple[int, bytes, bool]]:
    """(group, pattern, reserves) per DisallowAITraining / AllowAITraining line (Allow/Disallow rules)."""
    rules = []
    for key in ("disallowaitraining", "allowaitraining"):
        for group, line in robots.lines(key):
            value = line.value.strip()
            if value:  # an empty value is no rule, as for Disallow
                rules.append((id(group), _pattern(value), key == "disallowaitraining"))
    return rules


def _extent(rules: list[tuple[int, bytes, bool]], ties_reserve: bool) -> str:
    """The widest extent any one group's rules reserve (rules of different groups never compete)."""
    groups: dict[int, list[tuple[bytes, bool]]] = {}
    for group, pattern, reserves in rules:
        groups.setdefault(group, []).append((pattern, reserves))
    extents = {reserved_extent(group_rules, ties_reserve) for group_rules in groups.values()}
    return "all" if "all" in extents else "part" if "part" in extents else ""


def _pattern(path: str) -> bytes:
    return escape_pattern(path.encode("utf-8", "surrogatepass"))


def _agents_of(group) -> list[str]:
    return list(group.agents) if group is not None else []


def domain_verdict(
    *,
    site_answered: bool,
    robots_read: bool,
    named_agents: list[AgentVerdict],
    other_agents: AgentVerdict | None,
    training_agents: frozenset[str],
    evidence: RobotsEvidence | None,
    headers: HeaderSignals | None,
    html: HtmlSignals | None,
    tdmrep: TdmrepFile | None,
    aitxt: AiTxt | None,
    unread: Iterable[str],
    origin: str = "",
    rsl: Iterable[RslDocument] = (),
    trusttxt: TrustTxt | None = None,
    llms: LlmsTxt | None = None,
    tdm_policy: TdmPolicy | None = None,
) -> DomainVerdict:
    """Combine every signal of one site into its verdict; see the module docstring.

    ``unread``: the sources that could not be read (:func:`unread_sources` of the site's fetches);
    robots.txt is added when ``robots_read`` is False. The sources after it are optional, for a
    spider that fetches them: ``rsl`` the licence documents fetched for the site (inline
    ``<script type="application/rsl+xml">`` of the home page are read here), ``origin`` the site's
    ``scheme://host[:port]`` their scopes are matched against.
    """
    verdict = DomainVerdict()
    verdict.unread_sources = list(dict.fromkeys(([] if robots_read else ["robots"]) + list(unread)))
    reserving: set[str] = set()
    partial: set[str] = set()
    signals: set[str] = set()

    if robots_read:
        for result in named_agents:
            if result.agent in training_agents and result.verdict == "full":
                reserving.add("robots_training_agent_full")
            elif result.agent in training_agents and result.verdict == "partial":
                partial.add("robots_training_agent_partial")
        if named_agents:
            signals.add("robots_names_ai_agent")
        verdict.blocks_all_crawlers = bool(evidence and evidence.blocks_all)
        if verdict.blocks_all_crawlers:
            reserving.add("robots_blocks_all")
    if evidence is not None:
        _robots_lines(evidence, verdict, reserving, partial, signals)

    _page(headers, html, verdict, reserving, signals)

    tdm = effective_tdm(
        tdmrep,
        headers.tdm_reservation if headers else None,
        headers.tdm_policy if headers else None,
        html.tdm_reservation if html else None,
        html.tdm_policy if html else None,
    )
    verdict.tdm_reservation, verdict.tdm_source, verdict.tdm_policy = tdm.reservation, tdm.source, tdm.policy or ""
    if tdmrep is not None and tdmrep.valid:
        signals.add("tdmrep_json")
    if tdm.reservation == 1:
        reserving.add("tdm_reservation")
    elif tdmrep is not None and tdmrep_reserves_somewhere(tdmrep):
        partial.add("tdmrep_partial")

    if aitxt is not None and aitxt.robots_style:
        signals.add("ai_txt")
        if aitxt.disallows_all:
            reserving.add("ai_txt_disallow_all")
        elif aitxt.partial:
            partial.add("ai_txt_partial")

    _new_signals(verdict, reserving, partial, signals, origin, rsl, html, headers, trusttxt, llms, tdm_policy)

    verdict.reservation_signals = sorted(reserving | partial)
    verdict.signals = sorted(signals | reserving | partial)
    if reserving:
        verdict.reserves_ai_training = "yes"
    elif partial:
        verdict.reserves_ai_training = "partial"
    elif site_answered and robots_read and not verdict.unread_sources:
        verdict.reserves_ai_training = "no"
    else:
        verdict.reserves_ai_training = "unknown"
    return verdict


def _robots_lines(
    evidence: RobotsEvidence, verdict: DomainVerdict, reserving: set[str], partial: set[str], signals: set[str]
) -> None:
    if evidence.content_signals:
        signals.add("content_signal")
        verdict.content_signal = _joined(item["value"] for item in evidence.content_signals)
    if any(item["ai_train"] == "no" for item in evidence.content_signals):
        reserving.add("content_signal_ai_train_no")
    if evidence.content_usage:
        signals.add("content_usage")
        verdict.content_usage = _joined(item["value"] for item in evidence.content_usage)
    if evidence.content_usage_extent == "all":
        reserving.add("content_usage_train_ai_n")
    elif evidence.content_usage_extent == "part":
        partial.add("content_usage_train_ai_n_partial")
    if evidence.licenses:
        signals.add("rsl_license")
    if evidence.disallow_ai_training:
        signals.add("disallow_ai_training_line")
    if evidence.disallow_ai_training_extent == "all":
        reserving.add("disallow_ai_training")
    elif evidence.disallow_ai_training_extent == "part":
        partial.add("disallow_ai_training_partial")


def _joined(values: Iterable[str]) -> str:
    """Distinct non-empty values in order, " | "-separated (a robots line and a header often agree)."""
    distinct: list[str] = []
    for value in values:
        for part in value.split(" | ") if value else ():
            if part not in distinct:
                distinct.append(part)
    return " | ".join(distinct)


def _page(
    headers: HeaderSignals | None,
    html: HtmlSignals | None,
    verdict: DomainVerdict,
    reserving: set[str],
    signals: set[str],
) -> None:
    if headers is None and html is None:
        return  # the home page was not read: noai / noimageai stay unknown
    verdict.noai = bool((headers and headers.noai) or (html and html.noai))
    verdict.noimageai = bool((headers and headers.noimageai) or (html and html.noimageai))
    if verdict.noai:
        reserving.add("noai")
    if verdict.noimageai:
        reserving.add("noimageai")
    if headers is not None:
        if headers.x_robots_tag:
            signals.add("x_robots_tag")
        if headers.content_usage:
            signals.add("content_usage")
            verdict.content_usage = _joined([verdict.content_usage, headers.content_usage])
            if parse_content_usage(headers.content_usage).train_ai == "n":
                reserving.add("content_usage_train_ai_n")
        if headers.content_signal:
            signals.add("content_signal")
            verdict.content_signal = _joined([verdict.content_signal, headers.content_signal])
            if parse_content_signal(headers.content_signal).ai_train == "no":
                reserving.add("content_signal_ai_train_no")
        if headers.license_links:
            signals.add("rsl_license")
    if html is not None and html.license_links:
        signals.add("rsl_license")


def _new_signals(verdict: DomainVerdict, reserving: set[str], partial: set[str], signals: set[str], origin: str,
                 rsl: Iterable[RslDocument], html: HtmlSignals | None, headers: HeaderSignals | None,
                 trusttxt: TrustTxt | None, llms: LlmsTxt | None, tdm_policy: TdmPolicy | None) -> None:  # fmt: skip
    """RSL licences, Bing's directives, trust.txt, llms.txt and the TDM policy (issue 17)."""
    documents = list(rsl) + [parse_rsl(text) for text in (html.rsl_scripts if html is not None else ())]
    if any(document.valid for document in documents):
        signals.add("rsl_document")
    for document in documents:
        extents = training_extent(document, origin)
        for kind, name in (("prohibited", "rsl_prohibits_ai_train"), ("licence_required", "rsl_licence_required")):
            if extents[kind]:
                verdict.rsl_training = verdict.rsl_training or kind
                (reserving if extents[kind] == "all" else partial).add(
                    name if extents[kind] == "all" else name + "_partial"
                )
    if "rsl_prohibits_ai_train" in reserving or "rsl_prohibits_ai_train_partial" in partial:
        verdict.rsl_training = "prohibited"  # a prohibition outranks a licence offer
    bing = {page.bing_ai for page in (headers, html) if page is not None}
    verdict.bing_ai = bing_ai_directive(bing)  # of the two pages' readings: nocache wins, as within one
    if verdict.bing_ai:
        signals.add(f"bing_{verdict.bing_ai}")
    if trusttxt is not None and trusttxt.valid:
        signals.add("trust_txt")
        verdict.trust_txt_datatraining = trusttxt.datatraining_allowed
        if trusttxt.datatraining_allowed == "no":
            reserving.add("trust_txt_datatraining_no")
    if llms is not None:
        verdict.llms_txt = llms.markdown
        if llms.markdown:
            signals.add("llms_txt")
    if tdm_policy is not None:
        signals.add("tdm_policy_document")
        verdict.tdm_policy_terms = {
            "valid": tdm_policy.valid, "error": tdm_policy.error, "permits": tdm_policy.permits,
            "prohibits": tdm_policy.prohibits, "duties": tdm_policy.duties, "constraints": tdm_policy.constraints,
        }  # fmt: skip
