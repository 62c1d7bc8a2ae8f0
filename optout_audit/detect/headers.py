"""Opt-out signals in HTTP response headers.

* ``X-Robots-Tag`` (docs/signals.md): comma-separated directives, optionally scoped to one crawler
  with a ``name:`` prefix (``googlebot: noindex, nofollow``). ``noai`` / ``noimageai`` are the
  AI directives (4.2). Google's ``unavailable_after: <date>`` also holds a colon, so a known
  directive name followed by ``:`` is a directive with a value, never a crawler name.
* ``tdm-reservation`` / ``tdm-policy`` (TDMRep technique 2, docs/signals.md): kept raw; the
  values are judged in :mod:`optout_audit.detect.tdmrep`.
* ``Content-Usage`` (aipref attach, 5.3) and ``Content-Signal`` (6): kept raw; parsed in
  :mod:`optout_audit.detect.preferences`.
* ``Link: <url>; rel="license"`` (RSL HTTP discovery, 7.2).

Header names are case-insensitive and a header may repeat; repeated headers are combined the
way HTTP combines them (a comma-separated list), except the TDMRep pair, where the first counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["HeaderSignals", "bing_ai_directive", "directive_tokens", "parse_headers", "x_robots_directives"]

#: Directives that take a value after a colon; ``name:`` for these is not a crawler prefix.
VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "unavailable-after", "max-snippet", "max-image-preview", "max-video-preview"}
)
ALL_SCOPE = "*"
#: Scopes Bing reads besides "*" (its crawler's names).
BING_SCOPES = ("bingbot", "msnbot")
_TOKEN = re.compile(r"[a-z][a-z0-9_.-]*\Z")
_BOT_NAME = re.compile(r"[a-z0-9_.*-]+\Z")
_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")
_TYPE_PARAM = re.compile(r";\s*type\s*=\s*(?:\"([^\"]*)\"|([^\s;,]+))", re.IGNORECASE)
RSL_MEDIA_TYPE = "application/rsl+xml"
_REL_PARAM = re.compile(r";\s*rel\s*=\s*(?:\"([^\"]*)\"|([^\s;,]+))", re.IGNORECASE)


@dataclass(slots=True)
class HeaderSignals:
    """The opt-out evidence of one response's headers; raw values stripped, None when absent."""

    x_robots_tag: list[str] = field(default_factory=list)
    #: scope (``*`` or a lower-cased crawler name) -> lower-cased directive tokens
    directives: dict[str, set[str]] = field(default_factory=dict)
    noai: bool = False
    noimageai: bool = False
    tdm_reservation: str | None = None
    tdm_policy: str | None = None
    content_usage: str | None = None
    content_signal: str | None = None
    license_links: list[str] = field(default_factory=list)
    rsl_links: list[str] = field(default_factory=list)  # Link rel="license" with type application/rsl+xml
    bing_ai: str = ""  # "nocache" | "noarchive" | "" (bing_ai_directive)


def parse_headers(headers: Iterable[tuple[str, str]]) -> HeaderSignals:
    """Collect the opt-out headers of a response from its ``(name, value)`` pairs."""
    values: dict[str, list[str]] = {}
    for name, value in _pairs(headers):
        values.setdefault(name.strip().lower(), []).append(value.strip())
    x_robots = values.get("x-robots-tag", [])
    directives = x_robots_directives(x_robots)
    return HeaderSignals(
        x_robots_tag=x_robots,
        directives=directives,
        noai=_anywhere("noai", directives),
        noimageai=_anywhere("noimageai", directives),
        tdm_reservation=_first(values.get("tdm-reservation")),
        tdm_policy=_first(values.get("tdm-policy")),
        content_usage=_combined(values.get("content-usage")),
        content_signal=_combined(values.get("content-signal")),
        license_links=[url for value in values.get("link", []) for url in _license_urls(value)],
        rsl_links=[url for value in values.get("link", []) for url in _license_urls(value, RSL_MEDIA_TYPE)],
        bing_ai=bing_ai_directive(set().union(*(directives.get(scope, set()) for scope in (ALL_SCOPE, *BING_SCOPES)))),
    )


