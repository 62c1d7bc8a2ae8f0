"""Opt-out signals in response headers: X-Robots-Tag, TDMRep, Content-Usage, Link (docs/signals.md, 4, 5.3, 7.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optout_audit.detect.headers import directive_tokens, parse_headers, x_robots_directives

FIXTURES = Path(__file__).parent / "fixtures"


def header_lines(text: str) -> list[tuple[str, str]]:
    """``Name: value`` lines as pairs; status lines and lines without a colon are skipped."""
    pairs = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "\t", "HTTP/")):
            pairs.append((name, value))
    return pairs


def cloudflare_headers_block(text: str, path_rule: str) -> list[tuple[str, str]]:
    """The indented header lines under ``path_rule`` in a Cloudflare Pages ``_headers`` file."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = line.strip()
        elif line.strip():
            blocks.setdefault(current, []).append(line.strip())
    return header_lines("\n".join(blocks.get(path_rule, [])))


# -- real files ---------------------------------------------------------------------------------


def test_healsdata_two_x_robots_tag_headers() -> None:
    pairs = header_lines((FIXTURES / "noai" / "healsdata-headers.txt").read_text("utf-8"))
    signals = parse_headers(pairs)
    assert signals.x_robots_tag == ["noimageai", "noai"]
    assert signals.directives == {"*": {"noai", "noimageai"}}
    assert signals.noai and signals.noimageai


def test_w3c_header_example_reserved() -> None:
    pairs = header_lines((FIXTURES / "tdmrep" / "w3c-example-header-reserved.http").read_text("utf-8"))
    signals = parse_headers(pairs)
    assert (signals.tdm_reservation, signals.tdm_policy) == ("1", None)
    assert not signals.noai


def test_w3c_header_example_reserved_with_policy() -> None:
    text = (FIXTURES / "tdmrep" / "w3c-example-header-reserved-with-policy.http").read_text("utf-8")
    signals = parse_headers(header_lines(text))
    assert signals.tdm_reservation == "1"
    assert signals.tdm_policy == "https://provider.com/policies/policy.json"


def test_itcop_cloudflare_pages_headers() -> None:
    text = (FIXTURES / "tdmrep" / "itcop.org._headers").read_text("utf-8")
    signals = parse_headers(cloudflare_headers_block(text, "/*"))
    assert signals.tdm_reservation == "1"
    assert signals.tdm_policy == "https://itcop.org/licence/0pn-mrt-1.0.json"


# -- X-Robots-Tag forms -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["noai"], {"*": {"noai"}}),
        (["noai, noimageai"], {"*": {"noai", "noimageai"}}),
        (["NoAI,NOIMAGEAI"], {"*": {"noai", "noimageai"}}),
        # Google's documented bot-scoped forms
        (["googlebot: noindex, nofollow"], {"googlebot": {"noindex", "nofollow"}}),
        (["noarchive, otherbot: noindex"], {"*": {"noarchive"}, "otherbot": {"noindex"}}),
        (
            ["googlebot: nofollow", "otherbot: noindex, nofollow"],
            {"googlebot": {"nofollow"}, "otherbot": {"noindex", "nofollow"}},
        ),
        (["GPTBot: noai"], {"gptbot": {"noai"}}),
        (["gptbot:noai,ccbot:noimageai"], {"gptbot": {"noai"}, "ccbot": {"noimageai"}}),
        # each header value starts unscoped again
        (["googlebot: noindex", "noai"], {"googlebot": {"noindex"}, "*": {"noai"}}),
        # the unavailable_after trap: a known directive name with a colon is not a bot
        (["unavailable_after: 25 Jun 2010 15:00:00 PST"], {"*": {"unavailable_after"}}),
        (["googlebot: unavailable_after: 25 Jun 2010 15:00:00 PST"], {"googlebot": {"unavailable_after"}}),
        # RFC 850 dates hold a comma: the rest of the date is not a directive
        (["unavailable_after: Friday, 25-Jun-10 15:00:00 PST, noai"], {"*": {"unavailable_after", "noai"}}),
        (["max-snippet: 50, noai"], {"*": {"max-snippet", "noai"}}),
        (["max-image-preview:large"], {"*": {"max-image-preview"}}),
        # space-separated words, seen in the wild, accepted when all are token-shaped
        (["noai noimageai"], {"*": {"noai", "noimageai"}}),
        ([""], {}),
        ([" , ,"], {}),
        (["googlebot:"], {}),
        ([], {}),
    ],
)
def test_x_robots_directives(values: list[str], expected: dict[str, set[str]]) -> None:
    assert x_robots_directives(values) == expected


