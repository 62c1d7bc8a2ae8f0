"""Per-agent verdicts (README "Verdict semantics") and the traps of docs/signals.md."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_audit.detect.body import read_robots_body
from optout_audit.detect.robots import RobotsTxt, pattern_matches


@pytest.mark.parametrize(
    ("body", "agent", "verdict", "named", "rule"),
    [
        ("User-agent: GPTBot\nDisallow: /\n", "GPTBot", "full", True, "Disallow: /"),
        ("User-agent: GPTBot/1.0\nDisallow: /\n", "GPTBot", "full", True, "Disallow: /"),
        ("User-agent: gptbot\nDisallow: /private/\n", "GPTBot", "partial", True, "Disallow: /private/"),
        ("User-agent: GPTBot\nDisallow: /$\n", "GPTBot", "partial", True, "Disallow: /$"),
        ("User-agent: GPTBot\nAllow: /\n", "GPTBot", "none", True, ""),
        ("User-agent: *\nDisallow: /\n", "GPTBot", "full", False, "Disallow: /"),
        # A group naming the agent replaces * entirely.
        ("User-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nAllow: /\n", "GPTBot", "none", True, ""),
        # RFC 9309: exact product token, so Google does not cover Google-Extended ...
        ("User-agent: Google\nDisallow: /\n", "Google-Extended", "none", False, ""),
        # ... and Applebot does not cover Applebot-Extended (protego would say full).
        ("User-agent: Applebot\nDisallow: /\n", "Applebot-Extended", "none", False, ""),
        # Non-rule lines do not end a run of user-agent lines (Google; protego differs).
        ("User-agent: CCBot\nCrawl-delay: 1\nUser-agent: Other\nDisallow: /\n", "CCBot", "full", True, "Disallow: /"),
        (
            "User-agent: GPTBot\nContent-Signal: ai-train=no\nUser-agent: CCBot\nDisallow: /\n",
            "GPTBot",
            "full",
            True,
            "Disallow: /",
        ),
        # A BOM is skipped (protego would lose the first group).
        ("\ufeffUser-agent: *\nDisallow: /\n", "ClaudeBot", "full", False, "Disallow: /"),
        # Equal-length Allow and Disallow: allow wins (Cloudflare-managed files hit this).
        ("User-agent: *\nAllow: /\n\nUser-agent: *\nDisallow: /\n", "ClaudeBot", "none", False, ""),
        # Google reads DisallowAITraining as a Disallow rule (key matched by prefix).
        ("User-agent: *\nDisallowAITraining: /\n", "GPTBot", "full", False, "DisallowAITraining: /"),
        # Agent names outside the token grammar, as ai.robots.txt lists them.
        ("User-agent: ChatGPT Agent\nDisallow: /\n", "ChatGPT Agent", "full", True, "Disallow: /"),
        ("User-agent: AI2Bot\nDisallow: /\n", "AI2Bot", "full", True, "Disallow: /"),
        ("User-agent: AI2Bot-Dolma\nDisallow: /\n", "AI2Bot", "none", False, ""),
        ("", "GPTBot", "none", False, ""),
    ],
)
def test_verdict(body, agent, verdict, named, rule):
    result = RobotsTxt.parse(body).verdict(agent)
    assert (result.verdict, result.named, result.rule) == (verdict, named, rule)


def test_deciding_rule_line_number():
    robots = RobotsTxt.parse("# comment\nUser-agent: *\nAllow: /\n\nUser-agent: GPTBot\nDisallow: /\n")
    result = robots.verdict("GPTBot")
    assert (result.verdict, result.line, result.via) == ("full", 6, "named")
    assert robots.verdict("CCBot").via == "wildcard"


def test_extension_lines_are_kept_with_their_group():
    robots = RobotsTxt.parse(
        "License: https://example.com/license.xml\n"
        "User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"
        "User-agent: GPTBot\nContent-Usage: train-ai=n\nDisallow: /x\n"
    )
    assert [line.value for line in robots.lines_for("CCBot", "content-signal")] == ["search=yes, ai-train=no"]
    assert [line.value for line in robots.lines_for("GPTBot", "content-usage")] == ["train-ai=n"]
    assert [line.value for _, line in robots.lines("license")] == ["https://example.com/license.xml"]


def test_blocks_all():
    assert RobotsTxt.parse("User-agent: *\nDisallow: /\n").blocks_all()
    assert not RobotsTxt.parse("User-agent: *\nDisallow: /private\n").blocks_all()
    assert not RobotsTxt.parse("User-agent: GPTBot\nDisallow: /\n").blocks_all()


@pytest.mark.parametrize(
    "body", [b"\x00\xff\xfe garbage", b"<html><body>404</body></html>", "x" * 100_000, b"\r\r\n\n"]
)
def test_never_raises(body):
    robots = RobotsTxt.parse(body)
    assert robots.verdict("GPTBot").verdict in ("full", "partial", "none")


def test_oversize_line_is_cut_like_google():
    body = "User-agent: *\nDisallow: /" + "a" * 20_000 + "\n"
    robots = RobotsTxt.parse(body)
    # The line is cut at 16,663 bytes, so the pattern is a shorter prefix of the URL path.
    assert not robots.can_fetch("https://x/" + "a" * 20_000, "GPTBot")
    assert robots.can_fetch("https://x/" + "a" * 16_000, "GPTBot")


# -- path matching ------------------------------------------------------------------------------

# A small alphabet makes wildcard patterns and paths that overlap, repeat and nearly match.
_OCTETS = st.sampled_from([b"/", b"a", b"b", b"*", b"$", b"%", b"."])


def _regex_oracle(pattern: bytes, path: bytes) -> bool:
    """RFC 9309 2.2.3 written as a regex: '*' is any run of octets, a final '$' the end of the path."""
    anchored = pattern.endswith(b"$")
    body = pattern[:-1] if anchored else pattern
    regex = b".*".join(re.escape(piece) for piece in body.split(b"*")) + (rb"\Z" if anchored else b"")
    return re.match(regex, path, re.DOTALL) is not None


@settings(max_examples=2000, deadline=None)
@given(st.lists(_OCTETS, max_size=10).map(b"".join), st.lists(_OCTETS, max_size=12).map(b"".join))
def test_wildcard_matching_agrees_with_a_regex(pattern, path):
    assert pattern_matches(pattern, path) == _regex_oracle(pattern, path)


# -- truncated byte-order marks (issue 17 class 5) ---------------------------------------------------
# Google's robots.cc skips the leading bytes while they match EF BB BF in order, and keeps the first
# byte that does not: a truncated BOM (EF BB, EF) is skipped like a whole one.


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"\xef\xbb", b"\xef", b""])
def test_bom_prefix_is_skipped(prefix):
    robots = RobotsTxt.parse(prefix + b"User-agent: GPTBot\nDisallow: /\n")
    assert robots.verdict("GPTBot").verdict == "full"
    assert robots.is_named("GPTBot")


@pytest.mark.parametrize("prefix", [b"\xef\xbf", b"\xbb\xbf", b"\xef\xbb\xbb", b"\xef\xbb\xbf\xef\xbb\xbf"])
def test_bytes_that_are_not_a_bom_prefix_stay(prefix):
    # The first non-matching byte stays part of the first line, whose key no longer reads
    # "User-agent": Google then sees a Disallow outside any group, which applies to nobody.
    robots = RobotsTxt.parse(prefix + b"User-agent: GPTBot\nDisallow: /\n")
    assert robots.verdict("GPTBot").verdict == "none"


@pytest.mark.parametrize("prefix", [b"\xef\xbb", b"\xef"])
def test_truncated_bom_before_html_is_still_html(prefix):
    assert read_robots_body(prefix + b"<!DOCTYPE html><html>x</html>").fault == "html_as_robots"
