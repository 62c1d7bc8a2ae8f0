"""Spawning ``/ai.txt``: robots.txt grammar saying which files may be used for AI training.

docs/signals.md. Spawning's generator writes a ``User-Agent: *`` group of ``Disallow`` lines,
mostly file-type wildcards (``Disallow: *.jpg``) and sometimes ``Disallow: /``; ``Allow`` lines
mean "may be used". The file is read with the project's robots.txt parser, so ``*.jpg``
(a pattern without a leading slash) matches as Google would match it.

Other, unrelated files are also served as ``/ai.txt`` (Markdown notes for AI assistants,
HTML catch-all pages); only a file with a user-agent group holding a rule is a Spawning file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optout_audit.detect.robots import RobotsTxt

__all__ = ["AiTxt", "parse_aitxt"]

# An agent no group can name: it gets exactly what the "*" group says.
_UNNAMED_AGENT = "\0unnamed-agent"


@dataclass(slots=True)
class AiTxt:
    """What an ai.txt says. ``disallowed`` holds its Disallow lines as written, in file order."""

    robots_style: bool = False
    disallows_all: bool = False  # the "*" group disallows both "/" and a deep page
    partial: bool = False  # some Disallow takes effect, but not everything is disallowed
    disallowed: list[str] = field(default_factory=list)


def parse_aitxt(body: bytes) -> AiTxt:
    """Read an ``/ai.txt`` body; never raises.

    >>> ai = parse_aitxt(b"User-Agent: *\\nDisallow: *.jpg\\nDisallow: *.png\\n")
    >>> ai.robots_style, ai.disallows_all, ai.partial, ai.disallowed
    (True, False, True, ['Disallow: *.jpg', 'Disallow: *.png'])
    """
    robots = RobotsTxt.parse(_as_bytes(body))
    if not any(group.rules for group in robots.groups):
        return AiTxt()
    disallows_all = robots.blocks_all()
    return AiTxt(
        robots_style=True,
        disallows_all=disallows_all,
        partial=not disallows_all and _some_disallow_applies(robots),
        disallowed=[rule.raw for group in robots.groups for rule in group.rules if not rule.allow],
    )


def _some_disallow_applies(robots: RobotsTxt) -> bool:
    """Does any group (the "*" one or a named one) leave some path disallowed to its agents?"""
    agents = [_UNNAMED_AGENT] + [min(group.names) for group in robots.groups if group.names]
    return any(robots.verdict(agent).verdict != "none" for agent in agents)


def _as_bytes(body: object) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    # RobotsTxt.parse encodes str with surrogateescape, which refuses other lone surrogates.
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else b""
