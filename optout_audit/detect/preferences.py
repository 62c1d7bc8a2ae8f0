"""AI usage preferences: IETF aipref ``Content-Usage`` and Cloudflare ``Content-Signal``.

``Content-Usage`` (docs/signals.md) is an RFC 9651 Structured Fields Dictionary processed as
``draft-ietf-aipref-vocab-07`` says: for each label of the current vocabulary (``train-ai``,
``search``) the value counts only if it is the Token ``y`` or ``n``; anything else (a boolean,
the string ``"n"``, the token ``no``) is unknown, and a value that does not parse as a
Dictionary makes *every* preference unknown. The same value appears as an HTTP header and,
with an optional leading path, as a robots.txt rule (``draft-ietf-aipref-attach-05``).

``Content-Signal`` (docs/signals.md) is Cloudflare's robots.txt line ``search=yes, ai-train=no``.
It is not a Structured Field and uses other keys and values, so it has its own lenient parser.

Not done here: combining several statements, path selection among robots.txt rules, and
deciding what ``unknown`` means. Those belong to the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import http_sf

__all__ = [
    "AIPREF_LABELS",
    "ContentSignal",
    "ContentUsage",
    "parse_content_signal",
    "parse_content_usage",
    "parse_robots_content_usage",
]

#: The labels of the current vocabulary (vocab-07); every other label is ignored by processing.
AIPREF_LABELS = ("train-ai", "search")
_PREFERENCE_TOKENS = ("y", "n")


@dataclass(slots=True)
class ContentUsage:
    """One ``Content-Usage`` value as the aipref vocabulary reads it.

    ``prefs`` maps a label of :data:`AIPREF_LABELS` to ``"y"`` or ``"n"``; a label left out is
    unknown. ``unknown_labels`` lists the other labels present (``ai``, ``train-genai``, ``all``,
    ``bots`` from older drafts, typos ...): processing ignores them, the audit keeps them as
    evidence of intent. ``valid`` is False when the value is not a Structured Fields Dictionary.
    """

    raw: str
    valid: bool
    prefs: dict[str, str] = field(default_factory=dict)
    unknown_labels: list[str] = field(default_factory=list)

    @property
    def train_ai(self) -> str | None:
        """``"y"``, ``"n"`` or None (unknown) for the ``train-ai`` category."""
        return self.prefs.get("train-ai")


@dataclass(slots=True)
class ContentSignal:
    """One ``Content-Signal`` value: lower-cased ``key -> value`` pairs, e.g. ``{"ai-train": "no"}``."""

    raw: str
    signals: dict[str, str] = field(default_factory=dict)

    @property
    def ai_train(self) -> str | None:
        """The ``ai-train`` value as written (lower-cased), normally ``"yes"`` or ``"no"``."""
        return self.signals.get("ai-train")


def parse_content_usage(value: str) -> ContentUsage:
    """Read a ``Content-Usage`` header value (or the preference part of a robots.txt rule).

    >>> parse_content_usage("train-ai=n, search=y").prefs
    {'train-ai': 'n', 'search': 'y'}
    >>> parse_content_usage("Train-AI=n").valid      # upper-case key: not a Dictionary
    False
    >>> parse_content_usage("train-ai=y, train-ai").prefs   # last duplicate wins: boolean true
    {}
    """
    text = value if isinstance(value, str) else str(value)
    dictionary = _sf_dictionary(text)
    if dictionary is None:
        return ContentUsage(raw=text, valid=False)
    prefs: dict[str, str] = {}
    unknown: list[str] = []
    for label, member in dictionary.items():
        if label not in AIPREF_LABELS:
            unknown.append(label)
            continue
        preference = _preference(member)
        if preference is not None:
            prefs[label] = preference
    return ContentUsage(raw=text, valid=True, prefs=prefs, unknown_labels=unknown)


def parse_robots_content_usage(value: str) -> tuple[str | None, ContentUsage]:
    """Split a robots.txt ``Content-Usage`` rule value into its optional path and its preference.

    A value starting with ``/`` carries a path up to the first space or tab (attach-05 3.2);
    otherwise the whole value applies to every path of the group (path None).

    >>> path, usage = parse_robots_content_usage("/ai-ok/ train-ai=y")
    >>> path, usage.prefs
    ('/ai-ok/', {'train-ai': 'y'})
    """
    text = (value if isinstance(value, str) else str(value)).strip(" \t")
    if not text.startswith("/"):
        return None, parse_content_usage(text)
    end = _first_blank(text)
    if end < 0:
        # The grammar requires a preference after the path; a bare path states nothing.
        return text, ContentUsage(raw="", valid=False)
    return text[:end], parse_content_usage(text[end:].strip(" \t"))


def parse_content_signal(value: str) -> ContentSignal:
    """Read ``search=yes, ai-train=no`` leniently: pairs without ``=`` are skipped, last key wins.

    >>> parse_content_signal("Search=Yes,ai-train=no").signals
    {'search': 'yes', 'ai-train': 'no'}
    """
    text = value if isinstance(value, str) else str(value)
    signals: dict[str, str] = {}
    for pair in text.split(","):
        key, sep, signal = pair.partition("=")
        key = key.strip().lower()
        if sep and key:
            signals[key] = signal.strip().lower()
    return ContentSignal(raw=text, signals=signals)


def _sf_dictionary(text: str) -> dict[str, object] | None:
    """The parsed Dictionary, or None when ``text`` is not one (RFC 9651 4.2)."""
    try:
        # RFC 9651 4.2: input that is not ASCII fails parsing; HTTP has already stripped OWS.
        data = text.strip(" \t").encode("ascii")
    except UnicodeEncodeError:
        return None
    try:
        parsed = http_sf.parse(data, tltype="dictionary")
    except http_sf.StructuredFieldError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _preference(member: object) -> str | None:
    """``"y"``/``"n"`` for a Token member (parameters ignored); None for anything else."""
    # A member is (value, parameters). Compare the type: a quoted string "n" also equals "n".
    item = member[0] if isinstance(member, tuple) and member else None
    if isinstance(item, http_sf.Token) and str(item) in _PREFERENCE_TOKENS:
        return str(item)
    return None


def _first_blank(text: str) -> int:
    positions = [p for p in (text.find(" "), text.find("\t")) if p >= 0]
    return min(positions) if positions else -1
