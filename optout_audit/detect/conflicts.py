"""What a site's signals say against each other, or less than they seem to: conflicts.csv's rows.

Pure like the rest of ``detect/``: the parsed robots.txt (and its text, for the other parsers),
the agent list handed in and the other evidence -> a list of :class:`Conflict`. Four kinds:

``silent_miss`` (error)
    a user-agent group meant for a listed AI agent that applies to nobody under RFC 9309 as
    Google's parser reads it: a prefix of the agent's name (``Google`` for ``Google-Extended``,
    ``Applebot`` for ``Applebot-Extended``), a near-miss spelling (``GPT-Bot``, ``ClaudBot``;
    :func:`difflib.SequenceMatcher` similarity, case-insensitive as user-agent matching is, same
    first letter), or a listed name that strict parsers cut at the first character outside
    ``[A-Za-z_-]`` (``AI2Bot`` is read as ``AI``). A group counts only when the agent it misses is
    named nowhere else and is kept out less than the group would keep it: a harmless typo, or one
    whose agent the ``*`` group closes anyway, is no finding. Values that are other crawlers' names
    (several words, a browser string, :data:`KNOWN_CRAWLERS`) are never read as misspellings.
``parsers_disagree`` (warning)
    an agent for which Google's reading (:mod:`.robots`), protego's (Scrapy's
    RobotsTxtMiddleware, i.e. every Scrapy-based crawler by default) and Python's
    ``urllib.robotparser`` give different answers for ``/`` and a deep page. Agents that no group
    could name in any of the three share one row, agent ``*``.
``signals_contradict`` (warning)
    TDMRep techniques giving different values for ``/`` (tdmrep.json, header, meta);
    Content-Signal ``ai-train`` or Content-Usage ``train-ai`` saying no while robots.txt lets every
    training agent in, or yes while it keeps every one out; ai.txt against robots.txt the same way.
``split_by_purpose`` (info)
    one operator's training agent fully disallowed while its search or user-triggered agent may
    fetch everything, or the reverse. Often deliberate (docs/signals.md pattern 2); reported so the
    reader sees it.

Which reading each operator uses, where documented, is in docs/conflicts.md. Not checked here:
RSL licence files and llms.txt (the crawler does not fetch them).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING
from urllib.robotparser import RobotFileParser

from protego import Protego

from optout_audit.detect.aitxt import AiTxt
from optout_audit.detect.headers import HeaderSignals
from optout_audit.detect.html import HtmlSignals
from optout_audit.detect.preferences import parse_content_signal, parse_content_usage, parse_robots_content_usage
from optout_audit.detect.robots import DEEP_PROBE_PATH, Group, RobotsTxt
from optout_audit.detect.tdmrep import TdmrepFile, tdm_value

if TYPE_CHECKING:
    from optout_audit.agents import Agent

__all__ = ["CONFLICT_KINDS", "Conflict", "find_conflicts"]

CONFLICT_KINDS = {
    "silent_miss": "error",
    "parsers_disagree": "warning",
    "signals_contradict": "warning",
    "split_by_purpose": "info",
}
#: Similarity (difflib ratio, 0..1) from which a user-agent value is read as a misspelt agent name:
#: ``GPT-Bot`` is 0.92 from GPTBot, ``ClaudBot`` 0.94 from ClaudeBot; ``BySpider`` (0.89 from
#: Bytespider) and ``linkbot`` (0.88 from LinkupBot) are other crawlers of real block lists.
NEAR_MISS_RATIO = 0.9
#: Crawlers (and browser names) that are not on the AI list but start like names on it: a value
#: starting with one is never read as a misspelling or a prefix (``SemrushBot-SA`` is 0.96 from
#: ``SemrushBot-SWA``; ``mozilla`` starts ``Mozilla-Tabstack``).
KNOWN_CRAWLERS = (
    "googlebot",
    "adsbot-google",
    "mediapartners-google",
    "storebot-google",
    "google-inspectiontool",
    "bingbot",
    "bingpreview",
    "msnbot",
    "adidxbot",
    "slurp",
    "duckduckbot",
    "baiduspider",
    "yandex",
    "semrushbot",
    "ahrefsbot",
    "mj12bot",
    "dotbot",
    "twitterbot",
    "facebot",
    "linkedinbot",
    "pinterestbot",
    "slackbot",
    "discordbot",
    "telegrambot",
    "seznambot",
    "sogou",
    "ia_archiver",
    "qwantify",
    "mozilla",
)
_TOKEN_PREFIX = re.compile(r"[A-Za-z_-]*")
_TOKEN_NAME = re.compile(r"[A-Za-z_-]+")
#: How much each verdict keeps out: a silent miss is a group that meant to keep an agent out more.
_RESTRICTION = {"none": 0, "partial": 1, "full": 2}
_PROBE_PATHS = ("/", DEEP_PROBE_PATH)
_PROBE_HOST = "https://site.invalid"
_PROBE_URLS = tuple(_PROBE_HOST + path for path in _PROBE_PATHS)
# An agent name no group of any parser can match: protego and urllib match group values as
# substrings of the agent's name, and no robots.txt value is made of control characters only.
_NOBODY = "\x01\x02"
_OPERATOR_SKIP = frozenset({"unclear", "unknown", "anyone", "the", "a", ""})


@dataclass(frozen=True, slots=True)
class Conflict:
    """One finding. ``agent`` or ``signal`` (or both) say what it is about; ``line`` is a robots.txt line."""

    kind: str
    severity: str
    agent: str
    signal: str
    detail: str
    line: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _conflict(kind: str, detail: str, *, agent: str = "", signal: str = "", line: int | None = None) -> Conflict:
    return Conflict(kind, CONFLICT_KINDS[kind], agent, signal, detail, line)


def find_conflicts(
    robots: RobotsTxt | None,
    agents: Sequence[Agent],
    *,
    robots_text: str | bytes | None = None,
    rules_known: bool = True,
    headers: HeaderSignals | None = None,
    html: HtmlSignals | None = None,
    tdmrep: TdmrepFile | None = None,
    aitxt: AiTxt | None = None,
) -> list[Conflict]:
    """Every conflict in one site's evidence; never raises on any parsed input.

    ``robots`` is None when the site has no robots.txt (4xx: everything allowed) or it could
    not be read; ``rules_known`` False says the latter, and then nothing is concluded from
    robots.txt. ``robots_text`` is the body the crawler parsed; without it the parser comparison
    is skipped. ``headers`` / ``html``: the home page's, None when not read.
    """
    found: list[Conflict] = []
    if rules_known and robots is not None:
        found += silent_misses(robots, agents, robots_text)
        if robots_text is not None:
            found += parser_disagreements(robots, robots_text, agents)
    if rules_known:
        readable = robots if robots is not None else RobotsTxt.parse(b"")
        verdicts = _verdicts(readable, agents)
        found += _preference_contradictions(readable, verdicts, agents, headers)
        found += _aitxt_contradictions(verdicts, agents, aitxt)
        found += purpose_splits(verdicts, agents)
    found += tdm_contradictions(tdmrep, headers, html)
    return found


def _verdicts(robots: RobotsTxt, agents: Sequence[Agent]) -> dict[str, str]:
    """Agent name -> its robots.txt verdict (RobotsTxt.verdict computes it once per set of groups);
    the agents no group names share one."""
    others = robots.verdict("\0unnamed-agent").verdict
    return {
        agent.name: robots.verdict(agent.name).verdict if robots.is_named(agent.name) else others for agent in agents
    }


# -- silent misses -------------------------------------------------------------------------------


def silent_misses(robots: RobotsTxt, agents: Sequence[Agent], robots_text: str | bytes | None = None) -> list[Conflict]:
    """Groups meant for a listed agent that name nobody (see the module docstring)."""
    listed = _listed(agents)
    numbers: dict[str, int] | None = None  # read from the text only when a miss is found
    found: list[Conflict] = []
    seen: set[tuple[str, str]] = set()
    for group in robots.groups:
        for value in group.agents:
            value = value.strip()
            if not value or value.startswith("*"):
                continue
            miss = _missed_agent(value, listed, robots, agents)
            if miss is None or (value.lower(), miss[0].name) in seen:
                continue
            if numbers is None:
                numbers = _user_agent_line_numbers(robots_text)
            line = numbers.get(value.lower(), group.first_line)
            agent, how = miss
            seen.add((value.lower(), agent.name))
            gets = robots.verdict(agent.name)
            if how == "cut":
                misread = _TOKEN_PREFIX.match(value).group()
                gives = robots.verdict(value).verdict
                strict = robots.verdict("\0unnamed-agent")  # where a strict parser sends the agent
                if _RESTRICTION[gives] <= _RESTRICTION[strict.verdict]:
                    continue
                detail = (
                    f"User-agent: {value} is cut to {misread!r} by strict RFC 9309 parsers (Google's): "
                    f"{agent.name} gets {strict.verdict} (via {strict.via}) there, not the group's {gives}"
                )
            else:
                gives = robots.verdict(value).verdict
                if (gets.named and how != "extended") or _RESTRICTION[gives] <= _RESTRICTION[gets.verdict]:
                    continue  # named elsewhere, or kept out as much anyway: the stray line changes nothing
                detail = (
                    f"User-agent: {value} ({how}) does not name {agent.name}: it gets {gets.verdict} "
                    f"(via {gets.via}), the group gives {gives}"
                )
            found.append(_conflict("silent_miss", detail, agent=agent.name, line=line))
    return found


_USER_AGENT_LINE = re.compile(r"\s*user[- ]?agents?\s*:?\s*([^#]*)", re.IGNORECASE)


def _user_agent_line_numbers(robots_text: str | bytes | None) -> dict[str, int]:
    """Lower-cased user-agent value -> the number of the first line holding it (a Group keeps only its first)."""
    if robots_text is None:
        return {}
    numbers: dict[str, int] = {}
    lines = _decoded(robots_text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, text in enumerate(lines, start=1):
        match = _USER_AGENT_LINE.match(text)
        if match:
            numbers.setdefault(match.group(1).strip().lower(), number)
    return numbers


def _missed_agent(
    value: str, listed: dict[str, Agent], robots: RobotsTxt, agents: Sequence[Agent]
) -> tuple[Agent, str] | None:
    """(the listed agent a user-agent value seems meant for, how it misses) or None."""
    lowered = value.lower()
    token = _TOKEN_PREFIX.match(value).group().lower()
    whole = lowered.split("/", 1)[0].strip()
    if whole in listed and token != whole and token not in listed:
        return listed[whole], "cut"  # AI2Bot -> "AI"; GPTBot/1.0 -> "GPTBot" is fine
    extended = listed.get(lowered + "-extended")
    if lowered in listed and extended is not None and not robots.is_named(extended.name):
        # Applebot names Apple's crawler; Applebot-Extended alone decides training use of what it fetched.
        return extended, "extended"
    if token in listed or whole in listed or lowered in listed:
        return None
    if not token or whole != token or token.startswith(KNOWN_CRAWLERS):
        return None  # "Image Fetch", "Mozilla/4.0 (compatible; ...)": another crawler's name, not a misspelt one
    prefixed = _hyphen_prefixes(agents).get(token) if len(token) >= 3 else None
    if prefixed:
        return prefixed[0], "prefix"
    # A typo keeps the first letter ("BSpider" is another crawler than "Spider"); names outside
    # the token grammar are the cut rule's.
    candidates = _sharing_enough_letters(token, _near_candidates(agents, token))
    close = candidates and difflib.get_close_matches(token, candidates, n=1, cutoff=NEAR_MISS_RATIO)
    if close:
        return listed[close[0]], "near-miss spelling"
    return None


def _per_agent_list(build):
    """Cache ``build(agents)`` by the identity of the agent list handed in.

    The crawl hands the same tuple for every site; hashing its 166 agents for a ``functools.cache``
    lookup would cost more per site than the lookup saves. A few lists are kept at most.
    """
    built: dict[int, tuple[object, object]] = {}

    @functools.wraps(build)
    def cached(agents):
        entry = built.get(id(agents))
        if entry is None or entry[0] is not agents:
            if len(built) >= 8:
                built.clear()
            entry = built[id(agents)] = (agents, build(agents))
        return entry[1]

    return cached


@_per_agent_list
def _listed(agents: Sequence[Agent]) -> dict[str, Agent]:
    return {agent.name.lower(): agent for agent in agents}


@_per_agent_list
def _hyphen_prefixes(agents: Sequence[Agent]) -> dict[str, list[Agent]]:
    """Lower-cased part before a hyphen (``google`` of ``Google-Extended``) -> the agents it starts.

    Ordered as a miss is reported: a training agent first, then the shortest name.
    """
    index: dict[str, list[Agent]] = {}
    for agent in agents:
        for position, char in enumerate(agent.name):
            if char == "-" and position:
                index.setdefault(agent.name[:position].lower(), []).append(agent)
    for found in index.values():
        found.sort(key=lambda agent: (agent.purpose != "training", len(agent.name), agent.name))
    return index


@_per_agent_list
def _by_first_letter(agents: Sequence[Agent]) -> dict[str, list[str]]:
    """First letter -> the lower-cased listed names in the token grammar starting with it."""
    index: dict[str, list[str]] = {}
    for agent in agents:
        if _TOKEN_NAME.fullmatch(agent.name):
            index.setdefault(agent.name[:1].lower(), []).append(agent.name.lower())
    return index


@_per_agent_list
def _by_first_letter_and_length(agents: Sequence[Agent]) -> dict[tuple[str, int], list[str]]:
    """Filled by :func:`_near_candidates`, one (first letter, token length) at a time."""
    return {}


def _near_candidates(agents: Sequence[Agent], token: str) -> list[str]:
    """The names of :func:`_by_first_letter` that can be ``NEAR_MISS_RATIO`` close to ``token``, in their order.

    ``get_close_matches`` drops first the names whose length alone keeps them below the cutoff
    (``real_quick_ratio``, the same expression here); leaving them out before it is called
    changes nothing it returns, and most tokens of a real file are near no listed name.
    """
    key = (token[:1], len(token))
    index = _by_first_letter_and_length(agents)
    found = index.get(key)
    if found is None:
        length = len(token)
        found = index[key] = [
            name
            for name in _by_first_letter(agents).get(token[:1], [])
            if 2.0 * min(length, len(name)) / (length + len(name)) >= NEAR_MISS_RATIO
        ]
    return found


def _sharing_enough_letters(token: str, names: list[str]) -> list[str]:
    """The ``names`` whose letters in common with ``token`` (as multisets) reach ``NEAR_MISS_RATIO``.

    That is ``SequenceMatcher.quick_ratio``, the bound ``get_close_matches`` checks second, the
    same count and the same expression: the names it drops would be dropped there.
    """
    if not names:
        return names
    counts: dict[str, int] = {}
    for letter in token:
        counts[letter] = counts.get(letter, 0) + 1
    close = []
    for name in names:
        left = dict(counts)
        matches = 0
        for letter in name:
            if left.get(letter, 0) > 0:
                left[letter] -= 1
                matches += 1
        if 2.0 * matches / (len(token) + len(name)) >= NEAR_MISS_RATIO:
            close.append(name)
    return close


# -- parsers disagree ----------------------------------------------------------------------------


def parser_disagreements(robots: RobotsTxt, robots_text: str | bytes, agents: Sequence[Agent]) -> list[Conflict]:
    """Agents whose answers differ between Google's reading, protego and urllib.robotparser."""
    asked = _agents_to_compare(robots, agents)
    text = _relevant_lines(robots, _decoded(robots_text), agents, asked)
    try:
        protego = Protego.parse(text)
        stdlib = RobotFileParser()
        stdlib.parse(text.splitlines())
    except Exception:
        return []

    google: dict[tuple[int, ...], str] = {}  # the groups an agent falls to -> their reading

    def google_reading(name: str) -> str:
        # The verdict (the record has asked for it already) decided both probes: "full" is both
        # disallowed, "none" both allowed; only "partial" may come from another path.
        verdict = robots.verdict(name).verdict
        if verdict != "partial":
            return verdict
        key = robots.groups_key(name)
        if key not in google:
            google[key] = _probe_reading(lambda path: robots.decide(path.encode(), name).allowed)
        return google[key]

    def readings(name: str, ours_name: str) -> dict[str, str]:
        return {
            "google": google_reading(ours_name),
            "protego": _probe_reading(lambda url: protego.can_fetch(url, name), _PROBE_URLS),
            "urllib": _probe_reading(lambda url: stdlib.can_fetch(name, url), _PROBE_URLS),
        }

    found: list[Conflict] = []
    unnamed = readings(_NOBODY, "\0unnamed-agent")
    if len(set(unnamed.values())) > 1:
        found.append(_conflict("parsers_disagree", "agents no group names: " + _readings_text(unnamed), agent="*"))
    for agent in asked:
        reading = readings(agent.name, agent.name)
        if len(set(reading.values())) > 1:
            found.append(
                _conflict(
                    "parsers_disagree", _readings_text(reading), agent=agent.name, line=robots.verdict(agent.name).line
                )
            )
    return found


