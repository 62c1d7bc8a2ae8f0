"""Per-URL answers for miners and training pipelines, from a finished run's archived evidence.

``open_run(RUN_DIR).allowed(url, agent)`` (and ``optout-audit filter``) answers ``true``, ``false``
or ``unknown`` for one URL and one agent (or a purpose class), with the deciding signal and rule
and the WARC record it was read from. The archived robots.txt, tdmrep.json and ai.txt are parsed
again with :mod:`optout_audit.detect`, so path rules apply to each URL.

What a domain-level audit cannot know: a URL's own response headers (X-Robots-Tag, tdm-reservation,
Content-Usage) and its own ``<meta>`` tags. The run read them for the home page only. For training
(an agent of purpose ``training``, an agent the list does not know, or ``--purpose training``) a
URL other than the home page is therefore ``unknown`` unless a file-level or site-wide signal
already says ``false``: never ``true`` on a guess. Agents of other purposes (search, user-triggered)
are answered by robots.txt alone.

Order of the answer: the first ``false`` found, checking robots.txt (the agent's group; for a
purpose, the unnamed agent and every agent of that purpose the file names), then for training:
tdmrep.json (first matching entry), robots.txt Content-Usage (longest matching path),
Content-Signal ``ai-train=no``, DisallowAITraining, ai.txt, and the home page's site-wide signals
(noai, tdm-reservation, Content-Usage ``train-ai=n``). With no ``false``: ``unknown`` when a
source that could have said ``false`` was not read; else ``true``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from optout_audit.agents import purpose_of
from optout_audit.archive.reader import ArchiveReader
from optout_audit.detect.body import read_robots_body
from optout_audit.detect.preferences import parse_content_signal, parse_content_usage, parse_robots_content_usage
from optout_audit.detect.robots import RobotsTxt, _escape_pattern, _matches, path_of
from optout_audit.detect.tdmrep import TdmrepFile, parse_tdmrep, tdm_value

__all__ = ["PERMISSION_COLUMNS", "Permission", "RunEvidence", "open_run", "write_permissions"]

PERMISSION_COLUMNS = ("url", "agent", "allowed", "signal", "rule", "record_id")
#: Fetch statuses after which a document said what it says (ok), or is known to say nothing.
_READ = frozenset({"ok", "missing", "invalid"})
#: The pseudo-agent of ``--purpose``: the crawler no group names (it gets the ``*`` group).
_UNNAMED = "\0unnamed"


@dataclass(frozen=True, slots=True)
class Permission:
    allowed: str  # true | false | unknown
    signal: str  # robots.txt, tdmrep.json, content-usage, content-signal, disallow-ai-training, ai.txt, site-wide ...
    rule: str  # the deciding line or entry; for unknown, why
    record_id: str = ""  # the WARC-Record-ID of the evidence

    def __bool__(self) -> bool:
        return self.allowed == "true"


class _Fetch(msgspec.Struct, gc=False):
    status: str = "skipped"
    warc_record_id: str = ""


class _Page(msgspec.Struct, gc=False):
    noai: bool | None = None
    tdm_reservation_header: str | None = None
    tdm_reservation_meta: str | None = None
    content_usage_header: str | None = None


class _Site(msgspec.Struct, gc=False):
    domain: str = ""
    url: str = ""
    status: str = ""
    robots: _Fetch | None = None
    home: _Fetch | None = None
    tdmrep: _Fetch | None = None
    aitxt: _Fetch | None = None
    page: _Page | None = None


@dataclass(slots=True)
class _Rules:
    """One site's documents, parsed again from the archive (None: not read)."""

    site: _Site
    robots: RobotsTxt | None
    tdmrep: TdmrepFile | None
    aitxt: RobotsTxt | None


