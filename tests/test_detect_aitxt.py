"""Spawning /ai.txt (docs/signals.md).

The inputs are real files from public site repositories, inlined because they are short. The
Spawning generator always writes the same list of file types, so that list is written once
(``SPAWNING_TYPES``) and the files are rebuilt from it; each test names its source.
"""

from __future__ import annotations

import pytest

from optout_audit.detect.aitxt import parse_aitxt

# The file types of Spawning's generator, in its order (e.g. hacdias/hacdias.com:static/ai.txt).
SPAWNING_TYPES = [
    "txt",
    "pdf",
    "doc",
    "docx",
    "odt",
    "rtf",
    "tex",
    "wks",
    "wpd",
    "wps",
    "html",
    "bmp",
    "gif",
    "ico",
    "jpeg",
    "jpg",
    "png",
    "svg",
    "tif",
    "tiff",
    "webp",
    "aac",
    "aiff",
    "amr",
    "flac",
    "m4a",
    "mp3",
    "oga",
    "opus",
    "wav",
    "wma",
    "mp4",
    "webm",
    "ogg",
    "avi",
    "mov",
    "wmv",
    "flv",
    "mkv",
    "py",
    "js",
    "java",
    "c",
    "cpp",
    "cs",
    "h",
    "css",
    "php",
    "swift",
    "go",
    "rb",
    "pl",
    "sh",
    "sql",
]

# hacdias/hacdias.com:static/ai.txt@7d86da4c0ffc07a7ba63cf320859ff5950a3b475 (903 bytes);
# GeopJr/geopjr.dev:static/ai.txt@9c6b30b7 is the same plus a blank line.
HACDIAS = (
    "User-Agent: *\n" + "".join(f"Disallow: *.{ext}\n" for ext in SPAWNING_TYPES) + "Disallow: /\nDisallow: *\n"
).encode()
# LunNova/Blog:static/ai.txt@3626ae8a5c0af587d0181962894ada90eb74b89f (830 bytes): "Allow all".
LUNNOVA = (
    "# Spawning AI - Allow all. Generated with https://spawning.ai/ai-txt\n\nUser-Agent: *\n"
    + "".join(f"Allow: *.{ext}\n" for ext in [*SPAWNING_TYPES, "md", "txt"])
    + "Allow: *\nAllow: /\n"
).encode()
# bahlo/arne.me:static/ai.txt@a17269cc5b99657b4d68a28184bc88a6232aec2f
ARNE_ME = b"User-Agent: *\nDisallow: /\nDisallow: *\n"
# tari/taricorp.net:static/ai.txt@3947ec649092350015ecffd3004f0353e1145ee3 (no final newline)
TARICORP = b"# Deny use of content for AI training per Spawning's supported\n# format for ai.txt.\nUser-Agent: *\nDisallow: /\nDisallow: *"
# Chemaclass/chemaclass.com:static/ai.txt@9e6c1bd1f4861ee64c5443a578e0a64e410c5894, first 9 lines
CHEMACLASS = (
    b"# AI Use Policy for chemaclass.com\n# Format reference: https://site.spawning.ai/spaces/ai-txt\n#\n"
    b"# This site explicitly permits AI agents to retrieve, cite,\n# index, and train on its public content, under CC BY 4.0:\n"
    b"# quote it, and name the source.\n\nUser-Agent: *\nAllow: /\n\n"
    b"License: https://creativecommons.org/licenses/by/4.0/ (CC BY 4.0, attribution required)\n"
)
# avelino/avelino.run:static/ai.txt@07057aad1c147ac793534f949e6d0689c38abdc7, first 6 lines: Markdown for assistants
AVELINO = (
    b"# AI Instructions for avelino.run\n\n## Site Information\n- **Name**: Thiago Avelino's Blog\n"
    b"- **URL**: https://avelino.run\n- **Language**: English (primary), Portuguese (some articles)\n"
)
# nino-chavez/nino-chavez-photography:static/ai.txt@c9825487b84c35590c9e4d9fe44c14ba19b175f6, lines 1-11
NINO_CHAVEZ = (
    b"# AI.txt for Nino Chavez Photography Gallery\n# Version: 1.0\n# Last Updated: 2025-10-28\n\n# About\n"
    b"This file provides information for AI crawlers and answer engines about this photography portfolio.\n\n"
    b"# APIs\n/api/ai/photos - Get photos with metadata (JSON)\n/api/ai/albums - Get albums with metadata (JSON)\n"
)
# Derived, not a copy: HACDIAS without its last two lines, i.e. only file types refused.
FILE_TYPES_ONLY = HACDIAS.replace(b"Disallow: /\nDisallow: *\n", b"")


