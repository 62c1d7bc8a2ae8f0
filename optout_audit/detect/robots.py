"""robots.txt as Google's reference parser reads it (RFC 9309), plus the AI lines it ignores.

Group selection follows ``google/robotstxt`` ``robots.cc`` rather than protego, because protego
matches agents by substring (``User-agent: Applebot`` would govern ``Applebot-Extended``) and lets
any non-rule line end a run of user-agent lines. What Google's parser does, and so do we:

* a line's key is recognised by prefix, case-insensitively (``Disallow``, ``user-agents``, typos
  such as ``disalow``); so ``DisallowAITraining: /`` *is* a Disallow rule for Google and for us;
* only Allow/Disallow lines close a run of user-agent lines; ``Sitemap``, ``Crawl-delay``,
  ``Content-Signal`` and other unknown lines do not;
* a user-agent value is reduced to its leading ``[A-Za-z_-]`` run (``GPTBot/1.0`` names GPTBot)
  and compared case-insensitively; ``*`` (alone or followed by a space) is the global group;
* groups naming the agent are merged and replace ``*`` entirely;
* longest matching pattern wins, Allow wins ties, ``*`` and a final ``$`` are special,
  non-ASCII octets of a pattern are percent-encoded and escapes upper-cased;
* a UTF-8 BOM, or any prefix of it (``EF BB``, ``EF``), is skipped; lines longer than 16,664 bytes are cut.

One deliberate extension: agent names outside the RFC token grammar, as ai.robots.txt lists
some (``AI2Bot``, ``ChatGPT Agent``, ``iaskspider/2.0``), are also matched against the whole
user-agent value, because Google's parser can never name them and would send them to ``*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEEP_PROBE_PATH", "AgentVerdict", "Group", "Line", "RobotsTxt", "Rule", "escape_pattern", "pattern_matches"]

#: The deep page probed besides ``/`` to tell ``full`` from ``partial`` (README "Verdict semantics").
DEEP_PROBE_PATH = "/some/article-2026.html"

_MAX_LINE_BYTES = 2083 * 8 - 1
_BOM = b"\xef\xbb\xbf"
_TOKEN_PREFIX = re.compile(rb"[A-Za-z_-]*")
_ESCAPE_OR_HIGH = re.compile(rb"%[0-9A-Fa-f]{2}|[\x80-\xff]")
_DISALLOW_TYPOS = (b"dissallow", b"dissalow", b"disalow", b"diasllow", b"disallaw")


# Line and Rule are not frozen: a frozen dataclass's __init__ costs three times as much, and a
# robots.txt of thousands of lines is parsed for every site. Nothing mutates them.
@dataclass(slots=True)
class Line:
    """A non-rule line kept as evidence: ``key`` lower-cased, ``value`` as written."""

    key: str
    value: str
    line: int


@dataclass(slots=True)
class Rule:
    allow: bool
    pattern: bytes  # escaped as Google escapes it
    line: int
    raw: str  # the line as written, e.g. "Disallow: /private/"

    def priority(self, path: bytes) -> int:
        """Match priority of this rule for ``path``: pattern length, or -1 when it does not match."""
        if pattern_matches(self.pattern, path):
            return len(self.pattern)
        if self.allow:
            # Google: "Allow: /dir/index.html" also allows "/dir/".
            slash = self.pattern.rfind(b"/")
            if slash >= 0 and self.pattern[slash:].startswith(b"/index.htm"):
                directory = self.pattern[: slash + 1] + b"$"
                if pattern_matches(directory, path):
                    return len(directory)
        return -1


class Group:
    """A run of user-agent lines and the lines that follow it, up to the next run.

    Its rules are built on first use: most groups of a real file address crawlers that no AI agent,
    ``*`` or optout-audit falls to, and are never consulted.
    """

    __slots__ = ("_rule_lines", "_rules", "agents", "first_line", "is_global", "lines", "names")

    def __init__(self, first_line: int = 0) -> None:
        self.agents: list[str] = []  # values as written
        self.is_global = False
        self.names: set[str] = set()  # lower-cased names this group answers to
        self.lines: list[Line] = []  # Content-Signal, Content-Usage, ...
        self.first_line = first_line
        self._rule_lines: list[tuple[bool, bytes, int, bytes]] = []  # (allow, value, line, text)
        self._rules: list[Rule] | None = None

    def add_rule(self, allow: bool, value: bytes, number: int, text: bytes) -> None:
        self._rule_lines.append((allow, value, number, text))
        self._rules = None

    @property
    def rules(self) -> list[Rule]:
        if self._rules is None:
            self._rules = [
                Rule(allow, escape_pattern(value), number, text.decode("utf-8", "replace"))
                for allow, value, number, text in self._rule_lines
            ]
        return self._rules

    def __repr__(self) -> str:
        return f"Group(agents={self.agents!r}, first_line={self.first_line}, rules={len(self._rule_lines)})"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: Rule | None  # the deciding rule; None when no rule matched


@dataclass(frozen=True, slots=True)
class AgentVerdict:
    """What robots.txt says to one agent (README "Verdict semantics").

    ``verdict``: ``full`` (neither ``/`` nor a deep page may be fetched), ``partial`` (some
    Disallow rule takes effect), ``none``. ``via``: ``named`` (a group names the agent),
    ``wildcard`` (the ``*`` group applies) or ``default`` (no group applies).
    """

    agent: str
    verdict: str
    named: bool
    via: str
    rule: str = ""
    line: int | None = None


def pattern_matches(pattern: bytes, path: bytes) -> bool:
    """Does ``pattern`` match ``path`` from its start? ``*`` is any run of octets, a final ``$`` the end.

    The literal pieces between ``*`` are found left to right, each at its first place after the
    previous one: for such patterns the leftmost match exists whenever any does. A regex would say
    the same, but compiling one costs more than the few paths a site's verdicts test.
    """
    anchored = pattern.endswith(b"$")
    body = pattern[:-1] if anchored else pattern
    if b"*" not in body:
        return path == body if anchored else path.startswith(body)
    first, *middle, last = body.split(b"*")
    if not path.startswith(first):
        return False
    position = len(first)
    for piece in middle:
        found = path.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    if anchored:
        return len(path) - len(last) >= position and path.endswith(last)
    return path.find(last, position) >= 0


def escape_pattern(value: bytes) -> bytes:
    """Percent-encode octets >= 0x80 and upper-case existing escapes, as Google does."""
    if value.isascii() and b"%" not in value:
        return value  # most patterns: nothing to escape
    return _ESCAPE_OR_HIGH.sub(
        lambda m: m.group().upper() if m.group().startswith(b"%") else b"%%%02X" % m.group()[0],
        value,
    )


def _split_key_value(line: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(key, value, the line without its comment) or None for a blank or comment-only line."""
    content = line.split(b"#", 1)[0].strip()
    if not content:
        return None
    key, sep, value = content.partition(b":")
    if not sep:
        # Google accepts whitespace in place of a missing colon, with exactly two words.
        words = content.split()
        if len(words) != 2:
            return None
        key, value = words
    key = key.strip()
    if not key:
        return None
    return key, value.strip(), content


