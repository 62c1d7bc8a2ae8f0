"""Opt-out signals in an HTML document's ``<head>``.

* Robots meta tags (docs/signals.md): ``<meta name="robots" content="noai, noimageai">``, the same
  addressed to one crawler (``googlebot``, ``GPTBot`` ...), and the stand-alone forms
  ``<meta name="noai">`` / ``<meta name="noimageai">`` seen in the wild (4.3).
* TDMRep technique 3 (3.4): ``<meta name="tdm-reservation">`` and ``<meta name="tdm-policy">``,
  kept raw for :mod:`optout_audit.detect.tdmrep` to judge.
* ``<link rel="license" href=...>`` and inline ``<script type="application/rsl+xml">`` (RSL HTML
  discovery, 7.2).

The head is found by parsing the document's structure, not by searching for markers: lxml's
incremental HTML parser (libxml2, which recovers from any markup) is fed the document a chunk at a
time and stopped at the element that starts the body, so ``<body`` inside a comment, a script, a
style or a CDATA section does not end the head, a 100 KB page costs little more than its head, and
a head may run up to the page cap (:data:`MAX_DOCUMENT_BYTES`). libxml2 reads ``<![CDATA[`` in
HTML as the start of body content; the section is handed to it as a processing instruction,
which it skips, as XHTML-minded authors mean it. Names and contents are case-insensitive.

Decoding follows the HTML order of precedence, simplified: a byte-order mark, then the
transport ``encoding``, then a ``charset`` in a meta tag, then UTF-8, then windows-1252.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from optout_audit.detect.headers import bing_ai_directive, directive_tokens

__all__ = ["HtmlSignals", "crawler_names", "parse_html_head"]

#: The page cap of a home page download: a head may be this long.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
#: Bytes searched for a ``<meta charset>`` when neither a BOM nor the transport names one.
MAX_CHARSET_SCAN_BYTES = 1024 * 1024
#: Bytes fed to the parser first, and how the next chunks grow: most heads end in the first
#: few KB, and every byte fed past the head's end is parsed for nothing.
_FIRST_CHUNK_BYTES = 4 * 1024
_CHUNK_GROWTH = 4
_MAX_CHUNK_BYTES = 256 * 1024
RSL_MEDIA_TYPE = "application/rsl+xml"
#: Largest inline RSL document kept.
MAX_INLINE_RSL_CHARS = 256 * 1024
AI_DIRECTIVES = ("noai", "noimageai")
#: Meta names Bing reads nocache / noarchive from.
_BING_NAMES = frozenset({"robots", "bingbot", "msnbot"})
#: Crawler names used in robots meta tags that do not end in "bot" (Google, Bing, Yahoo, Yandex ...).
_CRAWLER_NAMES = frozenset(
    {
        "robots", "googlebot-news", "googlebot-image", "googlebot-video", "google-extended",
        "adsbot-google", "mediapartners-google", "storebot-google", "slurp", "baiduspider",
        "yandex", "teoma", "ia_archiver", "msnbot-media",
    }
)  # fmt: skip
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_HEAD_END = re.compile(r"</head|<body", re.IGNORECASE)
_HEAD_END_BYTES = re.compile(rb"</head|<body", re.IGNORECASE)
#: Candidate head ends tried by the fast path before the incremental parse takes over.
_MARKER_TRIES = 3
_SENTINEL_NAME = "optout-audit-head-end"
_SENTINEL = f'<meta name="{_SENTINEL_NAME}">'
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([-\w.:]+)", re.IGNORECASE)
# The HTML Encoding standard reads these labels as windows-1252.
_LABEL_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                  "ascii": "cp1252"}  # fmt: skip


@dataclass(slots=True)
class HtmlSignals:
    """The opt-out evidence of one HTML head."""

    #: every named meta tag: {"name": lower-cased name, "content": content as written}
    meta: list[dict[str, str]] = field(default_factory=list)
    noai: bool = False
    noimageai: bool = False
    noai_sources: list[str] = field(default_factory=list)  # "meta:robots", "meta:noai" ...
    tdm_reservation: str | None = None  # first tdm-reservation meta, stripped
    tdm_policy: str | None = None
    license_links: list[str] = field(default_factory=list)
    #: hrefs of ``<link rel="license" type="application/rsl+xml">`` (also in license_links)
    rsl_links: list[str] = field(default_factory=list)
    #: texts of inline ``<script type="application/rsl+xml">`` in the head
    rsl_scripts: list[str] = field(default_factory=list)
    bing_ai: str = ""  # "nocache" | "noarchive" | "" from robots/bingbot/msnbot metas (Bing's rule)


def crawler_names(agents: Iterable[object]) -> frozenset[str]:
    """The lower-cased names of ``agents`` (objects with a ``name``, or names), for :func:`parse_html_head`.

    A meta tag named after one of them addresses crawlers. The answer for the last sequence asked
    about is kept: a run hands the same agent list for every site.
    """
    if agents is _last_agents[0]:
        return _last_agents[1]
    names = (getattr(agent, "name", agent) for agent in agents)
    found = frozenset(name.strip().lower() for name in names if isinstance(name, str))
    if isinstance(agents, tuple):  # immutable: safe to answer from memory next time
        _last_agents[:] = [agents, found]
    return found


_last_agents: list = [None, frozenset()]


def parse_html_head(body: bytes, encoding: str | None = None, *, agent_names: frozenset[str]) -> HtmlSignals:
    """Read the opt-out meta and link tags of an HTML document; ``encoding`` is the HTTP charset.

    ``agent_names`` (see :func:`crawler_names`): lower-cased names of the AI agents audited; a
    ``<meta name="GPTBot" content="noai">`` counts as a robots meta for them.
    """
    metas, links, scripts = _head_elements(body, encoding)
    meta = [_meta_entry(tag) for tag in metas if tag.get("name") is not None]
    signals = HtmlSignals(meta=meta, license_links=_license_links(links))
    signals.rsl_links = _license_links(links, RSL_MEDIA_TYPE)
    signals.rsl_scripts = [text[:MAX_INLINE_RSL_CHARS] for text in scripts]
    for entry in meta:
        _read_ai_directives(entry, signals, agent_names)
    signals.tdm_reservation = _first_content(meta, "tdm-reservation")
    signals.tdm_policy = _first_content(meta, "tdm-policy")
    bing_tokens = {token for e in meta if e["name"] in _BING_NAMES for token in directive_tokens(e["content"])}
    signals.bing_ai = bing_ai_directive(bing_tokens)
    return signals


Elements = tuple[list[etree._Element], list[etree._Element], list[str]]


def _head_elements(body: bytes | str, encoding: str | None) -> Elements:
    """The head's ``<meta>`` and ``<link>`` elements, and its inline RSL scripts' texts, in document order."""
    if isinstance(body, str):
        return _parse_head(iter([body[:MAX_DOCUMENT_BYTES]]))
    if not isinstance(body, (bytes, bytearray, memoryview)):
        return [], [], []
    data = bytes(body[:MAX_DOCUMENT_BYTES])
    codec = None
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            data, codec = data[len(bom) :], bom_codec
            break
    codec = codec or _usable_codec(encoding) or _declared_codec(data[:MAX_CHARSET_SCAN_BYTES])
    if codec:
        try:
            return _head_at_marker(data, codec, "replace") or _parse_head(_decoded_chunks(data, codec, "replace"))
        except (UnicodeError, ValueError, TypeError, AssertionError):  # a codec misbehaving mid-document
            return _parse_head(_decoded_chunks(data, "utf-8", "replace"))
    try:  # no charset anywhere: UTF-8 if the document is UTF-8, else windows-1252
        return _head_at_marker(data, "utf-8", "strict") or _parse_head(_decoded_chunks(data, "utf-8", "strict"))
    except UnicodeDecodeError:
        return _head_at_marker(data, "cp1252", "replace") or _parse_head(_decoded_chunks(data, "cp1252", "replace"))


def _head_at_marker(data: bytes, codec: str, errors: str) -> Elements | None:
    """The head's elements when one of the first ``</head>`` / ``<body>`` in ``data`` really ends it.

    The fast path for the usual page. A marker is only a candidate: the document up to it is
    parsed with a sentinel ``<meta>`` after it, and the marker ended the head exactly when the
    parser puts the sentinel outside the head (inside a comment, a script, a style, a CDATA
    section or an attribute it stays in the head or vanishes into text). None when no candidate
    among the first few is real: the incremental parse then reads the document.
    """
    if not _ascii_compatible(codec):
        return None
    for tries, marker in enumerate(_HEAD_END_BYTES.finditer(data)):
        close = data.find(b">", marker.end())
        if close < 0 or tries == _MARKER_TRIES:
            return None
        found = _head_before_sentinel(data[: close + 1].decode(codec, errors))
        if found is not None:
            return found
    return None


def _head_before_sentinel(prefix: str) -> Elements | None:
    text = _CdataAsInstruction().rewrite(prefix) + _SENTINEL
    parser = etree.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True, default_doctype=False
    )
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    sentinel = next((m for m in root.iter("meta") if m.get("name") == _SENTINEL_NAME), None)
    if sentinel is None or _in_head(sentinel):
        return None
    metas: list[etree._Element] = []
    links: list[etree._Element] = []
    scripts: list[str] = []
    for head in root.iter("head"):
        for element in head.iter("meta", "link", "script"):
            if element.tag == "meta":
                metas.append(element)
            elif element.tag == "link":
                links.append(element)
            elif _attribute(element, "type").strip().lower() == RSL_MEDIA_TYPE:
                scripts.append(element.text or "")
    return metas, links, scripts


def _decoded_chunks(data: bytes, codec: str, errors: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(codec)(errors)
    start, size = 0, _FIRST_CHUNK_BYTES
    while True:
        end = start + size
        yield decoder.decode(data[start:end], final=end >= len(data))
        if end >= len(data):
            return
        start, size = end, min(size * _CHUNK_GROWTH, _MAX_CHUNK_BYTES)


def _parse_head(chunks: Iterator[str]) -> Elements:
    """Feed ``chunks`` to the parser until the body starts; collect the head's elements."""
    parser = etree.HTMLPullParser(
        events=("start", "end"), no_network=True, remove_comments=True, remove_pis=True, default_doctype=False
    )
    metas: list[etree._Element] = []
    links: list[etree._Element] = []
    scripts: list[etree._Element] = []
    cdata = _CdataAsInstruction()
    try:
        for chunk in chunks:
            if _feed(parser, cdata.rewrite(chunk), metas, links, scripts):
                break
        else:
            parser.close()
            _read_events(parser, metas, links, scripts)
    except UnicodeDecodeError:  # strict UTF-8 was a guess, and a wrong one: the caller tries windows-1252
        raise
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # nothing parseable (any more)
        _read_events(parser, metas, links, scripts)
    # A script's text is there once its end tag was parsed, which the body's start implies.
    return metas, links, [script.text or "" for script in scripts]


