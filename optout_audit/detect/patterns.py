"""Coverage between robots.txt-style path patterns: does one pattern match every path another matches?

The pattern language is RFC 9309's as Google reads it, also used by TDMRep locations, Content-Usage
paths and ai.txt: a pattern matches a path from its first octet, ``*`` matches any run of octets, a
final ``$`` anchors the end (elsewhere ``$`` is literal), and an unanchored pattern matches every
path that starts with what it matches. Paths start with ``/``.

Why coverage is decidable this simply: read a pattern as a glob (an unanchored pattern is the glob
``pattern*``). For globs whose only wildcard is ``*``, ``A`` matches every string ``P`` matches
exactly when ``A`` matches ``P`` *itself* with each of ``P``'s ``*`` replaced by a letter that
``A`` does not contain: the literals of ``A`` cannot match that letter, so in any match it falls
inside one of ``A``'s stars, which would match any string there as well. The same word is
therefore a witness: when no earlier pattern covers ``P``, the word matches ``P`` and none of them,
so "covered by the union of earlier patterns" is "covered by one of them".

Paths start with ``/``, so a pattern starting with ``*`` is split first: ``*X`` matches the paths
of ``/*X`` and, when ``X`` starts with ``/``, those of ``X``. A pattern starting with anything
else matches no path at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

__all__ = ["covers", "covers_every_path", "reserved_extent", "uncovered_path"]

#: Letters a witness path may use for the pattern's wildcards: unreserved, so a path keeps them as is.
_WITNESS_LETTERS = b"qzjxkvwyfgpbmhucdlnrtsoiea0123456789QZJXKVWYFGPBMHUCDLNRTSOIEA-._~"
#: Stands for one of P's stars while A is matched against P: no octet equals it.
_STAR = "\u0100"
_EVERY_PATH = b"/"


def _glob(pattern: bytes) -> bytes:
    """The pattern as an anchored glob: unanchored patterns get a final ``*``; runs of ``*`` collapse."""
    anchored = pattern.endswith(b"$")
    body = pattern[:-1] if anchored else pattern + b"*"
    return re.sub(rb"\*+", b"*", body)


def _path_globs(pattern: bytes) -> list[bytes]:
    """Globs that match, together, exactly the paths (strings starting with ``/``) ``pattern`` matches."""
    glob = _glob(pattern)
    pieces: list[bytes] = []
    while glob.startswith(b"*"):
        pieces.append(b"/" + glob)
        glob = glob[1:]
    if glob.startswith(b"/"):
        pieces.append(glob)
    return pieces


@lru_cache(maxsize=4096)
def _matcher(pattern: bytes) -> re.Pattern[str]:
    """A regex for ``pattern``'s glob over latin-1 text, whose ``.*`` also matches :data:`_STAR`."""
    text = _glob(pattern).decode("latin-1")
    return re.compile(".*".join(re.escape(piece) for piece in text.split("*")), re.DOTALL)


def _star_word(glob: bytes) -> str:
    return glob.decode("latin-1").replace("*", _STAR)


def covers(earlier: bytes, pattern: bytes) -> bool:
    """Does ``earlier`` match every path that ``pattern`` matches? Both escaped as Google escapes them.

    >>> covers(b"/", b"/images/*.png"), covers(b"/*.pdf$", b"/docs/*.pdf"), covers(b"/a", b"*.a")
    (True, False, False)
    """
    matcher = _matcher(earlier)
    return all(matcher.fullmatch(_star_word(glob)) for glob in _path_globs(pattern))


def covers_every_path(pattern: bytes) -> bool:
    """Does ``pattern`` match every path (``/``, ``/*``, ``*``, ``/*$`` ...)?"""
    return covers(pattern, _EVERY_PATH)


def uncovered_path(pattern: bytes, earlier: Sequence[bytes] | Iterable[bytes]) -> bytes | None:
    """A path ``pattern`` matches and none of ``earlier`` matches, or None when every such path is covered.

    When every unreserved letter occurs in the earlier patterns no witness letter is left; the
    answer is then a path that may still be covered (callers err on the side of "not covered").
    """
    earlier = tuple(earlier)
    used = set(b"".join(earlier))
    letter = next((bytes([c]) for c in _WITNESS_LETTERS if c not in used), b"q")
    for glob in _path_globs(pattern):
        if not any(_matcher(other).fullmatch(_star_word(glob)) for other in earlier):
            return glob.replace(b"*", letter)
    return None


def reserved_extent(rules: Iterable[tuple[bytes, bool]], ties_reserve: bool) -> str:
    """How much of a site a set of path rules reserves: ``all``, ``part`` or ``""`` (no path).

    ``rules`` are ``(pattern, reserves)`` pairs decided as robots.txt decides Allow/Disallow: the
    longest matching pattern wins (``b""`` matches every path with the lowest priority); at equal
    length the reserving rule wins when ``ties_reserve`` (aipref Content-Usage: the most
    restrictive preference) and loses otherwise (Allow wins ties). A rule matching no path is no rule.

    >>> reserved_extent([(b"", True), (b"/ai-ok/", False)], ties_reserve=True)
    'part'
    >>> reserved_extent([(b"/", True), (b"/ai-ok/", False), (b"/ai-ok/*", True)], ties_reserve=True)
    'all'
    """
    rules = [(pattern, reserves) for pattern, reserves in rules if _path_globs(pattern)]

    def beaten(pattern: bytes, by_reserving: bool) -> list[bytes]:
        """Patterns of the rules of the other kind that win over ``pattern`` wherever both match."""
        wins_tie = ties_reserve if by_reserving else not ties_reserve
        return [
            other
            for other, reserves in rules
            if reserves == by_reserving and (len(other) > len(pattern) or (len(other) == len(pattern) and wins_tie))
        ]

    reserving = [pattern for pattern, reserves in rules if reserves]
    if not any(uncovered_path(pattern, beaten(pattern, False)) is not None for pattern in reserving):
        return ""
    if any(covers_every_path(pattern) for pattern in reserving) and not any(
        uncovered_path(pattern, beaten(pattern, True)) is not None for pattern, reserves in rules if not reserves
    ):
        return "all"
    return "part"