# The keys as usually written, looked up before the prefix rules below.
_COMMON_KEYS = {b"disallow": "disallow", b"allow": "allow", b"user-agent": "user-agent", b"sitemap": "sitemap"}


def _key_kind(key: bytes) -> str:
    lowered = key.lower()
    common = _COMMON_KEYS.get(lowered)
    if common:
        return common
    if lowered.startswith((b"user-agent", b"useragent", b"user agent")):
        return "user-agent"
    if lowered.startswith(b"allow"):
        return "allow"
    if lowered.startswith(b"disallow") or lowered.startswith(_DISALLOW_TYPOS):
        return "disallow"
    if lowered.startswith((b"sitemap", b"site-map")):
        return "sitemap"
    return "other"


def _agent_names(value: bytes) -> set[str]:
    """Names a user-agent value answers to (see the module docstring)."""
    text = value.decode("utf-8", "replace").lower()
    names = {_TOKEN_PREFIX.match(value).group().decode("ascii").lower(), text}
    names.add(text.split("/", 1)[0].strip())
    names.discard("")
    return names


def _is_global(value: bytes) -> bool:
    return value[:1] == b"*" and (len(value) == 1 or value[1:2].isspace())


def skip_bom(body: bytes) -> bytes:
    """``body`` without a leading UTF-8 BOM or any prefix of one (``EF BB``, ``EF``), as Google skips it.

    ``robots.cc`` drops the first bytes while they match the BOM's bytes in order and stops at
    the first that does not: ``EF BF`` loses its ``EF`` only.
    """
    skipped = 0
    while skipped < len(_BOM) and body[skipped : skipped + 1] == _BOM[skipped : skipped + 1]:
        skipped += 1
    return body[skipped:] if skipped else body