def _feed(parser: etree.HTMLPullParser, text: str, metas: list, links: list, scripts: list) -> bool:
    """Feed ``text``, in pieces ending where the head may end; True once it has ended.

    Each ``</head>`` or ``<body>`` in the text is only a place to look: the parser, fed up to it,
    says whether it ended the head or sat in a comment, a script, a style or an attribute.
    Stopping there keeps the cost of a page the cost of its head.
    """
    position = 0
    for marker in _HEAD_END.finditer(text):
        if marker.start() < position:
            continue
        close = text.find(">", marker.end())
        if close < 0:
            break
        parser.feed(text[position : close + 1])
        position = close + 1
        if _read_events(parser, metas, links, scripts):
            return True
    parser.feed(text[position:])
    return _read_events(parser, metas, links, scripts)


def _read_events(parser: etree.HTMLPullParser, metas: list, links: list, scripts: list) -> bool:
    """Collect from the parser's pending events; True once the head has ended or the body started."""
    for event, element in parser.read_events():
        tag = element.tag
        if event == "end":
            if tag == "head":
                return True
            continue
        if tag == "body":
            return True
        if tag == "meta" or tag == "link" or tag == "script":
            if not _in_head(element):
                continue
            if tag == "meta":
                metas.append(element)
            elif tag == "link":
                links.append(element)
            elif _attribute(element, "type").strip().lower() == RSL_MEDIA_TYPE:
                scripts.append(element)
    return False