@pytest.mark.parametrize(
    ("headers", "noai", "noimageai"),
    [
        ([("X-Robots-Tag", "noai")], True, False),
        ([("x-robots-tag", "noimageai")], False, True),
        ([("X-ROBOTS-TAG", "otherbot: noai")], True, False),  # any bot scope counts
        ([("X-Robots-Tag", "noindex"), ("X-Robots-Tag", "gptbot: noimageai")], False, True),
        ([("X-Robots-Tag", "noaix, xnoai")], False, False),
        ([("Robots", "noai")], False, False),  # not the header name
        ([("X-Robots-Tag", "unavailable_after: 25 Jun 2010 15:00:00 PST")], False, False),
    ],
)
def test_noai_from_headers(headers: list[tuple[str, str]], noai: bool, noimageai: bool) -> None:
    signals = parse_headers(headers)
    assert (signals.noai, signals.noimageai) == (noai, noimageai)


# -- TDMRep, Content-Usage, Content-Signal ------------------------------------------------------


def test_tdm_headers_first_value_counts_stripped() -> None:
    signals = parse_headers(
        [("TDM-Reservation", " 1 "), ("tdm-reservation", "0"), ("TDM-Policy", " https://p/x.json ")]
    )
    assert (signals.tdm_reservation, signals.tdm_policy) == ("1", "https://p/x.json")


def test_absent_headers_are_none() -> None:
    signals = parse_headers([("Content-Type", "text/html")])
    assert signals.tdm_reservation is None and signals.tdm_policy is None
    assert signals.content_usage is None and signals.content_signal is None
    assert signals.x_robots_tag == [] and signals.directives == {} and signals.license_links == []


def test_empty_tdm_header_is_kept_for_the_tdmrep_verdict() -> None:
    # "" is a protocol error, which detect.tdmrep records; it must not look absent here.
    assert parse_headers([("tdm-reservation", "")]).tdm_reservation == ""


def test_content_usage_headers_are_combined_as_http_does() -> None:
    signals = parse_headers([("Content-Usage", "train-ai=n"), ("content-usage", "search=y")])
    assert signals.content_usage == "train-ai=n, search=y"


def test_content_signal_header() -> None:
    signals = parse_headers([("Content-Signal", "ai-train=yes, search=yes, ai-input=yes")])
    assert signals.content_signal == "ai-train=yes, search=yes, ai-input=yes"


# -- Link rel="license" (RSL) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        # rslstandard.org/guide/http
        (
            ['<https://example.com/license.xml>; rel="license"; type="application/rsl+xml"'],
            ["https://example.com/license.xml"],
        ),
        (["<https://e.com/l.xml>; rel=license"], ["https://e.com/l.xml"]),
        (['<https://e.com/l.xml>; REL="License Alternate"'], ["https://e.com/l.xml"]),
        (['<https://e.com/a>; rel="next", <https://e.com/l,1.xml>; rel="license"'], ["https://e.com/l,1.xml"]),
        (['<https://e.com/a>; rel="next"', '</l.xml>; rel="license"'], ["/l.xml"]),
        (['<https://e.com/a>; rel="licensed"'], []),
        (["rel=license"], []),
        ([""], []),
    ],
)
def test_license_links(links: list[str], expected: list[str]) -> None:
    assert parse_headers([("Link", value) for value in links]).license_links == expected


# -- robustness ----------------------------------------------------------------------------------


def test_bytes_and_odd_pairs_do_not_raise() -> None:
    signals = parse_headers([(b"X-Robots-Tag", b"noai"), ("only-one",), None, ("a", "b", "c")])  # type: ignore[list-item]
    assert signals.noai


def test_headers_not_iterable() -> None:
    assert parse_headers(None).x_robots_tag == []  # type: ignore[arg-type]


def test_generator_input() -> None:
    assert parse_headers(iter([("X-Robots-Tag", "noimageai")])).noimageai


@pytest.mark.parametrize(
    ("content", "tokens"),
    [
        ("noai, noimageai", ["noai", "noimageai"]),
        ("NOINDEX,NoFollow", ["noindex", "nofollow"]),
        ("noai noimageai", ["noai", "noimageai"]),
        ("max-snippet:-1, noai", ["max-snippet", "noai"]),
        ("index, follow, 25 Jun 2010", ["index", "follow"]),
        ("", []),
    ],
)
def test_directive_tokens(content: str, tokens: list[str]) -> None:
    assert directive_tokens(content) == tokens
