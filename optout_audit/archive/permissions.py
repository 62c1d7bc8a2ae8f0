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
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from optout_audit.agents import purpose_of
from optout_audit.archive.matcher import UNNAMED, AgentRules
from optout_audit.archive.reader import ArchiveReader
from optout_audit.auditfile import projection
from optout_audit.detect.body import read_robots_body
from optout_audit.detect.preferences import parse_content_usage
from optout_audit.detect.robots import RobotsTxt, path_of
from optout_audit.detect.tdmrep import TdmrepFile, parse_tdmrep, tdm_value
from optout_audit.items import Fetch, PageSignals, SiteAudit

__all__ = ["PERMISSION_COLUMNS", "Permission", "RunEvidence", "open_run", "write_permissions"]

PERMISSION_COLUMNS = ("url", "agent", "allowed", "signal", "rule", "record_id")
#: Fetch statuses after which a document said what it says (ok), or is known to say nothing.
_READ = frozenset({"ok", "missing", "invalid"})
_EMPTY_ROBOTS = RobotsTxt.parse(b"")


@dataclass(frozen=True, slots=True)
class Permission:
    allowed: str  # true | false | unknown
    signal: str  # robots.txt, tdmrep.json, content-usage, content-signal, disallow-ai-training, ai.txt, site-wide ...
    rule: str  # the deciding line or entry; for unknown, why
    record_id: str = ""  # the WARC-Record-ID of the evidence

    def __bool__(self) -> bool:
        return self.allowed == "true"