class RunEvidence:
    """A finished run, asked per URL. Sites are read from audit.jsonl, documents from the archive on demand."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        decoder = msgspec.json.Decoder(_Site)
        self.sites: dict[str, _Site] = {}
        with (self.run_dir / "audit.jsonl").open("rb") as handle:
            for raw in handle:
                try:
                    site = decoder.decode(raw)
                except msgspec.DecodeError:
                    continue
                if site.domain:
                    self.sites.setdefault(site.domain, site)
        self.reader = ArchiveReader(self.run_dir)
        self._rules: dict[str, _Rules] = {}
        self._by_purpose: dict[str, list[str]] = {}
        for name, agent_purpose in purpose_of().items():
            self._by_purpose.setdefault(agent_purpose, []).append(name)
        self._purposes = {name.lower(): purpose for name, purpose in purpose_of().items()}

    def purpose(self, agent: str) -> str:
        """An agent's purpose class; one the list does not know is asked about as if for training."""
        return self._purposes.get(agent.strip().lower(), "training")

    def allowed(self, url: str, agent: str | None = None, purpose: str | None = None) -> Permission:
        """May ``agent`` (or any crawler for ``purpose``) use ``url``? See the module docstring."""
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").rstrip(".")
            if host and not host.isascii():
                host = host.encode("idna").decode("ascii")
        except (ValueError, UnicodeError):
            return Permission("unknown", "input", "not a URL")
        if parts.scheme not in ("http", "https") or not host:
            return Permission("unknown", "input", "not an http(s) URL")
        site = self.sites.get(host)
        if site is None:
            return Permission("unknown", "run", f"{host} was not audited in this run")
        rules = self._rules.get(host) or self._read(site)
        wanted = purpose or (self.purpose(agent) if agent else "training")
        training = wanted == "training"
        agents = [agent] if agent else [_UNNAMED, *(name for name in self._by_purpose.get(wanted, ())
                                                   if rules.robots and rules.robots.is_named(name))]
        path = path_of(url)
        unknown: list[Permission] = []

        robots_id = site.robots.warc_record_id if site.robots else ""
        if rules.robots is None:
            unknown.append(Permission("unknown", "robots.txt", f"robots.txt could not be read ({_status(site.robots)})",
                                      robots_id))
        else:
            for name in agents:
                decision = rules.robots.decide(path, name)
                if not decision.allowed:
                    who = "" if name == _UNNAMED else f" for {name}"
                    return Permission("false", "robots.txt", f"{decision.rule.raw} (line {decision.rule.line}){who}",
                                      robots_id)
        if training:
            found = self._training_reservation(site, rules, path, agents, unknown)
            if found is not None:
                return found
        if unknown:
            return unknown[0]
        if training and _page_url(site, url) is False:
            return Permission("unknown", "page",
                              "this URL's own headers and meta tags were not read (the audit reads the home page only)")
        return Permission("true", "robots.txt", "allowed" if rules.robots else "no robots.txt", robots_id)

    def _training_reservation(self, site: _Site, rules: _Rules, path: bytes, agents: list[str],
                              unknown: list[Permission]) -> Permission | None:
        tdmrep_id = site.tdmrep.warc_record_id if site.tdmrep else ""
        if rules.tdmrep is not None:
            rule = rules.tdmrep.match(path.decode("utf-8", "replace"))
            if rule is not None and rule.reservation == 1:
                return Permission("false", "tdmrep.json",
                                  f'entry {rule.index}: location "{rule.location}", tdm-reservation 1', tdmrep_id)
        elif _status(site.tdmrep) not in _READ:
            unknown.append(Permission("unknown", "tdmrep.json",
                                      f"tdmrep.json could not be read ({_status(site.tdmrep)})", tdmrep_id))
        robots_id = site.robots.warc_record_id if site.robots else ""
        if rules.robots is not None:
            for name in agents:
                for reason, signal in (_content_usage(rules.robots, name, path), _content_signal(rules.robots, name),
                                       _disallow_ai_training(rules.robots, name, path)):
                    if reason:
                        return Permission("false", signal, reason, robots_id)
        aitxt_id = site.aitxt.warc_record_id if site.aitxt else ""
        if rules.aitxt is not None:
            for name in agents:
                decision = rules.aitxt.decide(path, name)
                if not decision.allowed:
                    return Permission("false", "ai.txt", f"{decision.rule.raw} (line {decision.rule.line})", aitxt_id)
        elif _status(site.aitxt) not in _READ:
            unknown.append(Permission("unknown", "ai.txt", f"ai.txt could not be read ({_status(site.aitxt)})", aitxt_id))
        home_id = site.home.warc_record_id if site.home else ""
        page = site.page
        if _status(site.home) == "ok" and page is not None:
            if page.noai:
                return Permission("false", "site-wide", "noai (home page X-Robots-Tag or robots meta)", home_id)
            for source, value in (("header", page.tdm_reservation_header), ("meta", page.tdm_reservation_meta)):
                if value is not None and tdm_value(value) == 1:
                    return Permission("false", "site-wide", f"tdm-reservation: 1 (home page {source})", home_id)
            if page.content_usage_header and parse_content_usage(page.content_usage_header).train_ai == "n":
                return Permission("false", "site-wide",
                                  f"Content-Usage: {page.content_usage_header} (home page header)", home_id)
        else:
            unknown.append(Permission("unknown", "site-wide",
                                      f"the home page was not read ({_status(site.home)})", home_id))
        return None

    def _read(self, site: _Site) -> _Rules:
        robots = None
        if site.robots is not None and site.robots.warc_record_id and site.robots.status in ("ok", "invalid",
                                                                                            "too_large"):
            stored = self._body(site.robots.warc_record_id)
            if stored is not None:
                robots = RobotsTxt.parse(read_robots_body(stored[0], bool(stored[1])).text)
        elif _status(site.robots) == "missing":
            robots = RobotsTxt.parse(b"")  # 4xx: no robots.txt, nothing disallowed
        tdmrep = None
        if site.tdmrep is not None and site.tdmrep.warc_record_id and site.tdmrep.status in ("ok", "invalid"):
            stored = self._body(site.tdmrep.warc_record_id)
            tdmrep = parse_tdmrep(stored[0]) if stored is not None else None
        aitxt = None
        if site.aitxt is not None and site.aitxt.warc_record_id and site.aitxt.status == "ok":
            stored = self._body(site.aitxt.warc_record_id)
            aitxt = RobotsTxt.parse(stored[0]) if stored is not None else None
        rules = self._rules[site.domain] = _Rules(site, robots, tdmrep, aitxt)
        return rules

    def _body(self, record_id: str) -> tuple[bytes, str] | None:
        try:
            stored = self.reader.response(record_id)
        except Exception:  # noqa: BLE001 - a damaged record is "not read" (verify names it)
            return None
        return (stored.body, stored.truncated) if stored is not None else None

    def close(self) -> None:
        self.reader.close()


