"""The signals of issue 17: RSL licences, TDMRep policies, llms.txt, trust.txt, Bing's nocache/noarchive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optout_audit.detect.headers import parse_headers
from optout_audit.detect.html import parse_html_head
from optout_audit.detect.llmstxt import disallowed_links, parse_llmstxt
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.rsl import MAX_RSL_BYTES, parse_rsl, training_extent
from optout_audit.detect.tdmpolicy import MAX_POLICY_BYTES, parse_tdm_policy
from optout_audit.detect.trusttxt import parse_trusttxt

FIXTURES = Path(__file__).parent / "fixtures"
ORIGIN = "https://example.com"


def rsl(name: str):
    return parse_rsl((FIXTURES / "rsl" / name).read_bytes())


# -- RSL ---------------------------------------------------------------------------------------------


def test_rsl_prohibit_everything_is_site_wide():
    document = rsl("prohibit-all.rsl.xml")
    assert document.valid and document.namespace_ok
    assert training_extent(document, ORIGIN) == {"prohibited": "all", "licence_required": ""}


def test_rsl_terms_per_content_scope():
    document = rsl("paid-training.rsl.xml")
    root, research = document.contents
    assert (root.url, root.server) == ("/", "https://license.example.com")
    assert root.permits == {"usage": ["ai-index", "search"], "geo": ["us", "eu"]}
    assert root.prohibits == {"usage": ["ai-train"]}
    assert root.payments == [{"type": "crawl", "amount": "0.001", "currency": "USD"}]
    assert (root.training, research.training) == ("prohibited", "licence_required")
    assert research.permits["user"] == ["education", "non-commercial"]
    # training is prohibited on the site but for /research/, licensed against payment there
    assert training_extent(document, ORIGIN) == {"prohibited": "part", "licence_required": "part"}
    # the full URL scopes another origin's content: only "/" counts there
    assert training_extent(document, "https://other.example") == {"prohibited": "all", "licence_required": ""}


def test_rsl_free_permission_reserves_nothing():
    document = rsl("open-permits.rsl.xml")
    assert document.contents[0].training == "permitted"
    assert training_extent(document, ORIGIN) == {"prohibited": "", "licence_required": ""}


@pytest.mark.parametrize(
    ("licence", "training"),
    [
        ('<permits type="usage">ai-train</permits><prohibits type="usage">ai-train</prohibits>', "prohibited"),
        ('<prohibits type="usage">ai-all</prohibits>', "prohibited"),
        ('<prohibits type="usage">ai-input, search</prohibits>', ""),
        ('<permits type="usage">search</permits><payment type="purchase"/>', ""),
        ('<permits type="usage">ai-train</permits><payment type="subscription"/>', "licence_required"),
        ('<permits type="usage">ai-train</permits><payment type="attribution"/>', "permitted"),
        ('<payment type="training"><amount currency="EUR">5</amount></payment>', "licence_required"),
    ],
)
def test_rsl_training_reading(licence, training):
    document = parse_rsl(f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>{licence}'
                         "</license></content></rsl>")  # fmt: skip
    assert document.contents[0].training == training


def test_rsl_server_attribute_requires_a_licence_even_when_free():
    document = parse_rsl('<rsl xmlns="https://rslstandard.org/rsl"><content url="/" server="https://l.example">'
                         '<license><permits type="usage">all</permits><payment type="free"/></license></content></rsl>')  # fmt: skip
    assert training_extent(document, ORIGIN)["licence_required"] == "all"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<html><body>not a licence</body></html>", "no <rsl> root element"),
        (b"<rsl xmlns='https://rslstandard.org/rsl'></rsl>", "no <content> element"),
        (b"<rsl><content", "not XML"),
        (b"<rsl>" + b" " * MAX_RSL_BYTES + b"</rsl>", "larger than"),
    ],
)
def test_rsl_bad_documents(body, error):
    document = parse_rsl(body)
    assert not document.valid and document.error.startswith(error)


def test_rsl_entities_are_not_resolved():
    body = (b'<!DOCTYPE rsl [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
            b'<rsl><content url="/"><license><prohibits type="usage">&x;</prohibits></license></content></rsl>')  # fmt: skip
    document = parse_rsl(body)
    assert document.contents[0].prohibits.get("usage", []) == []


# -- TDMRep policy -----------------------------------------------------------------------------------


def test_tdm_policy_offer():
    policy = parse_tdm_policy((FIXTURES / "tdmpolicy" / "w3c-style-offer.json").read_bytes())
    assert policy.valid and policy.tdmrep_profile and policy.policy_type == "Offer"
    assert policy.permits == ["tdm:mine"]
    assert policy.duties == ["obtainConsent", "compensate"]
    assert policy.constraints == ["purpose eq tdm:research"]
    assert policy.contact["vcard:hasEmail"] == "mailto:tdm@publisher.example"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[" * 40 + b"]" * 40, "nested deeper than"),
        (b'{"a": "' + b"x" * MAX_POLICY_BYTES + b'"}', "larger than"),
        (b"<html>", "not JSON"),
        (b"[]", "not a JSON object"),
    ],
)
def test_tdm_policy_bad_documents(body, error):
    policy = parse_tdm_policy(body)
    assert not policy.valid and policy.error.startswith(error)


def test_tdm_policy_brackets_inside_strings_are_not_nesting():
    body = json.dumps({"@type": "Offer", "uid": "[" * 100, "prohibition": [{"action": "tdm:mine"}]}).encode()
    policy = parse_tdm_policy(body)
    assert policy.valid and policy.prohibits == ["tdm:mine"]


# -- llms.txt ----------------------------------------------------------------------------------------

LLMS = b"""# Example Site