def _relevant_lines(robots: RobotsTxt, text: str, agents: Sequence[Agent], asked: Sequence[Agent]) -> str:
    """What protego and urllib are given to read: :func:`_relevant_groups` without :func:`_without_inert_lines`.

    ``asked``: the agents the parsers will be asked about (besides one no group names).
    """
    names = {agent.name.lower() for agent in asked}
    kept = _without_inert_lines(_relevant_groups(robots, text, agents), _substring_index(agents), names)
    return "\n".join(kept) + "\n"


def _relevant_groups(robots: RobotsTxt, text: str, agents: Sequence[Agent]) -> list[str]:
    """The lines of the file's groups that can apply to a listed agent in some parser, as written, in order.

    protego and urllib match a group's value as a substring of the agent's name, so a group whose
    values are in no listed name (``Googlebot``, ``bingbot`` ...) and that is not ``*`` answers no
    listed agent in any of the three parsers; dropping it whole changes no answer they give and
    spares parsing it twice more (real files list hundreds of crawlers).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    containing = _substring_index(agents)
    starts = [group.first_line for group in robots.groups] + [len(lines) + 1]
    kept: list[str] = []
    for group, end in zip(robots.groups, starts[1:], strict=True):
        values = [value.strip().lower().replace("*", "") for value in group.agents]
        if group.is_global or any(value and value in containing for value in values):
            kept += lines[group.first_line - 1 : end - 1]
    return kept


# A rule line and a user-agent line as protego and urllib.robotparser both read them: no comment,
# no character str.splitlines breaks at, none a parser could raise on (lone surrogates); a rule's
# pattern starting with "/", a user-agent value of printable ASCII without "*", "%" or "#".
_RULE_LINE = re.compile(
    r"[ \t]*(?:allow|disallow)[ \t]*:[ \t]*(/[^#\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\ud800-\udfff]*)",
    re.ASCII | re.IGNORECASE,
)
_AGENT_LINE = re.compile(
    r"[ \t]*user-agent[ \t]*:[ \t]*([!\"$&-)+-~](?:[ \t!\"$&-)+-~]*[!\"$&-)+-~])?)[ \t]*", re.ASCII | re.IGNORECASE
)
# The part of a pattern no parser changes (percent-encoding leaves these characters as they are).
_UNRESERVED_PREFIX = re.compile(r"[A-Za-z0-9_.~/-]*")


def _without_inert_lines(lines: list[str], containing: dict[str, frozenset[str]], asked: set[str]) -> list[str]:
    """``lines`` without those that change no answer protego or urllib gives an ``asked`` agent for the probes.

    ``containing``: :func:`_substring_index` of the listed agents; ``asked``: lower-cased names.

    Such a line follows a line of its own kind: a rule after a rule (where both parsers are in
    the state the earlier rule left them; a rule adds itself to its group and nothing else), a
    user-agent line after one (the run goes on; the value adds only itself). A rule is inert
    when no probe path starts with its pattern's leading run of unreserved characters and
    ``/``: both parsers match a pattern from the start of the path, after percent-encoding it,
    which leaves that run as it is. Kept besides: a pattern that could read ``/index.html``
    (protego reads ``Allow: /index.html`` as allowing ``/`` too) and one whose run is ``/``
    alone or starts ``//`` (urllib reads a decoded ``//`` as a host, and may raise). A
    user-agent value is inert when no asked name contains it: both parsers match values as
    substrings of the agent's name (protego at a token boundary). Files listing thousands of
    paths or crawlers (ai.robots.txt's list among them) shrink to a few lines.
    """
    kept: list[str] = []
    previous = ""
    for line in lines:
        kind = ""
        if (rule := _RULE_LINE.fullmatch(line)) is not None:
            kind = "rule"
            prefix = _UNRESERVED_PREFIX.match(rule.group(1)).group()
            # "/" and "" are prefixes of every probe path.
            inert = len(prefix) > 1 and prefix[1] != "/" and not "/index.html".startswith(prefix)
            inert = inert and not DEEP_PROBE_PATH.startswith(prefix)
        elif (agent := _AGENT_LINE.fullmatch(line)) is not None:
            kind = "agent"
            inert = asked.isdisjoint(containing.get(agent.group(1).lower(), ()))
        if not (kind and kind == previous and inert):
            kept.append(line)
        previous = kind
    return kept


def _agents_to_compare(robots: RobotsTxt, agents: Sequence[Agent]) -> list[Agent]:
    """The listed agents whose readings can differ from the rest of their group's.

    protego's group choice scans every user-agent value for each question, so asking every listed
    agent of a long file costs many times its parse (docs/conflicts.md). The parsers' documented rules (docs/signals.md
    1.8; ``urllib.robotparser``'s source) say where answers can part: an agent no group names
    whose name contains a value (protego and urllib match substrings); one named here only
    through its token before a ``/`` or a space (protego and urllib compare the whole value);
    one whose name contains a value of another group (urllib takes the first entry that
    matches); one named by several groups; one in a run of user-agent lines that a non-rule
    line interrupts (protego ends the run there). Every other agent gets what its group gives,
    asked once per group through a representative.
    """
    value_groups: dict[str, set[int]] = {}
    for group in robots.groups:
        for value in group.agents:
            cleaned = value.strip().lower().replace("*", "")
            if cleaned and not value.strip().startswith("*"):
                value_groups.setdefault(cleaned, set()).add(id(group))
    containing = _substring_index(agents)
    inside: dict[str, list[str]] = {}  # lower-cased agent name -> the values it contains
    for value in value_groups:
        for name in containing.get(value, ()):
            inside.setdefault(name, []).append(value)
    interrupted = {name for group in robots.groups if _interrupted(group) for name in group.names}
    chosen: set[str] = set()
    representative: dict[tuple[int, ...], str] = {}
    for agent in agents:
        lowered = agent.name.lower()
        if not robots.is_named(agent.name):
            if lowered in inside:
                chosen.add(agent.name)
            continue
        groups, _ = robots.groups_for(agent.name)
        own = {id(group) for group in groups}
        if (
            len(groups) > 1
            or lowered not in value_groups
            or lowered in interrupted
            or any(not value_groups[value] <= own for value in inside.get(lowered, ()))
        ):
            chosen.add(agent.name)
        else:
            representative.setdefault(tuple(sorted(own)), agent.name)
    chosen.update(representative.values())
    return [agent for agent in agents if agent.name in chosen]


@_per_agent_list
def _substring_index(agents: Sequence[Agent]) -> dict[str, frozenset[str]]:
    """Every substring of the lower-cased names -> the names containing it."""
    index: dict[str, set[str]] = {}
    for name in (agent.name.lower() for agent in agents):
        for start in range(len(name)):
            for end in range(start + 1, len(name) + 1):
                index.setdefault(name[start:end], set()).add(name)
    return {text: frozenset(found) for text, found in index.items()}


def _interrupted(group: Group) -> bool:
    """Does a non-rule line sit among the group's user-agent lines, before its first rule?"""
    if not group.lines or not group.rules:
        return False
    first_rule = min(rule.line for rule in group.rules)
    return any(line.line < first_rule for line in group.lines)


def _decoded(text: str | bytes) -> str:
    # As Scrapy hands robots.txt to protego: BOM stripped, undecodable bytes dropped.
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8-sig", "ignore")
    return text.removeprefix("\ufeff")


def _probe_reading(allowed, probes: tuple[str, ...] = _PROBE_PATHS) -> str:
    """``full`` / ``partial`` / ``none`` from the answers for ``/`` and the deep page; ``error`` if a parser raised."""
    try:
        answers = [bool(allowed(probe)) for probe in probes]
    except Exception:
        return "error"
    return {0: "full", 1: "partial", 2: "none"}[sum(answers)]


def _readings_text(reading: dict[str, str]) -> str:
    names = {"google": "Google's parser (ours)", "protego": "protego (Scrapy)", "urllib": "urllib.robotparser"}
    return "; ".join(f"{names[parser]}: {verdict}" for parser, verdict in reading.items())


# -- signals contradict --------------------------------------------------------------------------


def tdm_contradictions(
    tdmrep: TdmrepFile | None, headers: HeaderSignals | None, html: HtmlSignals | None
) -> list[Conflict]:
    """TDMRep techniques that give ``/`` different values."""
    values: dict[str, int] = {}
    rule = tdmrep.match("/") if tdmrep is not None and tdmrep.valid else None
    if rule is not None and rule.reservation is not None:
        values[f"tdmrep.json entry {rule.index}"] = rule.reservation
    if headers is not None and tdm_value(headers.tdm_reservation or "") is not None:
        values["tdm-reservation header"] = tdm_value(headers.tdm_reservation)
    if html is not None and tdm_value(html.tdm_reservation or "") is not None:
        values["tdm-reservation meta"] = tdm_value(html.tdm_reservation)
    if len(set(values.values())) < 2:
        return []
    said = ", ".join(f"{source}: {value}" for source, value in values.items())
    return [
        _conflict(
            "signals_contradict",
            f"TDMRep techniques disagree for /: {said} (the last one counts)",
            signal="tdm_reservation",
        )
    ]


def _training_stance(verdicts: dict[str, str], agents: Sequence[Agent]) -> str:
    """``open`` (every training agent may fetch all), ``closed`` (every one fully out) or ``mixed``."""
    training = {verdicts[agent.name] for agent in agents if agent.purpose == "training"}
    if training == {"none"}:
        return "open"
    if training == {"full"}:
        return "closed"
    return "mixed"


def _preference_contradictions(
    robots: RobotsTxt, verdicts: dict[str, str], agents: Sequence[Agent], headers: HeaderSignals | None
) -> list[Conflict]:
    stance = _training_stance(verdicts, agents)
    if stance == "mixed":
        return []
    statements: list[tuple[str, str, bool, int | None]] = []  # (signal, value, says no, line)
    for _, line in robots.lines("content-signal"):
        said = parse_content_signal(line.value).ai_train
        if said in ("yes", "no"):
            statements.append(("content_signal", f"Content-Signal: {line.value}", said == "no", line.line))
    for _, line in robots.lines("content-usage"):
        path, usage = parse_robots_content_usage(line.value)
        if usage.train_ai in ("y", "n") and path in (None, "/"):
            statements.append(("content_usage", f"Content-Usage: {line.value}", usage.train_ai == "n", line.line))
    if headers is not None and headers.content_signal:
        said = parse_content_signal(headers.content_signal).ai_train
        if said in ("yes", "no"):
            statements.append(
                ("content_signal", f"Content-Signal header: {headers.content_signal}", said == "no", None)
            )
    if headers is not None and headers.content_usage:
        said = parse_content_usage(headers.content_usage).train_ai
        if said in ("y", "n"):
            statements.append(("content_usage", f"Content-Usage header: {headers.content_usage}", said == "n", None))
    found = []
    for signal, text, says_no, line in statements:
        if says_no and stance == "open":
            detail = f"{text} says no training, but robots.txt lets every training agent fetch everything"
        elif not says_no and stance == "closed":
            detail = f"{text} allows training, but robots.txt disallows every training agent fully"
        else:
            continue
        found.append(_conflict("signals_contradict", detail, signal=signal, line=line))
    return found


def _aitxt_contradictions(verdicts: dict[str, str], agents: Sequence[Agent], aitxt: AiTxt | None) -> list[Conflict]:
    if aitxt is None or not aitxt.robots_style:
        return []
    stance = _training_stance(verdicts, agents)
    if aitxt.disallows_all and stance == "open":
        detail = "ai.txt disallows everything, but robots.txt lets every training agent fetch everything"
    elif not aitxt.disallows_all and not aitxt.partial and stance == "closed":
        detail = "ai.txt allows everything, but robots.txt disallows every training agent fully"
    else:
        return []
    return [_conflict("signals_contradict", detail, signal="ai_txt")]


# -- split by purpose ----------------------------------------------------------------------------


def operator_key(operator: str) -> str:
    """A comparable operator name: ``[OpenAI](https://openai.com)`` and ``OpenAI`` -> ``openai``."""
    text = operator.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    word = re.split(r"[\s/,(]", text.strip(), maxsplit=1)[0].lower().rstrip(".")
    return "" if word in _OPERATOR_SKIP else word


def purpose_splits(verdicts: dict[str, str], agents: Sequence[Agent]) -> list[Conflict]:
    """Per operator: a training agent fully out while a search/user-triggered one is fully in, or the reverse."""
    found = []
    for training, serving in _operator_classes(agents):
        for blocked, allowed in ((training, serving), (serving, training)):
            out = [agent for agent in blocked if verdicts[agent.name] == "full"]
            free = [agent for agent in allowed if verdicts[agent.name] == "none"]
            if out and free:
                found.append(
                    _conflict(
                        "split_by_purpose",
                        f"{_named(out)} fully disallowed, but {_named(free)} may fetch everything",
                        agent=out[0].name,
                    )
                )
    return found


@_per_agent_list
def _operator_classes(agents: Sequence[Agent]) -> list[tuple[list[Agent], list[Agent]]]:
    """Per operator with both: (its training agents, its search and user-triggered agents)."""
    by_operator: dict[str, list[Agent]] = {}
    for agent in agents:
        key = operator_key(agent.operator)
        if key:
            by_operator.setdefault(key, []).append(agent)
    classes = []
    for members in by_operator.values():
        training = [agent for agent in members if agent.purpose == "training"]
        serving = [agent for agent in members if agent.purpose in ("search", "user-triggered")]
        if training and serving:
            classes.append((training, serving))
    return classes


def _named(agents: list[Agent]) -> str:
    return ", ".join(f"{agent.name} ({agent.purpose})" for agent in agents)
