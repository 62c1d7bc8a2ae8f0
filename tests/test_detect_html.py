"""Opt-out meta and link tags in an HTML head (docs/signals.md, 4, 7.2)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from optout_audit.agents import ai_agents
from optout_audit.detect.html import crawler_names, parse_html_head

AGENT_NAMES = crawler_names(ai_agents())


def read_head(body, encoding=None):
    return parse_html_head(body, encoding, agent_names=AGENT_NAMES)


FIXTURES = Path(__file__).parent / "fixtures"


def page(head: str, body: str = "<p>hello</p>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


# -- real files ---------------------------------------------------------------------------------


def test_healsdata_meta_fragment() -> None:
    # A head fragment with no <html>/<head> element, as the template repo ships it.
    signals = read_head((FIXTURES / "noai" / "healsdata-meta-tags.html").read_bytes())
    assert signals.meta == [
        {"name": "ccbot", "content": "nofollow"},
        {"name": "robots", "content": "noai, noimageai"},
    ]
    assert signals.noai and signals.noimageai
    assert signals.noai_sources == ["meta:robots"]


def test_w3c_meta_example() -> None:
    signals = read_head((FIXTURES / "tdmrep" / "w3c-example-meta.html").read_bytes())
    assert signals.tdm_reservation == "1"
    assert signals.tdm_policy == "https://provider.com/policies/policy.json"
    assert not signals.noai and not signals.noimageai


# -- robots-family meta ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "noai", "noimageai", "sources"),
    [
        ('<meta name="robots" content="noai, noimageai">', True, True, ["meta:robots"]),
        ('<META NAME="ROBOTS" CONTENT="NOAI">', True, False, ["meta:robots"]),
        ('<meta name="robots" content="noindex,noimageai">', False, True, ["meta:robots"]),
        ('<meta name=" Robots " content=" noai ">', True, False, ["meta:robots"]),
        ('<meta name="robots" content="noai noimageai">', True, True, ["meta:robots"]),
        # addressed to one crawler: a *bot name, a Google product name, an ai.robots.txt agent
        ('<meta name="googlebot" content="noai">', True, False, ["meta:googlebot"]),
        ('<meta name="bingbot" content="noai, noml">', True, False, ["meta:bingbot"]),
        ('<meta name="GPTBot" content="noimageai">', False, True, ["meta:gptbot"]),
        ('<meta name="Google-Extended" content="noai">', True, False, ["meta:google-extended"]),
        ('<meta name="anthropic-ai" content="noai">', True, False, ["meta:anthropic-ai"]),
        # stand-alone names: the name is the statement, whatever the content
        ('<meta name="noai" content="noai">', True, False, ["meta:noai"]),
        ('<meta name="noimageai" content="noimageai">', False, True, ["meta:noimageai"]),
        ('<meta name="noai" content="true">', True, False, ["meta:noai"]),
        ('<meta name="NoAI">', True, False, ["meta:noai"]),
        # several tags combine; sources are listed once, in document order
        (
            '<meta name="robots" content="noimageai"><meta name="robots" content="noai">'
            '<meta name="googlebot" content="noai">',
            True,
            True,
            ["meta:robots", "meta:googlebot"],
        ),
        # not a robots-family name, or not the token
        ('<meta name="description" content="noai">', False, False, []),
        ('<meta name="keywords" content="noai, noimageai">', False, False, []),
        ('<meta property="robots" content="noai">', False, False, []),
        ('<meta name="robots" content="noaiX, index">', False, False, []),
        ('<meta name="robots" content="index, follow">', False, False, []),
        ('<meta http-equiv="X-Robots-Tag" content="noai">', False, False, []),
    ],
)
def test_noai_meta(head: str, noai: bool, noimageai: bool, sources: list[str]) -> None:
    signals = read_head(page(head))
    assert (signals.noai, signals.noimageai, signals.noai_sources) == (noai, noimageai, sources)


def test_meta_list_keeps_every_named_meta_with_raw_content() -> None:
    signals = read_head(
        page(
            '<meta charset="utf-8"><meta name="Description" content="  A Site "><meta name="tdm-reservation" content="1">'
        )
    )
    assert signals.meta == [
        {"name": "description", "content": "  A Site "},
        {"name": "tdm-reservation", "content": "1"},
    ]


def test_only_the_head_counts() -> None:
    signals = read_head(page("<title>t</title>", body='<meta name="robots" content="noai">'))
    assert not signals.noai and signals.meta == []


def test_head_ends_at_body_even_without_closing_head() -> None:
    html = b'<html><head><meta name="robots" content="noimageai"><body><meta name="robots" content="noai">'
    signals = read_head(html)
    assert signals.noimageai and not signals.noai


def test_header_element_is_not_the_end_of_head() -> None:
    # "</header" must not be mistaken for "</head"; neither must "<bodyguard>"
    html = b'<html><head><bodyguard></bodyguard><meta name="robots" content="noai"></head>'
    assert read_head(html).noai


# -- TDMRep meta ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "reservation", "policy"),
    [
        ('<meta name="tdm-reservation" content="1">', "1", None),
        ('<meta name="TDM-Reservation" content=" 0 ">', "0", None),
        ('<meta name="tdm-reservation" content="1"><meta name="tdm-reservation" content="0">', "1", None),
        ('<meta name="tdm-reservation" content="yes">', "yes", None),  # judged later, by detect.tdmrep
        ('<meta name="tdm-reservation">', "", None),
        ('<meta name="tdm-policy" content="https://p/x.json">', None, "https://p/x.json"),
        ("", None, None),
    ],
)
def test_tdm_meta(head: str, reservation: str | None, policy: str | None) -> None:
    signals = read_head(page(head))
    assert (signals.tdm_reservation, signals.tdm_policy) == (reservation, policy)


# -- link rel="license" (RSL) --------------------------------------------------------------------


def test_license_links() -> None:
    head = (
        '<link rel="license" type="application/rsl+xml" href="https://example.com/license.xml">'
        '<link rel="License alternate" href=" https://creativecommons.org/licenses/by/4.0/ ">'
        '<link rel="stylesheet" href="/s.css"><link rel="license">'
    )
    assert read_head(page(head)).license_links == [
        "https://example.com/license.xml",
        "https://creativecommons.org/licenses/by/4.0/",
    ]


# -- encodings and bad input ---------------------------------------------------------------------

NOAI_HEAD = '<html><head><meta charset="{charset}"><title>Café</title><meta name="robots" content="noai"><meta name="description" content="café"></head><body>x</body></html>'


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        pytest.param(b"\xef\xbb\xbf" + NOAI_HEAD.format(charset="utf-8").encode("utf-8"), None, id="utf-8-bom"),
        pytest.param(NOAI_HEAD.format(charset="iso-8859-1").encode("latin-1"), None, id="latin-1-meta"),
        pytest.param(NOAI_HEAD.format(charset="iso-8859-1").encode("latin-1"), "ISO-8859-1", id="latin-1-http"),
        # the transport charset wins over the meta declaration
        pytest.param(NOAI_HEAD.format(charset="utf-8").encode("latin-1"), "latin-1", id="http-beats-meta"),
        pytest.param(NOAI_HEAD.format(charset="utf-16").encode("utf-16"), None, id="utf-16-bom"),
        pytest.param(NOAI_HEAD.format(charset="utf-16").encode("utf-16-be"), "utf-16-be", id="utf-16-be-http"),
        pytest.param(NOAI_HEAD.format(charset="windows-1252").encode("cp1252"), "no-such-charset", id="unknown-http"),
        pytest.param(NOAI_HEAD.format(charset="utf-8").encode("utf-8"), "hex", id="bytes-codec-http"),
        pytest.param(NOAI_HEAD.format(charset="utf-8").encode("utf-8"), "idna", id="strict-only-codec-http"),
    ],
)
def test_encodings(body: bytes, encoding: str | None) -> None:
    signals = read_head(body, encoding)
    assert signals.noai
    assert {"name": "description", "content": "café"} in signals.meta


def test_utf16_declared_in_ascii_is_read_as_utf8() -> None:
    body = NOAI_HEAD.format(charset="utf-16").encode("utf-8")
    assert {"name": "description", "content": "café"} in read_head(body).meta


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x01\x02\xff\xfe\xfd" * 100,
        b"\xff\xfe",
        b"\xfe\xff\x00",
        b"<meta",
        b"<meta name=",
        b'<meta name="robots" content="noai',
        b"<html><head><meta name=robots content=noai",
        b"<?xml version='1.0'?><html/>",
        b"http://example.com/",
        b"<![CDATA[<meta name=robots content=noai>",
        b"<!-- <meta name=robots content=noai> -->",
        bytes(range(256)),
    ],
)
def test_garbage_does_not_raise(body: bytes) -> None:
    signals = read_head(body)
    assert isinstance(signals.noai, bool)


def test_tag_cut_off_by_the_end_of_the_data_is_dropped() -> None:
    # As in a browser: a tag still open at the end of the input is never emitted.
    assert not read_head(b"<html><head><meta name=robots content=noai").noai
    assert read_head(b"<html><head><meta name=robots content=noai>").noai


def test_commented_meta_does_not_count() -> None:
    assert not read_head(b"<head><!-- <meta name=robots content=noai> --></head>").noai


def test_big_page_is_cut_at_the_head() -> None:
    head = '<meta name="robots" content="noai">' + '<link rel="x" href="/y">' * 20
    body = page(head, body="<p>" + "word " * 200_000 + "</p>")  # about 1 MB
    read_head(body)
    started = time.perf_counter()
    for _ in range(20):
        assert read_head(body).noai
    assert (time.perf_counter() - started) / 20 < 0.05


# -- the head found by structure, not by markers (issue 17 class 3) --------------------------------

NOAI = '<meta name="robots" content="noai">'


@pytest.mark.parametrize(
    "before",
    [
        "<!-- <body> was here -->",
        "<!--[if IE]><body class=ie><![endif]-->",
        '<script>document.write("<body>");</script>',
        "<script>//<![CDATA[\nvar b = '<body>';\n//]]></script>",
        "<style>body{margin:0} /* <body> */</style>",
        "<![CDATA[ a <body> in a CDATA section ]]>",
        '<noscript><img src="x.gif"></noscript>',
        "<title>&lt;body&gt; and </header> and <bodyguard></title>",
    ],
)
def test_body_inside_markup_does_not_end_the_head(before):
    assert read_head(page(f"<title>t</title>{before}{NOAI}")).noai


@pytest.mark.parametrize("body_start", ["<body>", "<body class=x>", "</head><p>", "<div>", "<p>text"])
def test_the_body_really_starting_ends_the_head(body_start):
    html = f"<html><head><title>t</title>{body_start}{NOAI}</body></html>".encode()
    assert not read_head(html).noai


def test_a_head_longer_than_a_mebibyte_keeps_its_later_meta():
    filler = "<script>" + "var x = 1;\n" * 150_000 + "</script>"  # 1.6 MiB of script in the head
    html = page(filler + NOAI + '<meta name="tdm-reservation" content="1">')
    assert len(html) > 1.5 * 1024 * 1024
    signals = read_head(html)
    assert signals.noai and signals.tdm_reservation == "1"


def test_nothing_past_the_page_cap_is_read():
    filler = "<!--" + "x" * (4 * 1024 * 1024) + "-->"
    assert not read_head(page(filler + NOAI)).noai


@pytest.mark.parametrize("offset", range(-10, 3))
def test_cdata_split_across_parser_chunks(offset):
    # The parser is fed 16 KiB at a time: put "<![CDATA[" and "]]>" across the border.
    prefix = "<html><head><title>t</title><!--"
    pad = 16 * 1024 + offset - len(prefix) - len("-->")
    html = (prefix + "x" * pad + "--><![CDATA[ <body> > ]]>" + NOAI + "</head><body>x</body></html>").encode()
    assert read_head(html).noai


def test_utf16_and_windows_1252_heads_are_read_incrementally():
    head = "<title>Café</title>" + "<!-- é -->" * 5000 + NOAI
    assert read_head(page(head).decode().encode("utf-16")).noai
    assert read_head(page(head).decode().encode("cp1252")).noai  # no charset: not UTF-8, so windows-1252


def test_rsl_links_and_inline_rsl_script():
    head = (
        '<link rel="license" type="application/rsl+xml" href="https://example.com/license.xml">'
        '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        '<script type="application/rsl+xml"><rsl xmlns="https://rslstandard.org/rsl"><content url="/">'
        '<license><prohibits type="usage">ai-train</prohibits></license></content></rsl></script>'
    )
    signals = read_head(page(head))
    assert signals.rsl_links == ["https://example.com/license.xml"]
    assert len(signals.license_links) == 2
    assert len(signals.rsl_scripts) == 1 and "<prohibits" in signals.rsl_scripts[0]