> What this site is about.

## Docs

- [Guide](/docs/guide.md): how to start
- [Members](https://example.com/members/list.md)
- [Elsewhere](https://other.example/page)
- [Guide again](/docs/guide.md)
"""


def test_llmstxt_links_and_the_paths_robots_bars():
    llms = parse_llmstxt(LLMS, ORIGIN + "/llms.txt")
    assert (llms.markdown, llms.title, llms.size) == (True, "Example Site", len(LLMS))
    assert llms.links == ["https://example.com/docs/guide.md", "https://example.com/members/list.md",
                          "https://other.example/page"]  # fmt: skip
    robots = RobotsTxt.parse("User-agent: GPTBot\nDisallow: /members/\n\nUser-agent: *\nAllow: /\n")
    assert disallowed_links(llms, robots, ORIGIN, ["GPTBot", "ClaudeBot"]) == [
        {"url": "https://example.com/members/list.md", "agents": ["GPTBot"]}
    ]


def test_llmstxt_html_page_is_not_markdown():
    llms = parse_llmstxt(b"<!doctype html><html><a href=x>[a](b)</a>", ORIGIN + "/llms.txt")
    assert not llms.markdown and llms.links == []


# -- trust.txt ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        (b"# trust.txt\nbelongto=https://journallist.net/\ndatatrainingallowed=no\n", "no"),
        (b"DataTrainingAllowed = YES\r\ncontact=mailto:x@example.com\n", "yes"),
        (b"datatrainingallowed=no\ndatatrainingallowed=yes\n", ""),  # contradicting itself
        (b"datatrainingallowed=maybe\n", ""),
        (b"member=https://a.example/\n", ""),
    ],
)
def test_trusttxt_datatraining(body, allowed):
    found = parse_trusttxt(body)
    assert found.valid and found.datatraining_allowed == allowed


def test_trusttxt_not_a_trust_file():
    assert not parse_trusttxt(b"<html><body>404</body></html>").valid


# -- Bing's nocache / noarchive ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x_robots", "meta", "expected"),
    [
        (["noarchive"], None, "noarchive"),
        (["nocache"], None, "nocache"),
        (["noarchive, nocache"], None, "nocache"),  # both: Bing treats the page as nocache
        (["bingbot: noarchive"], None, "noarchive"),
        (["googlebot: noarchive"], None, ""),  # addressed to another crawler
        ([], ("robots", "noarchive"), "noarchive"),
        ([], ("bingbot", "nocache, noarchive"), "nocache"),
        ([], ("googlebot", "noarchive"), ""),
    ],
)
def test_bing_directives(x_robots, meta, expected):
    if meta is None:
        assert parse_headers([("X-Robots-Tag", value) for value in x_robots]).bing_ai == expected
    else:
        head = f'<head><meta name="{meta[0]}" content="{meta[1]}"></head>'.encode()
        assert parse_html_head(head, agent_names=frozenset()).bing_ai == expected


# -- never raise -------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEEDS = [p.read_bytes() for folder in ("rsl", "tdmpolicy") for p in sorted((FIXTURES / folder).iterdir())] + [LLMS]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SEEDS).flatmap(lambda seed: st.integers(0, len(seed)).map(lambda cut: seed[:cut]))
       | st.binary(max_size=300))  # fmt: skip
def test_new_detectors_never_raise(body):
    training_extent(parse_rsl(body), ORIGIN)
    parse_tdm_policy(body)
    parse_trusttxt(body)
    disallowed_links(parse_llmstxt(body, ORIGIN + "/llms.txt"), RobotsTxt.parse(body), ORIGIN, ["GPTBot"])
