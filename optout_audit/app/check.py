"""``optout-audit check SITE``: a site owner's check of one site, with advice, for a person or CI.

The site is audited by the crawler itself (a one-line input crawled into a temporary run folder
by :func:`optout_audit.app.run.run_crawl`), so the answer is the one a crawl would record. Then it
prints what each purpose class of AI agent may do and why (the deciding robots.txt line), every
signal found and whether it is valid, the conflicts, and the lines to add to reach the goal:

``block-training``  every training agent fully disallowed (the default)
``block-ai``        every listed AI agent fully disallowed
``allow-search-only``  training and user-triggered agents fully disallowed, AI search agents let in

Exit code 0 when robots.txt does what the goal asks and no conflict is an error; 1 when not (also
when the site could not be read); 2 on a usage error. Everything the site controls is printed
through :func:`optout_audit.app.terminal.printable` (control characters and ANSI escape sequences
shown as ``\\x1b``, never sent to the terminal as they are); ``--json`` output is ASCII JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from optout_audit.agents import PURPOSES, Agent, ai_agents
from optout_audit.app.errors import UsageError
from optout_audit.app.inputs import InvalidLine, parse_line
from optout_audit.app.terminal import printable
from optout_audit.detect.preferences import parse_content_usage
from optout_audit.detect.tdmrep import tdm_value

__all__ = ["GOALS", "check", "goal_status"]

GOALS = {
    "block-training": "every training agent fully disallowed",
    "block-ai": "every listed AI agent fully disallowed",
    "allow-search-only": "training and user-triggered agents fully disallowed, AI search agents allowed",
}
#: Names listed per verdict before "and N more".
SHOWN_NAMES = 8
_TOKEN = re.compile(r"[A-Za-z_-]+")


# -- the audit ---------------------------------------------------------------------------------


def audit_site(site: str, hosts_file: Path | None, timeout: float) -> dict[str, Any]:
    """Crawl one site with the crawler into a temporary run folder; return its record (with conflicts)."""
    target = parse_line(site, 1)
    if target is None or isinstance(target, InvalidLine):
        raise UsageError(f"not a site: {printable(site)!s}" + (f" ({target.reason})" if target else ""))
    if hosts_file is not None and not hosts_file.is_file():
        raise UsageError(f"hosts file not found: {hosts_file}")
    from optout_audit.app.run import CrawlOptions, run_crawl

    with tempfile.TemporaryDirectory(prefix="optout-audit-check-") as folder:
        input_path = Path(folder) / "site.txt"
        input_path.write_text(site.strip() + "\n", "utf-8")
        run_dir = run_crawl(
            CrawlOptions(
                input=input_path,
                out=Path(folder) / "run",
                hosts_file=hosts_file,
                timeout=timeout,
                concurrency=4,
                log_level="ERROR",
            )
        )
        lines = (run_dir / "audit.jsonl").read_text("utf-8").splitlines()
    return json.loads(lines[0])


def agent_verdicts(record: dict[str, Any], agents: tuple[Agent, ...]) -> dict[str, dict[str, Any]]:
    """Every listed agent's robots.txt result: its named entry, else the result all other agents get."""
    named = {entry["agent"]: entry for entry in record.get("agents") or [] if isinstance(entry, dict)}
    other = record.get("other_agents") or {"verdict": "unknown"}
    return {agent.name: named.get(agent.name, other) for agent in agents}


def goal_status(
    goal: str, verdicts: dict[str, dict], agents: tuple[Agent, ...]
) -> tuple[bool, list[Agent], list[Agent]]:
    """(met, agents to disallow fully, agents to allow) for the goal; errors among conflicts are judged apart."""
    wanted_out = {
        "block-training": ("training",),
        "block-ai": PURPOSES,
        "allow-search-only": ("training", "user-triggered"),
    }[goal]
    to_block = [
        agent for agent in agents if agent.purpose in wanted_out and verdicts[agent.name].get("verdict") != "full"
    ]
    to_allow = []
    if goal == "allow-search-only":
        to_allow = [
            agent for agent in agents if agent.purpose == "search" and verdicts[agent.name].get("verdict") != "none"
        ]
    return not to_block and not to_allow, to_block, to_allow


