"""Synthetic ``audit.jsonl`` records for report tests and benchmarks (no crawl, no network).

Every record is a :class:`~optout_audit.items.SiteAudit` as the pipeline writes it, drawn from a few
site profiles (names a training agent, blocks everything, 404 robots.txt, unreachable, invalid
input ...) in fixed proportions. The verdicts are plausible, not computed by ``detect/``: this
module exercises the report stage, not the detectors. The same ``seed`` gives the same file.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from optout_audit.items import AgentResult, Conflict, Fetch, PageSignals, SiteAudit

__all__ = ["synthetic_records", "write_synthetic_audit"]

_T0 = "2026-09-01T10:00:00Z"
_T1 = "2026-09-01T10:00:02Z"
_ROBOTS_OK = Fetch("ok", http_status=200, bytes=420, content_type="text/plain", fetched_at=_T0)
_ROBOTS_404 = Fetch("missing", http_status=404, fetched_at=_T0)
_ROBOTS_503 = Fetch("server_error", http_status=503, fetched_at=_T0)
_HOME_OK = Fetch("ok", http_status=200, bytes=30_000, content_type="text/html", fetched_at=_T1)
_GONE = Fetch("missing", http_status=404, fetched_at=_T1)
_NOTHING = PageSignals(False, False)
#: Conflicts an answered site may carry (detect/conflicts.py's kinds); a few % of sites get 1-3 of them.
_CONFLICTS = [
    asdict(Conflict("silent_miss", "warning", "GPTBot", "", "User-agent: GPTBot has no Disallow line", 4)),
    asdict(Conflict("parsers_disagree", "error", "CCBot", "", "Disallow: /*? read two ways", 7)),
    asdict(Conflict("signals_contradict", "warning", "", "tdm_reservation", "tdmrep.json says 1, the header 0")),
    asdict(Conflict("split_by_purpose", "info", "", "robots_training_agent_full", "training blocked, search allowed")),
]
_CONFLICT_SHARE = 0.04


def _full(agent: str) -> AgentResult:
    return AgentResult(agent, "full", True, "named", "Disallow: /", 3)


def _verdict(reserves: str, reserving: list[str], signals: list[str], **values: Any) -> dict[str, Any]:
    """A verdict dict with the keys detect.verdict produces."""
    base = {
        "reserves_ai_training": reserves,
        "reservation_signals": sorted(reserving),
        "blocks_all_crawlers": False,
        "noai": False,
        "noimageai": False,
        "tdm_reservation": None,
        "tdm_source": "",
        "tdm_policy": "",
        "content_signal": "",
        "content_usage": "",
        "signals": sorted(set(signals) | set(reserving)),
    }
    return base | values


def _site(**fields: Any) -> SiteAudit:
    """An answered site with robots.txt read and nothing found, overridden by ``fields``."""
    site = SiteAudit(
        input="",
        status="ok",
        robots=_ROBOTS_OK,
        home=_HOME_OK,
        tdmrep=_GONE,
        aitxt=_GONE,
        own_access=True,
        other_agents=AgentResult("*", "none", False, "default"),
        page=_NOTHING,
        verdict=_verdict("no", [], []),
    )
    return replace(site, **fields)


def _failed(status: str, fault: str) -> SiteAudit:
    gone = Fetch(status, fault=fault, error=f"{fault} while fetching", fetched_at=_T0)
    unknown = {"reserves_ai_training": "unknown", "blocks_all_crawlers": None, "noai": None, "noimageai": None}
    return _site(
        status=status, fault=fault, error=gone.error, robots=gone, home=Fetch(), tdmrep=gone, aitxt=gone,
        own_access=None, other_agents=AgentResult("*", "unknown"), page=PageSignals(),
        verdict=_verdict("unknown", [], []) | unknown,
    )  # fmt: skip


def _profiles() -> list[tuple[float, dict[str, Any]]]:
    """(weight, record template) pairs; the weights sum to 1."""
    named_full = _site(
        agents=[_full(name) for name in ("GPTBot", "CCBot", "ClaudeBot", "Google-Extended")],
        verdict=_verdict("yes", ["robots_training_agent_full"], ["robots_names_ai_agent"]),
    )
    partial = _site(
        agents=[AgentResult("GPTBot", "partial", True, "named", "Disallow: /private/", 2)],
        verdict=_verdict("partial", ["robots_training_agent_partial"], ["robots_names_ai_agent"]),
    )
    blocks_all = _site(
        home=Fetch(error="disallowed for optout-audit"), own_access=False, page=PageSignals(),
        other_agents=AgentResult("*", "full", False, "wildcard", "Disallow: /", 2),
        verdict=_verdict("yes", ["robots_blocks_all"], [], blocks_all_crawlers=True, noai=None, noimageai=None),
    )  # fmt: skip
    tdm = _site(
        tdmrep=Fetch("ok", http_status=200, content_type="application/json", fetched_at=_T1),
        tdmrep_evidence={"rules": [{"location": "/", "tdm-reservation": 1}]},
        verdict=_verdict("yes", ["tdm_reservation"], ["tdmrep_json"], tdm_reservation=1,
                         tdm_source="tdmrep.json", tdm_policy="https://example.com/tdm-policy.json"),
    )  # fmt: skip
    noai = _site(
        page=PageSignals(True, True, ["meta:robots"], [{"name": "robots", "content": "noai, noimageai"}]),
        verdict=_verdict("yes", ["noai", "noimageai"], [], noai=True, noimageai=True),
    )
    no_robots = _site(robots=_ROBOTS_404, verdict=_verdict("no", [], [], tdm_reservation=0))
    robots_5xx = _site(
        robots=_ROBOTS_503, home=Fetch(error="robots.txt unreadable"), own_access=False, page=PageSignals(),
        other_agents=AgentResult("*", "unknown"),
        verdict=_verdict("unknown", [], [], blocks_all_crawlers=None, noai=None, noimageai=None),
    )  # fmt: skip
    invalid = SiteAudit(input="", status="invalid_input", error="not a host name")
    table = [
        (0.25, named_full), (0.10, partial), (0.05, blocks_all), (0.05, tdm), (0.03, noai),
        (0.27, _site()), (0.10, no_robots), (0.02, robots_5xx),
        (0.07, _failed("unreachable", "dns_error")), (0.03, _failed("timeout", "timeout")),
        (0.01, _failed("error", "connection_dropped")), (0.02, invalid),
    ]  # fmt: skip
    return [(weight, site.to_dict()) for weight, site in table]


def synthetic_records(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield ``count`` SiteAudit dicts; numbered domains ``site<N>.test`` keep them distinct."""
    rng = random.Random(seed)
    profiles = _profiles()
    weights = [weight for weight, _ in profiles]
    for number, (_, template) in enumerate(rng.choices(profiles, weights, k=count), start=1):
        # Shallow copies share the nested dicts of their template: fine for reading and dumping.
        if template["status"] == "invalid_input":
            yield template | {"input": f"not a site {number}", "line": number}
            continue
        domain = f"site{number}.test"
        record = template | {"input": domain, "line": number, "domain": domain,
                             "registered_domain": domain, "url": f"https://{domain}/",
                             "started_at": _T0, "finished_at": _T1}  # fmt: skip
        if template["status"] == "ok" and rng.random() < _CONFLICT_SHARE:
            record["conflicts"] = rng.sample(_CONFLICTS, rng.randint(1, 3))
        yield record


def write_synthetic_audit(path: Path, count: int, seed: int = 0) -> Path:
    """Write ``count`` synthetic records to ``path`` as audit.jsonl; return the path."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in synthetic_records(count, seed):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