def test_inlined_spawning_file_has_the_size_of_the_original() -> None:
    assert len(HACDIAS) == 903 and len(LUNNOVA) == 830


@pytest.mark.parametrize(
    ("body", "robots_style", "disallows_all", "partial", "disallowed"),
    [
        (HACDIAS, True, True, False, 56),
        (ARNE_ME, True, True, False, 2),
        (TARICORP, True, True, False, 2),
        (FILE_TYPES_ONLY, True, False, True, 54),
        (LUNNOVA, True, False, False, 0),
        (CHEMACLASS, True, False, False, 0),
        (AVELINO, False, False, False, 0),
        (NINO_CHAVEZ, False, False, False, 0),
    ],
    ids=[
        "hacdias",
        "arne.me",
        "taricorp",
        "file-types-only",
        "lunnova-allow-all",
        "chemaclass",
        "avelino-md",
        "nino-chavez",
    ],
)
def test_real_ai_txt(body: bytes, robots_style: bool, disallows_all: bool, partial: bool, disallowed: int) -> None:
    ai = parse_aitxt(body)
    assert (ai.robots_style, ai.disallows_all, ai.partial, len(ai.disallowed)) == (
        robots_style,
        disallows_all,
        partial,
        disallowed,
    )


def test_disallowed_lines_are_raw_and_in_file_order() -> None:
    ai = parse_aitxt(HACDIAS)
    assert ai.disallowed[:2] == ["Disallow: *.txt", "Disallow: *.pdf"]
    assert ai.disallowed[-2:] == ["Disallow: /", "Disallow: *"]


@pytest.mark.parametrize(
    ("body", "robots_style", "disallows_all", "partial"),
    [
        (b"", False, False, False),
        (b"<!doctype html><html><body>Not found</body></html>", False, False, False),
        (b"User-Agent: *\n", False, False, False),  # a group with no rule
        (b"User-Agent: *\nDisallow:\n", False, False, False),  # an empty Disallow is no rule
        (b"Disallow: /\n", False, False, False),  # a rule outside any group
        (b"User-Agent: *\nAllow: /\n", True, False, False),
        (b"User-Agent: *\nDisallow: *.jpg\n", True, False, True),
        (b"user-agent: *\r\ndisallow: /\r\n", True, True, False),
        (b"\xef\xbb\xbfUser-Agent: *\nDisallow: /\n", True, True, False),
        # per-bot blocking: something is disallowed, but not to every crawler
        (b"User-Agent: GPTBot\nDisallow: /\n\nUser-Agent: ClaudeBot\nDisallow: /\n", True, False, True),
        (b"User-Agent: GPTBot\nDisallow: /\n\nUser-Agent: *\nDisallow: /\n", True, True, False),
        (b"User-Agent: *\nDisallow: /\nAllow: /\n", True, False, False),  # Allow wins the tie
    ],
)
def test_shapes(body: bytes, robots_style: bool, disallows_all: bool, partial: bool) -> None:
    ai = parse_aitxt(body)
    assert (ai.robots_style, ai.disallows_all, ai.partial) == (robots_style, disallows_all, partial)


@pytest.mark.parametrize("body", [b"\x00\xff" * 500, bytes(range(256)), b"User-Agent: *\nDisallow: \xff\xfe*\n"])
def test_garbage_does_not_raise(body: bytes) -> None:
    assert isinstance(parse_aitxt(body).robots_style, bool)


def test_str_with_lone_surrogate_does_not_raise() -> None:
    assert parse_aitxt("User-Agent: *\nDisallow: /\ud800\n").robots_style  # type: ignore[arg-type]