def _status(fetch: _Fetch | None) -> str:
    return fetch.status if fetch is not None else "skipped"


def _page_url(site: _Site, url: str) -> bool:
    """Is ``url`` the home page whose headers and meta tags the run read?"""
    return path_of(url) == b"/" and _status(site.home) == "ok"


def _path_matches(pattern: str, path: bytes) -> bool:
    return _matches(_escape_pattern(pattern.encode("utf-8", "replace")), path)


def _lines(robots: RobotsTxt, agent: str, key: str):
    name = "" if agent == _UNNAMED else agent
    return [line for _group, line in robots.lines(key) if _group is None] + robots.lines_for(name or "*", key)


def _content_usage(robots: RobotsTxt, agent: str, path: bytes) -> tuple[str, str]:
    best = None
    for line in _lines(robots, agent, "content-usage"):
        where, usage = parse_robots_content_usage(line.value)
        if not usage.valid or usage.train_ai is None:
            continue
        if where is None or _path_matches(where, path):
            length = len(where or "")
            if best is None or length >= best[0]:
                best = (length, usage.train_ai, line)
    if best is not None and best[1] == "n":
        return f"Content-Usage: {best[2].value} (line {best[2].line})", "content-usage"
    return "", ""


def _content_signal(robots: RobotsTxt, agent: str) -> tuple[str, str]:
    for line in _lines(robots, agent, "content-signal"):
        if parse_content_signal(line.value).ai_train == "no":
            return f"Content-Signal: {line.value} (line {line.line})", "content-signal"
    return "", ""


def _disallow_ai_training(robots: RobotsTxt, agent: str, path: bytes) -> tuple[str, str]:
    for line in _lines(robots, agent, "disallowaitraining"):
        if line.value.strip() and _path_matches(line.value.strip(), path):
            return f"DisallowAITraining: {line.value} (line {line.line})", "disallow-ai-training"
    return "", ""


def open_run(run_dir: str | Path) -> RunEvidence:
    """A finished run folder, for per-URL questions: ``open_run(d).allowed(url, "GPTBot")``."""
    return RunEvidence(Path(run_dir))


def write_permissions(run_dir: Path, urls_file: Path, out: Path, agent: str | None, purpose: str | None) -> dict:
    """permissions.csv for every line of ``urls_file``; returns the count of each answer."""
    run = open_run(run_dir)
    label = agent or f"purpose:{purpose}"
    counts = {"true": 0, "false": 0, "unknown": 0}
    with urls_file.open(encoding="utf-8", errors="replace") as source, \
            out.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(PERMISSION_COLUMNS)
        for line in source:
            url = line.strip()
            if not url or url.startswith("#"):
                continue
            answer = run.allowed(url, agent, purpose)
            counts[answer.allowed] += 1
            writer.writerow((url, label, answer.allowed, answer.signal, answer.rule, answer.record_id))
    run.close()
    return counts