def _in_head(element: etree._Element) -> bool:
    return any(ancestor.tag == "head" for ancestor in element.iterancestors())


class _CdataAsInstruction:
    """Rewrites ``<![CDATA[ ... ]]>`` as ``<?cdata ... ?>`` (its ``>`` blanked) across chunk borders."""

    _OPEN, _CLOSE = "<![CDATA[", "]]>"

    def __init__(self) -> None:
        self.inside = False
        self.carry = ""

    def rewrite(self, text: str) -> str:
        text, self.carry = self.carry + text, ""
        if "<![" not in text and not self.inside:
            return self._keep_tail(text, self._OPEN)
        out: list[str] = []
        position = 0
        while True:
            marker = self._CLOSE if self.inside else self._OPEN
            found = text.find(marker, position)
            if found < 0:
                rest = self._keep_tail(text[position:], marker)
                out.append(rest.replace(">", " ") if self.inside else rest)
                return "".join(out)
            piece = text[position:found]
            out.append(piece.replace(">", " ") + "?>" if self.inside else piece + "<?cdata ")
            position = found + len(marker)
            self.inside = not self.inside

    def _keep_tail(self, text: str, marker: str) -> str:
        """``text`` less a final part that may begin ``marker``, kept for the next chunk."""
        if marker[0] not in text[1 - len(marker) :]:
            return text
        for size in range(min(len(marker) - 1, len(text)), 0, -1):
            if marker.startswith(text[-size:]):
                self.carry = text[-size:]
                return text[:-size]
        return text