def bing_ai_directive(tokens: set[str]) -> str:
    """Bing's reading of ``nocache`` / ``noarchive`` for Bing Chat and training (blogs.bing.com, Sept 2023).

    ``noarchive``: not used in Bing Chat answers nor to train Microsoft's generative AI models;
    ``nocache``: only URL, title and snippet used; both: treated as ``nocache``.

    >>> bing_ai_directive({"noarchive", "nocache"}), bing_ai_directive({"noarchive"}), bing_ai_directive({"noindex"})
    ('nocache', 'noarchive', '')
    """
    if "nocache" in tokens:
        return "nocache"
    return "noarchive" if "noarchive" in tokens else ""


def x_robots_directives(values: list[str]) -> dict[str, set[str]]:
    """Directive tokens per scope for a list of X-Robots-Tag values.

    Each value starts unscoped (``*``); a ``name:`` prefix scopes the rest of that value to
    ``name`` until the next prefix. Valued directives are recorded by name.

    >>> found = x_robots_directives(["noarchive, otherbot: noindex, nofollow"])
    >>> found["*"], sorted(found["otherbot"])
    ({'noarchive'}, ['nofollow', 'noindex'])
    >>> x_robots_directives(["unavailable_after: 25 Jun 2010 15:00:00 PST"])
    {'*': {'unavailable_after'}}
    """
    found: dict[str, set[str]] = {}
    for value in values:
        scope = ALL_SCOPE
        for element in str(value).split(","):
            scope, tokens = _scoped_element(element.strip().lower(), scope)
            if tokens:
                found.setdefault(scope, set()).update(tokens)
    return found


def directive_tokens(text: str) -> list[str]:
    """The directive tokens of one unscoped robots list, e.g. a robots meta ``content``.

    Comma-separated as Google specifies; a space-separated run (``noai noimageai``) is also
    accepted when every word is token-shaped, which keeps dates and prose out.

    >>> directive_tokens("NoIndex, noai noimageai, max-snippet:50")
    ['noindex', 'noai', 'noimageai', 'max-snippet']
    """
    tokens: list[str] = []
    for element in str(text).lower().split(","):
        tokens += _element_tokens(element.strip())
    return tokens


def _scoped_element(element: str, scope: str) -> tuple[str, list[str]]:
    """(scope, tokens) for one comma-separated element, given the scope in force before it."""
    name, sep, rest = element.partition(":")
    name = name.strip()
    if sep and name not in VALUED_DIRECTIVES and _BOT_NAME.match(name):
        scope, element = name, rest.strip()
    return scope, _element_tokens(element)


def _element_tokens(element: str) -> list[str]:
    """Tokens of one element: ``noai``; ``max-snippet: 50`` -> its name; junk -> nothing."""
    name, sep, _ = element.partition(":")
    if sep and name.strip() in VALUED_DIRECTIVES:
        return [name.strip()]
    words = element.split()
    if words and all(_TOKEN.match(word) for word in words):
        return words
    # e.g. "25-Jun-10 15:00:00 PST", the rest of a date after its comma
    return []


def _anywhere(token: str, directives: dict[str, set[str]]) -> bool:
    return any(token in tokens for tokens in directives.values())


def _license_urls(value: str, media_type: str | None = None) -> list[str]:
    """URLs of the ``rel="license"`` link-values of one ``Link`` header (RFC 8288), of ``media_type`` if given."""
    urls: list[str] = []
    for match in _LINK_VALUE.finditer(value):
        rel = _REL_PARAM.search(match.group(2))
        if rel and "license" in (rel.group(1) or rel.group(2) or "").lower().split():
            kind = _TYPE_PARAM.search(match.group(2))
            if media_type is None or (kind and (kind.group(1) or kind.group(2) or "").strip().lower() == media_type):
                urls.append(match.group(1).strip())
    return urls


def _pairs(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs as text; anything that is not a pair is skipped, bytes decoded as Latin-1."""
    pairs: list[tuple[str, str]] = []
    try:
        for pair in headers:
            if isinstance(pair, (tuple, list)) and len(pair) == 2:
                pairs.append((_text(pair[0]), _text(pair[1])))
    except TypeError:  # not iterable: no headers
        return []
    return pairs


def _text(value: object) -> str:
    # HTTP field values are octets; Latin-1 keeps every one of them (RFC 9110 5.5).
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else str(value)


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _combined(values: list[str] | None) -> str | None:
    # RFC 9110 5.3: repeated fields combine into one comma-separated value.
    return ", ".join(values) if values else None