# -- what is printed ---------------------------------------------------------------------------


def _rule(entry: dict[str, Any]) -> str:
    via = entry.get("via") or ""
    if entry.get("line"):
        return f"line {entry['line']}: {entry.get('rule')}"
    return {
        "default": "no group applies (default)",
        "wildcard": "the * group, no rule matches",
        "named": "its group, no rule matches",
    }.get(via, "robots.txt rules unknown")


def _names(agents: list[str]) -> str:
    shown = ", ".join(agents[:SHOWN_NAMES])
    return shown + (f" and {len(agents) - SHOWN_NAMES} more" if len(agents) > SHOWN_NAMES else "")


def _class_lines(verdicts: dict[str, dict], agents: tuple[Agent, ...]) -> list[str]:
    words = {
        "full": "may fetch nothing",
        "partial": "may fetch part of the site",
        "none": "may fetch everything",
        "unknown": "unknown (robots.txt could not be read)",
    }
    lines = ["What each class of AI agent may do (robots.txt, as Google's parser reads it):"]
    for purpose in PURPOSES:
        members = [agent for agent in agents if agent.purpose == purpose]
        lines.append(f"  {purpose} ({len(members)} agents):")
        by_reason: dict[tuple, list[str]] = {}
        for agent in members:
            entry = verdicts[agent.name]
            by_reason.setdefault((entry.get("verdict") or "unknown", _rule(entry)), []).append(agent.name)
        for (verdict, rule), names in sorted(by_reason.items(), key=lambda item: -len(item[1])):
            lines.append(f"    {words.get(verdict, verdict)}: {_names(names)} -- {rule}")
    return lines


def signal_lines(record: dict[str, Any]) -> list[str]:
    """Every signal found, with whether it is valid."""
    robots, evidence, page = record.get("robots") or {}, record.get("robots_evidence") or {}, record.get("page") or {}
    lines = [
        "Signals found:",
        f"  robots.txt: {robots.get('status')}"
        + (f" (HTTP {robots['http_status']})" if robots.get("http_status") else "")
        + (f" {robots['error']}" if robots.get("error") else ""),
    ]
    for item in evidence.get("content_signals") or []:
        valid = "valid" if item.get("ai_train") in ("yes", "no") else "no ai-train value understood"
        lines.append(f"  Content-Signal (robots.txt line {item.get('line')}): {item.get('value')} -- {valid}")
    for item in evidence.get("content_usage") or []:
        valid = "valid" if item.get("train_ai") in ("y", "n") else "not a valid aipref train-ai value (unknown)"
        lines.append(f"  Content-Usage (robots.txt line {item.get('line')}): {item.get('value')} -- {valid}")
    for item in evidence.get("disallow_ai_training") or []:
        lines.append(
            f"  {item.get('key')} (robots.txt line {item.get('line')}): {item.get('value')} -- "
            "an expired draft's rule; Google reads it as a Disallow rule"
        )
    lines += [
        f"  License (robots.txt): {url} -- not read (RSL files are not fetched)"
        for url in evidence.get("licenses") or []
    ]
    home = record.get("home") or {}
    if home.get("status") != "ok":
        lines.append(
            f"  home page: {home.get('status')} {home.get('error') or ''}".rstrip() + " -- its signals are unknown"
        )
    lines += [f"  X-Robots-Tag: {value}" for value in page.get("x_robots_tag") or []]
    for meta in page.get("robots_meta") or []:
        if isinstance(meta, dict) and str(meta.get("name", "")).lower() in ("robots", "noai", "noimageai"):
            lines.append(f"  meta {meta.get('name')}: {meta.get('content')}")
    if page.get("noai_sources"):
        lines.append(f"  noai/noimageai from: {', '.join(page['noai_sources'])} -- valid")
    for key, label in (
        ("tdm_reservation_header", "tdm-reservation header"),
        ("tdm_reservation_meta", "tdm-reservation meta"),
    ):
        if page.get(key) is not None:
            valid = "valid" if tdm_value(page[key]) is not None else "invalid (must be 0 or 1): ignored"
            lines.append(f"  {label}: {page[key]} -- {valid}")
    for key, label in (("tdm_policy_header", "tdm-policy header"), ("tdm_policy_meta", "tdm-policy meta")):
        if page.get(key):
            lines.append(f"  {label}: {page[key]}")
    if page.get("content_usage_header"):
        valid = (
            "valid" if parse_content_usage(page["content_usage_header"]).valid else "not a Structured Field (unknown)"
        )
        lines.append(f"  Content-Usage header: {page['content_usage_header']} -- {valid}")
    if page.get("content_signal_header"):
        lines.append(f"  Content-Signal header: {page['content_signal_header']}")
    tdmrep, fetched = record.get("tdmrep_evidence") or {}, record.get("tdmrep") or {}
    if tdmrep:
        lines.append("  tdmrep.json: " + ("valid" if tdmrep.get("valid") else f"invalid ({tdmrep.get('error')})"))
        for rule in tdmrep.get("rules") or []:
            state = "valid" if rule.get("valid") else f"skipped ({rule.get('error')})"
            lines.append(
                f"    entry {rule.get('index')}: location {rule.get('location')} tdm-reservation "
                f"{rule.get('reservation')} -- {state}"
            )
    else:
        lines.append(f"  tdmrep.json: {fetched.get('status')}")
    aitxt, fetched = record.get("aitxt_evidence") or {}, record.get("aitxt") or {}
    if aitxt.get("robots_style"):
        lines.append(
            "  ai.txt: "
            + (
                "disallows everything"
                if aitxt.get("disallows_all")
                else "partial"
                if aitxt.get("partial")
                else "allows everything"
            )
        )
    else:
        lines.append(f"  ai.txt: {fetched.get('status')}" + (f" ({fetched['error']})" if fetched.get("error") else ""))
    verdict = record.get("verdict") or {}
    lines.append(
        f"  => reserves AI training: {verdict.get('reserves_ai_training')}"
        + (f" ({', '.join(verdict.get('reservation_signals') or [])})" if verdict.get("reservation_signals") else "")
    )
    return lines


