"""``/llms.txt`` (llmstxt.org, AnswerDotAI/llms-txt): presence, size, and the links it gives.

Spec: https://llmstxt.org/ (Jeremy Howard, 2024-09-03): a Markdown file whose only required
element is an H1 title, then an optional blockquote summary and H2 sections of
``- [name](url): notes`` links. It grants or reserves nothing. What the audit wants from it: the
links it hands to AI systems that lead into paths robots.txt disallows to AI agents, a
contradiction a site owner wants to know about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from optout_audit.detect.robots import RobotsTxt, path_of

__all__ = ["MAX_LLMSTXT_BYTES", "LlmsTxt", "disallowed_links", "parse_llmstxt"]

MAX_LLMSTXT_BYTES = 1024 * 1024
MAX_LINKS = 1000
_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_START = re.compile(r"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)


@dataclass(slots=True)
class LlmsTxt:
    """An llms.txt: ``markdown`` False for an HTML page or a file without an H1 title."""

    size: int = 0
    markdown: bool = False
    title: str = ""
    links: list[str] = field(default_factory=list)  # absolute URLs, in file order, distinct


def parse_llmstxt(body: bytes, base_url: str) -> LlmsTxt:
    """Read an llms.txt served at ``base_url``; relative links are resolved against it. Never raises."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        return LlmsTxt()
    text = bytes(body[:MAX_LLMSTXT_BYTES]).decode("utf-8", "replace").lstrip("\ufeff")
    found = LlmsTxt(size=len(body))
    if _HTML_START.match(text):
        return found
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), "")
    found.title, found.markdown = title[:200], bool(title)
    seen: set[str] = set()
    for match in _LINK.finditer(text):
        try:
            url = urljoin(base_url, match.group(2))
        except ValueError:
            continue
        if url not in seen and urlsplit(url).scheme in ("http", "https"):
            seen.add(url)
            found.links.append(url)
            if len(found.links) == MAX_LINKS:
                break
    return found


def disallowed_links(llms: LlmsTxt, robots: RobotsTxt | None, origin: str, agents: Iterable[str]) -> list[dict]:
    """Links of ``llms`` on ``origin`` that robots.txt disallows to some of ``agents``.

    ``[{"url", "agents": [names]}]``: the site asks AI systems to read pages it bars them from.
    """
    if robots is None:
        return []
    site = urlsplit(origin)
    keys = {name: robots.groups_key(name) for name in agents}
    # One decision per link for each set of groups the agents fall to (ai.robots.txt's list puts
    # a hundred agents in one group), not one per agent.
    deciders = {key: name for name, key in reversed(keys.items())}
    found = []
    for url in llms.links:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != (site.scheme, site.netloc.lower()):
            continue
        path = path_of(url)
        barred = {key for key, name in deciders.items() if not robots.decide(path, name).allowed}
        if barred:
            found.append({"url": url, "agents": [name for name, key in keys.items() if key in barred]})
    return found