def _read_ai_directives(entry: dict[str, str], signals: HtmlSignals, agent_names: frozenset[str]) -> None:
    """Set noai/noimageai (and their source) from one meta entry."""
    name = entry["name"]
    if name in AI_DIRECTIVES:
        found = {name}  # <meta name="noai" content="...">: the name is the statement
    elif _is_robots_name(name, agent_names):
        found = set(directive_tokens(entry["content"])) & set(AI_DIRECTIVES)
    else:
        return
    signals.noai = signals.noai or "noai" in found
    signals.noimageai = signals.noimageai or "noimageai" in found
    source = f"meta:{name}"
    if found and source not in signals.noai_sources:
        signals.noai_sources.append(source)


def _is_robots_name(name: str, agent_names: frozenset[str]) -> bool:
    """Does a meta of this name address crawlers (``robots`` or a crawler's own name)?"""
    return name in _CRAWLER_NAMES or name.endswith("bot") or name in agent_names


def _meta_entry(tag: etree._Element) -> dict[str, str]:
    return {"name": _attribute(tag, "name").strip().lower(), "content": _attribute(tag, "content")}


def _attribute(tag: etree._Element, name: str) -> str:
    value = tag.get(name)
    return value if isinstance(value, str) else ""


def _first_content(meta: list[dict[str, str]], name: str) -> str | None:
    return next((entry["content"].strip() for entry in meta if entry["name"] == name), None)


def _license_links(tags: list[etree._Element], media_type: str | None = None) -> list[str]:
    links: list[str] = []
    for tag in tags:
        rels = _attribute(tag, "rel").lower().split()
        href = _attribute(tag, "href").strip()
        type_ok = media_type is None or _attribute(tag, "type").split(";")[0].strip().lower() == media_type
        if "license" in rels and href and type_ok:
            links.append(href)
    return links


# -- bytes to head text -----------------------------------------------------------------------


def _declared_codec(data: bytes) -> str | None:
    declared = _META_CHARSET.search(data)
    codec = _usable_codec(declared.group(1).decode("ascii", "replace")) if declared else None
    # A document that declares UTF-16 in readable ASCII is not UTF-16: HTML reads it as UTF-8.
    return "utf-8" if codec and not _ascii_compatible(codec) else codec


def _usable_codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when Python cannot decode with it."""
    if not label or not isinstance(label, str):
        return None
    return _codec_for(label)


@lru_cache(maxsize=256)
def _codec_for(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    label = _LABEL_ALIASES.get(label, label)
    try:
        if not codecs.lookup(label)._is_text_encoding:  # e.g. "hex": bytes to bytes
            return None
        # Decoded a chunk at a time, replacing bad bytes: "idna", for one, supports neither.
        codecs.getincrementaldecoder(label)("replace").decode(b"a", final=True)
    except (LookupError, UnicodeError, ValueError, TypeError, AssertionError):
        return None
    return label


def _ascii_compatible(codec: str) -> bool:
    try:
        return "</head<body".encode(codec) == b"</head<body"
    except (LookupError, UnicodeError, ValueError):
        return False