def advice(goal: str, record: dict[str, Any], to_block: list[Agent], to_allow: list[Agent]) -> dict[str, list[str]]:
    """The lines to add: robots.txt groups, tdmrep.json, meta tags (each empty when nothing is missing)."""
    robots: list[str] = []
    if to_block:
        robots += [f"User-agent: {name}" for name in _distinct(to_block)] + ["Disallow: /", ""]
    if to_allow:
        robots += [f"User-agent: {name}" for name in _distinct(to_allow)] + ["Allow: /", ""]
    verdict, page = record.get("verdict") or {}, record.get("page") or {}
    tdmrep = [] if verdict.get("tdm_reservation") == 1 else ['[{"location": "/", "tdm-reservation": 1}]']
    meta = []
    if verdict.get("tdm_reservation") != 1:
        meta.append('<meta name="tdm-reservation" content="1">')
    if goal != "allow-search-only" and not (page.get("noai") and page.get("noimageai")):
        meta.append('<meta name="robots" content="noai, noimageai">')
    return {"robots.txt": robots[:-1] if robots else [], "/.well-known/tdmrep.json": tdmrep, "<head>": meta}


def _distinct(agents: list[Agent]) -> list[str]:
    """Names without case duplicates (the list has ``meta-externalagent`` and ``Meta-ExternalAgent``)."""
    seen: dict[str, str] = {}
    for agent in agents:
        seen.setdefault(agent.name.lower(), agent.name)
    return list(seen.values())


def unnameable(conflict: dict[str, Any]) -> bool:
    """A silent miss no line can fix: the listed name itself is outside the RFC 9309 token grammar.

    Strict parsers cut ``AI2Bot`` to ``AI`` whatever the site writes; only the ``*`` group reaches
    such an agent there. The conflict stays in conflicts.csv; ``check`` says so and does not fail on it.
    """
    return conflict.get("kind") == "silent_miss" and not _TOKEN.fullmatch(str(conflict.get("agent", "")))