# What this reads of a record: projections of items.py (auditfile.projection), never a copy of its fields.
_Fetch = projection(Fetch, ["status", "warc_record_id", "sha256"])
_Page = projection(PageSignals, ["noai", "tdm_reservation_header", "tdm_reservation_meta", "content_usage_header"])
_Site = projection(
    SiteAudit, ["domain", "robots", "home", "tdmrep", "aitxt", "page"], replace={Fetch: _Fetch, PageSignals: _Page}
)


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
        # Parsed documents by content, and each as one agent reads it: sites serving the same
        # robots.txt (a CMS's default) share one parse.
        self._parsed: dict[tuple[str, str, str], object] = {}
        self._views: dict[tuple[int, str], AgentRules] = {}
        self._by_purpose: dict[str, list[str]] = {}
        for name, agent_purpose in purpose_of().items():
            self._by_purpose.setdefault(agent_purpose, []).append(name)
        self._purposes = {name.lower(): purpose for name, purpose in purpose_of().items()}

    def purpose(self, agent: str) -> str:
        """An agent's purpose class; one the list does not know is asked about as if for training."""
        return self._purposes.get(agent.strip().lower(), "training")

    def allowed(self, url: str, agent: str | None = None, purpose: str | None = None) -> Permission:
        """May ``agent`` (or any crawler for ``purpose``) use ``url``? See the module docstring."""
        url = url.strip()
        host = _plain_host(url)
        if host is None:
            try:
                parts = urlsplit(url)
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
        agents = (
            [agent]
            if agent
            else [
                UNNAMED,
                *(name for name in self._by_purpose.get(wanted, ()) if rules.robots and rules.robots.is_named(name)),
            ]
        )
        path = path_of(url)
        unknown: list[Permission] = []

        robots_id = site.robots.warc_record_id or ""
        if rules.robots is None:
            unknown.append(
                Permission("unknown", "robots.txt", f"robots.txt could not be read ({_status(site.robots)})", robots_id)
            )
        else:
            for name in agents:
                rule = self._view(rules.robots, name).disallowed_by(path)
                if rule is not None:
                    who = "" if name == UNNAMED else f" for {name}"
                    return Permission("false", "robots.txt", f"{rule.raw} (line {rule.line}){who}", robots_id)
        if training:
            found = self._training_reservation(site, rules, path, agents, unknown)
            if found is not None:
                return found
        if unknown:
            return unknown[0]
        if training and not (path == b"/" and _status(site.home) == "ok"):  # not the page whose head was read
            return Permission(
                "unknown",
                "page",
                "this URL's own headers and meta tags were not read (the audit reads the home page only)",
            )
        return Permission("true", "robots.txt", "allowed" if rules.robots else "no robots.txt", robots_id)

    def _training_reservation(
        self, site: _Site, rules: _Rules, path: bytes, agents: list[str], unknown: list[Permission]
    ) -> Permission | None:
        tdmrep_id = site.tdmrep.warc_record_id or ""
        if rules.tdmrep is not None:
            rule = rules.tdmrep.match(path.decode("utf-8", "replace"))
            if rule is not None and rule.reservation == 1:
                return Permission(
                    "false",
                    "tdmrep.json",
                    f'entry {rule.index}: location "{rule.location}", tdm-reservation 1',
                    tdmrep_id,
                )
        elif _status(site.tdmrep) not in _READ:
            unknown.append(
                Permission(
                    "unknown", "tdmrep.json", f"tdmrep.json could not be read ({_status(site.tdmrep)})", tdmrep_id
                )
            )
        robots_id = site.robots.warc_record_id or ""
        if rules.robots is not None:
            for name in agents:
                view = self._view(rules.robots, name)
                line = view.content_usage_no(path)
                if line is not None:
                    return Permission(
                        "false", "content-usage", f"Content-Usage: {line.value} (line {line.line})", robots_id
                    )
                line = view.content_signal_no
                if line is not None:
                    return Permission(
                        "false", "content-signal", f"Content-Signal: {line.value} (line {line.line})", robots_id
                    )
                line = view.disallow_ai_training_for(path)
                if line is not None:
                    return Permission(
                        "false",
                        "disallow-ai-training",
                        f"DisallowAITraining: {line.value} (line {line.line})",
                        robots_id,
                    )
        aitxt_id = site.aitxt.warc_record_id or ""
        if rules.aitxt is not None:
            for name in agents:
                rule = self._view(rules.aitxt, name).disallowed_by(path)
                if rule is not None:
                    return Permission("false", "ai.txt", f"{rule.raw} (line {rule.line})", aitxt_id)
        elif _status(site.aitxt) not in _READ:
            unknown.append(
                Permission("unknown", "ai.txt", f"ai.txt could not be read ({_status(site.aitxt)})", aitxt_id)
            )
        home_id = site.home.warc_record_id or ""
        page = site.page
        if _status(site.home) == "ok":
            if page.noai:
                return Permission("false", "site-wide", "noai (home page X-Robots-Tag or robots meta)", home_id)
            for source, value in (("header", page.tdm_reservation_header), ("meta", page.tdm_reservation_meta)):
                if value is not None and tdm_value(value) == 1:
                    return Permission("false", "site-wide", f"tdm-reservation: 1 (home page {source})", home_id)
            if page.content_usage_header and parse_content_usage(page.content_usage_header).train_ai == "n":
                return Permission(
                    "false", "site-wide", f"Content-Usage: {page.content_usage_header} (home page header)", home_id
                )
        else:
            unknown.append(
                Permission("unknown", "site-wide", f"the home page was not read ({_status(site.home)})", home_id)
            )
        return None

    def _read(self, site: _Site) -> _Rules:
        robots = None
        fetch = site.robots
        if fetch.warc_record_id and fetch.status in ("ok", "invalid", "too_large"):
            robots = self._document("robots", fetch)
        elif _status(fetch) == "missing":
            robots = _EMPTY_ROBOTS  # 4xx: no robots.txt, nothing disallowed
        fetch = site.tdmrep
        tdmrep = self._document("tdmrep", fetch) if fetch.warc_record_id and fetch.status in ("ok", "invalid") else None
        fetch = site.aitxt
        aitxt = self._document("aitxt", fetch) if fetch.warc_record_id and fetch.status == "ok" else None
        rules = self._rules[site.domain] = _Rules(site, robots, tdmrep, aitxt)
        return rules

    def _document(self, kind: str, fetch: _Fetch):
        """The archived document parsed (None: unreadable), once per distinct content and outcome."""
        key = (kind, fetch.sha256, fetch.status)
        if fetch.sha256 and key in self._parsed:
            return self._parsed[key]
        stored = self._body(fetch.warc_record_id)
        if stored is None:
            return None
        body, truncated = stored
        if kind == "robots":
            parsed = RobotsTxt.parse(read_robots_body(body, bool(truncated)).text)
        elif kind == "tdmrep":
            parsed = parse_tdmrep(body)
        else:
            parsed = RobotsTxt.parse(body)
        if fetch.sha256:
            self._parsed[key] = parsed
        return parsed

    def _view(self, robots: RobotsTxt, agent: str) -> AgentRules:
        key = (id(robots), agent)
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = AgentRules(robots, agent)
        return view

    def _body(self, record_id: str) -> tuple[bytes, str] | None:
        try:
            stored = self.reader.response(record_id)
        except Exception:
            return None
        return (stored.body, stored.truncated) if stored is not None else None

    def close(self) -> None:
        self.reader.close()


def _status(fetch: _Fetch) -> str:
    return fetch.status or "skipped"  # (a record without the fetch: as Fetch's own default)


_PLAIN_HOST = re.compile(r"https?://([a-z0-9.-]+)(?::[0-9]*)?(?=[/?#]|$)", re.IGNORECASE)


def _plain_host(url: str) -> str | None:
    """The host of a plain http(s) URL (ASCII, no user info), lower-case; None: ask urlsplit."""
    found = _PLAIN_HOST.match(url)
    return found.group(1).lower().rstrip(".") if found else None


def open_run(run_dir: str | Path) -> RunEvidence:
    """A finished run folder, for per-URL questions: ``open_run(d).allowed(url, "GPTBot")``."""
    return RunEvidence(Path(run_dir))


def write_permissions(run_dir: Path, urls_file: Path, out: Path, agent: str | None, purpose: str | None) -> dict:
    """permissions.csv for every line of ``urls_file``; returns the count of each answer."""
    run = open_run(run_dir)
    label = agent or f"purpose:{purpose}"
    counts = {"true": 0, "false": 0, "unknown": 0}
    with (
        urls_file.open(encoding="utf-8", errors="replace") as source,
        out.open("w", newline="", encoding="utf-8") as target,
    ):
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