def _lines(body: bytes) -> list[bytes]:
    body = skip_bom(body)
    # CR, LF and CRLF all end a line (RFC 9309 2.2); "\r\n" must count once.
    return [line[:_MAX_LINE_BYTES] for line in body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")]


def path_of(url: str) -> bytes:
    """Path, params and query of ``url`` (always starting with ``/``), as Google extracts them."""
    start = 2 if url.startswith("//") else 0
    early_path = _find_first_of(url, "/?;", start)
    protocol_end = url.find("://", start)
    if protocol_end < 0 or (0 <= early_path < protocol_end):
        protocol_end = start
    else:
        protocol_end += 3
    path_start = _find_first_of(url, "/?;", protocol_end)
    if path_start < 0:
        return b"/"
    hash_pos = url.find("#", start)
    if 0 <= hash_pos < path_start:
        return b"/"
    path = url[path_start : hash_pos if hash_pos >= 0 else len(url)]
    if not path.startswith("/"):
        path = "/" + path
    return _utf8(path)


def _utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; bytes smuggled in as surrogate escapes are restored, lone surrogates replaced."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _find_first_of(text: str, chars: str, start: int) -> int:
    positions = [p for p in (text.find(c, start) for c in chars) if p >= 0]
    return min(positions) if positions else -1


class RobotsTxt:
    """A parsed robots.txt. Build it with :meth:`parse`; it never raises on any input."""

    def __init__(self, groups: list[Group], preamble: list[Line]):
        self.groups = groups
        #: Lines outside any group (Sitemap, License, lines before the first user-agent).
        self.preamble = preamble
        self._by_name: dict[str, list[Group]] = {}
        for group in groups:
            for name in group.names:
                self._by_name.setdefault(name, []).append(group)
        self._global = [g for g in groups if g.is_global]
        self._verdicts: dict[tuple, AgentVerdict] = {}  # (via, *ids of the groups) -> verdict

    @classmethod
    def parse(cls, body: str | bytes) -> RobotsTxt:
        if isinstance(body, str):
            body = _utf8(body)
        groups: list[Group] = []
        preamble: list[Line] = []
        current: Group | None = None
        closed = True  # an Allow/Disallow line was seen since the last user-agent line
        for number, raw_line in enumerate(_lines(body), start=1):
            parsed = _split_key_value(raw_line)
            if parsed is None:
                continue
            key, value, content = parsed
            kind = _key_kind(key)
            if kind == "user-agent":
                if closed or current is None:
                    current = Group(first_line=number)
                    groups.append(current)
                    closed = False
                current.agents.append(value.decode("utf-8", "replace"))
                if _is_global(value):
                    current.is_global = True
                else:
                    current.names |= _agent_names(value)
            elif kind in ("allow", "disallow"):
                if b"aitraining" in key.lower():
                    # e.g. DisallowAITraining: a rule for Google, and an AI signal for us.
                    (current.lines if current else preamble).append(_evidence(key, value, number))
                if current is None:
                    continue
                closed = True
                if value:
                    current.add_rule(kind == "allow", value, number, content)
            else:
                evidence = _evidence(key, value, number)
                if kind == "sitemap" or evidence.key == "license" or current is None:
                    preamble.append(evidence)
                else:
                    current.lines.append(evidence)
        return cls(groups, preamble)

    # -- group selection ---------------------------------------------------------------------

    def groups_for(self, agent: str) -> tuple[list[Group], str]:
        """The groups that govern ``agent`` and how: ``named``, ``wildcard`` or ``default``."""
        named = self._by_name.get(agent.strip().lower())
        if named:
            return named, "named"
        if self._global:
            return self._global, "wildcard"
        return [], "default"

    def is_named(self, agent: str) -> bool:
        return agent.strip().lower() in self._by_name

    def lines_for(self, agent: str, key: str) -> list[Line]:
        """Extension lines (``content-signal``, ``content-usage`` ...) in the groups governing ``agent``."""
        groups, _ = self.groups_for(agent)
        return [line for group in groups for line in group.lines if line.key == key]

    def lines(self, key: str) -> list[tuple[Group | None, Line]]:
        """Every line with ``key`` in the file, with the group it sits in (None: outside groups)."""
        found: list[tuple[Group | None, Line]] = [(None, line) for line in self.preamble if line.key == key]
        found += [(group, line) for group in self.groups for line in group.lines if line.key == key]
        return found

    # -- decisions -----------------------------------------------------------------------------

    def decide(self, path: bytes, agent: str) -> Decision:
        groups, _ = self.groups_for(agent)
        best_allow: tuple[int, Rule | None] = (-1, None)
        best_disallow: tuple[int, Rule | None] = (-1, None)
        for group in groups:
            for rule in group.rules:
                priority = rule.priority(path)
                if rule.allow and priority > best_allow[0]:
                    best_allow = (priority, rule)
                elif not rule.allow and priority > best_disallow[0]:
                    best_disallow = (priority, rule)
        if best_disallow[0] > best_allow[0]:
            return Decision(False, best_disallow[1])
        return Decision(True, best_allow[1])

    def groups_key(self, agent: str) -> tuple[int, ...]:
        """The same for agents that fall to the same groups: robots.txt decides every path alike for them."""
        return tuple(map(id, self.groups_for(agent)[0]))

    def can_fetch(self, url: str, agent: str) -> bool:
        """May ``agent`` fetch ``url``? RFC 9309 as Google's parser decides."""
        return self.decide(path_of(url), agent).allowed

    def verdict(self, agent: str) -> AgentVerdict:
        """``full`` / ``partial`` / ``none`` for ``agent``, with the deciding rule."""
        groups, via = self.groups_for(agent)
        # Every agent that falls to the same groups gets the same answer: compute it once per set of
        # groups (ai.robots.txt's list names a hundred agents in one group).
        cache_key = (via, *map(id, groups))
        cached = self._verdicts.get(cache_key)
        if cached is None:
            cached = self._verdict(agent, via)
            self._verdicts[cache_key] = cached
        if cached.agent != agent:
            cached = AgentVerdict(agent, cached.verdict, cached.named, via, cached.rule, cached.line)
        return cached

    def _verdict(self, agent: str, via: str) -> AgentVerdict:
        named = via == "named"
        root = self.decide(b"/", agent)
        deep = self.decide(DEEP_PROBE_PATH.encode(), agent)
        if not root.allowed and not deep.allowed:
            return AgentVerdict(agent, "full", named, via, root.rule.raw, root.rule.line)
        for decided in (root, deep):
            if not decided.allowed:
                return AgentVerdict(agent, "partial", named, via, decided.rule.raw, decided.rule.line)
        for rule in self._disallow_rules(agent):
            decided = self.decide(_example_path(rule.pattern), agent)
            if not decided.allowed:
                return AgentVerdict(agent, "partial", named, via, decided.rule.raw, decided.rule.line)
        return AgentVerdict(agent, "none", named, via)

    def _disallow_rules(self, agent: str) -> list[Rule]:
        groups, _ = self.groups_for(agent)
        return [rule for group in groups for rule in group.rules if not rule.allow]

    def blocks_all(self) -> bool:
        """Does the ``*`` group disallow both ``/`` and a deep page to every unnamed crawler?"""
        return bool(self._global) and self.verdict("\0unnamed-agent").verdict == "full"


def _example_path(pattern: bytes) -> bytes:
    """A path the pattern matches literally: wildcards dropped, anchored ``$`` removed."""
    path = pattern[:-1] if pattern.endswith(b"$") else pattern
    path = path.replace(b"*", b"")
    return path if path.startswith(b"/") else b"/" + path


def _evidence(key: bytes, value: bytes, number: int) -> Line:
    return Line(key.decode("utf-8", "replace").strip().lower(), value.decode("utf-8", "replace"), number)