class Checked(NamedTuple):
    """A site checked against a goal: what ``check`` prints (``lines``) and what ``--json`` says."""

    lines: list[str]
    code: int  # 0: the goal is met and no conflict is an error
    verdicts: dict[str, dict[str, Any]]
    met: bool
    advice: dict[str, list[str]]


def report_lines(site: str, goal: str, record: dict[str, Any], agents: tuple[Agent, ...]) -> Checked:
    verdicts = agent_verdicts(record, agents)
    met, to_block, to_allow = goal_status(goal, verdicts, agents)
    conflicts = [c for c in record.get("conflicts") or [] if isinstance(c, dict)]
    errors = [c for c in conflicts if c.get("severity") == "error" and not unnameable(c)]
    cut = [str(c.get("agent")) for c in conflicts if c.get("severity") == "error" and unnameable(c)]
    lines = [
        f"optout-audit check {site} -- goal {goal}: {GOALS[goal]}",
        f"site {record.get('url') or record.get('domain')}: status {record.get('status')}"
        + (f" ({record.get('fault')}: {record.get('error')})" if record.get("fault") else ""),
        "",
    ]
    lines += [*_class_lines(verdicts, agents), "", *signal_lines(record), ""]
    lines.append(f"Conflicts ({len(conflicts)}):" if conflicts else "Conflicts: none")
    lines += [
        f"  {c.get('severity')} {c.get('kind')} {c.get('agent') or c.get('signal')}"
        + (f" (line {c['line']})" if c.get("line") else "")
        + f": {c.get('detail')}"
        for c in conflicts
    ]
    code = 0 if met and not errors else 1
    lines += ["", "Goal met." if code == 0 else "Goal NOT met:"]
    if (record.get("other_agents") or {}).get("verdict", "unknown") == "unknown":
        lines.append(
            "  robots.txt could not be read: no agent's answer is known (RFC 9309 crawlers stay away while "
            "it answers 5xx or cannot be reached); make it answer, then check again"
        )
    if to_block:
        lines.append(f"  {len(to_block)} agents are not fully disallowed: {_names([a.name for a in to_block])}")
    if to_allow:
        lines.append(
            f"  {len(to_allow)} AI search agents may not fetch everything: {_names([a.name for a in to_allow])}"
        )
    if errors:
        lines.append(f"  {len(errors)} conflict(s) with severity error (see above): fix the lines they name")
    if cut:
        lines.append(
            f"  Not counted: {len(cut)} errors for names strict RFC 9309 parsers cannot read ({_names(cut)}); no "
            "line can name them for those parsers, only a * group reaches them there"
        )
    added = advice(goal, record, to_block, to_allow)
    if added["robots.txt"]:
        lines += ["", "Advice: add to robots.txt (a group of its own, after a blank line):"]
        lines += [f"    {line}" for line in added["robots.txt"]]
    others = {place: text for place, text in added.items() if place != "robots.txt" and text}
    if others:
        lines += ["", "To say the same in the other signals" + (" as well" if added["robots.txt"] else "") + ", add:"]
        for place, text in others.items():
            lines += [f"  to {place}:"] + [f"    {line}" for line in text]
    return Checked(lines, code, verdicts, met, added)


def check(args: argparse.Namespace) -> int:
    """The ``check`` command: print the check of ``args.site`` for ``args.goal``; return the exit code."""
    agents = ai_agents()
    record = audit_site(args.site, args.hosts_file, args.timeout)
    checked = report_lines(args.site, args.goal, record, agents)
    if args.json:
        classes = {purpose: {} for purpose in PURPOSES}
        for agent in agents:
            verdict = checked.verdicts[agent.name].get("verdict") or "unknown"
            classes[agent.purpose].setdefault(verdict, []).append(agent.name)
        print(
            json.dumps(
                {
                    "site": args.site,
                    "goal": args.goal,
                    "exit_code": checked.code,
                    "goal_met": checked.met,
                    "status": record.get("status"),
                    "classes": classes,
                    "verdict": record.get("verdict"),
                    "conflicts": record.get("conflicts") or [],
                    "advice": checked.advice,
                },
                indent=2,
                ensure_ascii=True,
            )
        )
    else:
        print("\n".join(printable(line) for line in checked.lines))
    return checked.code
