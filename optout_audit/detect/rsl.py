"""RSL 1.0 (Really Simple Licensing) licence documents: what they permit, prohibit and charge for.

Spec: RSL-SPEC-1.0, https://rslstandard.org/rsl (Recommendation, 2025-11-06; errata at
/rsl/errata), file formats at https://rslstandard.org/guide/file-format (docs/signals.md).

* ``<rsl xmlns="https://rslstandard.org/rsl">`` holds ``<content url=... [server=...]>`` elements;
  ``url`` is a full URL or a path pattern matched as RFC 9309 matches (``*``, final ``$``).
  A ``server`` attribute means a licence must be obtained from that server, even a free one.
* ``<license>`` holds ``<permits type="usage|user|geo">`` and ``<prohibits ...>`` with comma
  lists (usage: ``all, ai-all, ai-train, ai-input, ai-index, search``), and ``<payment type=...>``
  (``purchase, subscription, training, crawl, use, inference, contribution, attribution, free``)
  with an optional ``<amount currency=...>``.
* A prohibition wins over a permission of the same use.

For the verdict: a content whose licence prohibits ``ai-train`` (or ``ai-all``, ``all``) reserves
training for its paths; one that permits training against payment, or only through a licence
server, makes training ``licence_required`` there. Contents compete for a path as robots.txt rules
do (longest pattern; a prohibition wins a tie), see :func:`training_extent`.

The XML is parsed by lxml without entities, DTDs or network access, after a size cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree

from optout_audit.detect.patterns import reserved_extent
from optout_audit.detect.robots import escape_pattern

__all__ = ["MAX_RSL_BYTES", "RslContent", "RslDocument", "parse_rsl", "training_extent"]

RSL_NAMESPACE = "https://rslstandard.org/rsl"
#: Largest licence document parsed (a protocol file, like tdmrep.json).
MAX_RSL_BYTES = 512 * 1024
TRAINING_USES = frozenset({"ai-train", "ai-all", "all"})
#: Payment types that cost nothing: anything else is a licence to obtain against payment.
FREE_PAYMENTS = frozenset({"free", "attribution"})


@dataclass(slots=True)
class RslContent:
    """One ``<content>``: its scope, and its licence terms (types -> lower-cased tokens)."""

    url: str
    server: str = ""
    permits: dict[str, list[str]] = field(default_factory=dict)
    prohibits: dict[str, list[str]] = field(default_factory=dict)
    payments: list[dict[str, str]] = field(default_factory=list)  # {"type", "amount", "currency"}

    @property
    def training(self) -> str:
        """``prohibited``, ``licence_required``, ``permitted`` or ``""`` (the licence says nothing of it)."""
        usage_prohibited = set(self.prohibits.get("usage", ()))
        if usage_prohibited & TRAINING_USES:
            return "prohibited"  # a prohibition wins over a permission
        permitted = set(self.permits.get("usage", ()))
        if "usage" in self.permits and not permitted & TRAINING_USES:
            return ""  # a list of permitted uses that leaves training out grants nothing for it
        paid = any(payment["type"] not in FREE_PAYMENTS for payment in self.payments)
        if self.server or paid:
            return "licence_required"
        return "permitted" if permitted & TRAINING_USES else ""


@dataclass(slots=True)
class RslDocument:
    """A parsed licence document. ``valid`` False (with ``error``) means it states nothing usable."""

    valid: bool
    error: str = ""
    namespace_ok: bool = False
    contents: list[RslContent] = field(default_factory=list)


def parse_rsl(body: bytes | str) -> RslDocument:
    """Read an RSL licence document (a file, or the text of an inline script); never raises."""
    data = body.encode("utf-8", "replace") if isinstance(body, str) else body
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return RslDocument(valid=False, error="not a document")
    if len(data) > MAX_RSL_BYTES:
        return RslDocument(valid=False, error=f"larger than {MAX_RSL_BYTES} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(bytes(data).strip(), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return RslDocument(valid=False, error=f"not XML ({str(exc)[:80]})")
    if root is None or _local(root) != "rsl":
        return RslDocument(valid=False, error="no <rsl> root element")
    document = RslDocument(valid=True, namespace_ok=etree.QName(root).namespace == RSL_NAMESPACE)
    document.contents = [_content(element) for element in root if _local(element) == "content"]
    if not document.contents:
        document.valid, document.error = False, "no <content> element"
    return document


def training_extent(document: RslDocument | None, origin: str) -> dict[str, str]:
    """How much of the site at ``origin`` (``scheme://host[:port]``) each kind of training term covers.

    ``{"prohibited": extent, "licence_required": extent}`` with extents ``all``, ``part`` or ``""``.
    Contents for another origin count nothing.
    """
    extents = {"prohibited": "", "licence_required": ""}
    if document is None or not document.valid:
        return extents
    scoped = [
        (pattern, content.training)
        for content in document.contents
        if (pattern := _scope(content.url, origin)) is not None
    ]
    for kind in extents:
        rules = [(pattern, training == kind) for pattern, training in scoped]
        extents[kind] = reserved_extent(rules, ties_reserve=True)
    return extents


def _content(element: etree._Element) -> RslContent:
    content = RslContent(url=(element.get("url") or "").strip(), server=(element.get("server") or "").strip())
    for licence in (child for child in element if _local(child) == "license"):
        for term in licence:
            name = _local(term)
            if name in ("permits", "prohibits"):
                kind = (term.get("type") or "usage").strip().lower()
                tokens = [token.strip().lower() for token in (term.text or "").split(",") if token.strip()]
                getattr(content, name).setdefault(kind, []).extend(tokens)
            elif name == "payment":
                amount = next((child for child in term if _local(child) == "amount"), None)
                content.payments.append(
                    {
                        "type": (term.get("type") or "free").strip().lower(),
                        "amount": (amount.text or "").strip() if amount is not None else "",
                        "currency": (amount.get("currency") or "") if amount is not None else "",
                    }
                )
    return content


def _scope(url: str, origin: str) -> bytes | None:
    """The path pattern of a ``content url`` on ``origin``; None when it names another origin."""
    if not url:
        return None
    if url.startswith(("/", "*")):
        return escape_pattern(url.encode("utf-8", "replace"))
    parts = urlsplit(url)
    site = urlsplit(origin)
    if (parts.scheme, parts.netloc.lower()) != (site.scheme, site.netloc.lower()):
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return escape_pattern(path.encode("utf-8", "replace"))


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""
