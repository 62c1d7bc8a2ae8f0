"""Signals the demo web does not show, read through a real crawl; CSV injection; politeness."""

from __future__ import annotations

import itertools
import json

import pytest
from crawling import crawl

from optout_audit import USER_AGENT
from optout_audit.webfarm import Resource, Site, running_farm

PLAIN = "<html><head><title>t</title></head><body>x</body></html>"


def _site(host, robots="User-agent: *\nAllow: /\n", head="", headers=(), extra=None):
    resources = {
        "/robots.txt": Resource.text(robots),
        "/": Resource.html(f"<html><head><title>t</title>{head}</head><body>x</body></html>", headers=list(headers)),
    }
    resources.update(extra or {})
    return Site(host, resources)


SITES = [
    _site("xrobots-botname.test", headers=[("X-Robots-Tag", "googlebot: noai, noimageai")]),
    # A Latin-1 octet (0xE9) in the header: the values are read from the bytes as sent.
    _site("xrobots-latin1.test", headers=[("X-Robots-Tag", "noai, résumé")]),
    _site("xrobots-unavailable.test", headers=[("X-Robots-Tag", "unavailable_after: 25 Jun 2030 15:00:00 PST")]),
    _site("googlebot-meta.test", head='<meta name="googlebot" content="noimageai">'),
    _site("standalone-meta.test", head='<meta name="noai" content="noai">'),
    _site("description-meta.test", head='<meta name="description" content="noai">'),
    _site("content-usage-header.test", headers=[("Content-Usage", "train-ai=n, search=y")]),
    _site("content-usage-invalid.test", headers=[("Content-Usage", "Train-AI=n")]),
    _site("content-usage-path.test", robots="User-agent: *\nAllow: /\nContent-Usage: /private/ train-ai=n\n"),
    _site("disallow-ai-training.test", robots="User-agent: *\nDisallowAITraining: /\n"),
    # RFC 9110 5.3: repeated fields are one list; the signal sits in the second of each
    _site(
        "repeated-headers.test",
        headers=[
            ("X-Robots-Tag", "noindex"),
            ("X-Robots-Tag", "noimageai"),
            ("Content-Usage", "search=y"),
            ("Content-Usage", "train-ai=n"),
            ("Link", '<https://repeated-headers.test/a>; rel="next"'),
            ("Link", '<https://repeated-headers.test/license.xml>; rel="license"; type="application/rsl+xml"'),
        ],
    ),
    # issue 17's new signals
    _site(
        "rsl-file.test",
        robots="License: /license.xml\nUser-agent: *\nAllow: /\n",
        extra={
            "/license.xml": Resource(
                200,
                b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/news/"><license>'
                b'<prohibits type="usage">ai-train</prohibits></license></content></rsl>',
                [("Content-Type", "application/rsl+xml")],
            )
        },
    ),
    _site(
        "rsl-unreadable.test",
        robots="License: /license.xml\nUser-agent: *\nAllow: /\n",
        extra={"/license.xml": Resource.text("x", status=503)},
    ),
    _site(
        "tdm-policy.test",
        headers=[("tdm-reservation", "1"), ("tdm-policy", "/policy.json")],
        extra={
            "/policy.json": Resource.json(
                {
                    "@type": "Offer",
                    "profile": "http://www.w3.org/ns/tdmrep",
                    "permission": [{"action": "tdm:mine", "duty": [{"action": "compensate"}]}],
                }
            )
        },
    ),
    _site(
        "trust-no.test",
        extra={"/trust.txt": Resource.text("belongto=https://journallist.net/\ndatatrainingallowed=no\n")},
    ),
    _site(
        "llms-barred.test",
        robots="User-agent: GPTBot\nDisallow: /members/\n\nUser-agent: *\nAllow: /\n",
        extra={"/llms.txt": Resource.text("# Site\n\n- [Members](/members/list.md)\n- [Docs](/docs.md)\n")},
    ),
    _site("bing.test", headers=[("X-Robots-Tag", "noarchive")], head='<meta name="bingbot" content="nocache">'),
    _site("content-usage-every-path.test", robots="User-agent: *\nAllow: /\nContent-Usage: /* train-ai=n\n"),
    _site("disallow-ai-training-path.test", robots="User-agent: Foo\nDisallowAITraining: /news/\n"),
    _site(
        "aitxt-file-types.test", extra={"/ai.txt": Resource.text("User-Agent: *\nDisallow: *.jpg\nDisallow: *.png\n")}
    ),
    _site(
        "tdmrep-shadowed.test",
        extra={
            "/.well-known/tdmrep.json": Resource.json(
                '[{"location": "/", "tdm-reservation": 0}, {"location": "/images/*", "tdm-reservation": 1}]'
            )
        },
    ),
    _site(
        "tdmrep-half-shadowed.test",
        extra={
            "/.well-known/tdmrep.json": Resource.json(
                '[{"location": "/*.png$", "tdm-reservation": 0}, {"location": "/*.png", "tdm-reservation": 1}]'
            )
        },
    ),
    Site(
        "truncated-bom.test",
        {
            "/robots.txt": Resource.text(b"\xef\xbbUser-agent: GPTBot\nDisallow: /\n"),
            "/": Resource.html(PLAIN),
        },
    ),
    _site(
        "home-too-large.test", extra={"/": Resource.html("<html><head>" + "x" * (5 * 1024 * 1024) + "</head></html>")}
    ),
    _site("rsl.test", robots="License: https://rsl.test/license.xml\nUser-agent: *\nAllow: /\n"),
    _site(
        "tdm-meta-overrides.test",
        head='<meta name="tdm-reservation" content="0">',
        extra={"/.well-known/tdmrep.json": Resource.json('[{"location": "/", "tdm-reservation": 1}]')},
    ),
    _site(
        "tdmrep-object.test",
        extra={"/.well-known/tdmrep.json": Resource.json('{"location": "/", "tdm-reservation": 1}')},
    ),
    _site(
        "tdmrep-true.test",
        extra={"/.well-known/tdmrep.json": Resource.json('[{"location": "/", "tdm-reservation": true}]')},
    ),
    _site("tdmrep-spa.test", extra={"/.well-known/tdmrep.json": Resource.html("<!doctype html><p>app</p>")}),
    _site("aitxt-markdown.test", extra={"/ai.txt": Resource.text("# About this site\n\nWe love AI.\n")}),
    _site(
        "formulas.test",
        robots="User-agent: *\nContent-Signal: +cmd|' /C calc'!A0, ai-train=no\nAllow: /\n",
        headers=[("tdm-reservation", "1"), ("tdm-policy", '=HYPERLINK("http://evil.test","x")')],
    ),
    _site("us-blocked.test", robots="User-agent: optout-audit\nDisallow: /\n\nUser-agent: *\nAllow: /\n"),
    _site("crawl-delay.test", robots="User-agent: *\nCrawl-delay: 2\nAllow: /\n"),
    _site("crawl-delay-nan.test", robots="User-agent: *\nCrawl-delay: nan\nCrawl-delay: -3\nCrawl-delay: soon\n"),
    _site("applebot-only.test", robots="User-agent: Applebot\nDisallow: /\n"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with running_farm(SITES) as farm:
        result = crawl(farm, [f"https://{site.host}/" for site in SITES], tmp_path_factory.mktemp("signals") / "run")
        result.requests = farm.request_records()
    return result


COLUMNS = (
    "reserves_ai_training",
    "reservation_signals",
    "noai",
    "noimageai",
    "tdm_reservation",
    "tdm_source",
    "content_usage",
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("xrobots-botname.test", ("yes", "noai;noimageai", "true", "true", "", "", "")),
        ("xrobots-latin1.test", ("yes", "noai", "true", "false", "", "", "")),
        ("xrobots-unavailable.test", ("no", "", "false", "false", "", "", "")),
        ("googlebot-meta.test", ("yes", "noimageai", "false", "true", "", "", "")),
        ("standalone-meta.test", ("yes", "noai", "true", "false", "", "", "")),
        ("description-meta.test", ("no", "", "false", "false", "", "", "")),
        (
            "content-usage-header.test",
            ("yes", "content_usage_train_ai_n", "false", "false", "", "", "train-ai=n, search=y"),
        ),
        ("content-usage-invalid.test", ("no", "", "false", "false", "", "", "Train-AI=n")),
        (
            "repeated-headers.test",
            ("yes", "content_usage_train_ai_n;noimageai", "false", "true", "", "", "search=y, train-ai=n"),
        ),
        ("rsl-file.test", ("partial", "rsl_prohibits_ai_train_partial", "false", "false", "", "", "")),
        ("rsl-unreadable.test", ("unknown", "", "false", "false", "", "", "")),
        ("tdm-policy.test", ("yes", "tdm_reservation", "false", "false", "1", "header", "")),
        ("trust-no.test", ("yes", "trust_txt_datatraining_no", "false", "false", "", "", "")),
        ("llms-barred.test", ("partial", "robots_training_agent_partial", "false", "false", "", "", "")),
        ("bing.test", ("no", "", "false", "false", "", "", "")),
        # issue 17 class 4: a path-scoped reservation is one for part of the site
        (
            "content-usage-path.test",
            ("partial", "content_usage_train_ai_n_partial", "false", "false", "", "", "/private/ train-ai=n"),
        ),
        (
            "content-usage-every-path.test",
            ("yes", "content_usage_train_ai_n", "false", "false", "", "", "/* train-ai=n"),
        ),
        ("disallow-ai-training-path.test", ("partial", "disallow_ai_training_partial", "false", "false", "", "", "")),
        ("aitxt-file-types.test", ("partial", "ai_txt_partial", "false", "false", "", "", "")),
        # issue 17 class 1: a reserving rule shadowed by an earlier rule reserves nothing
        ("tdmrep-shadowed.test", ("no", "", "false", "false", "0", "tdmrep.json", "")),
        ("tdmrep-half-shadowed.test", ("partial", "tdmrep_partial", "false", "false", "", "", "")),
        # issue 17 class 5: a truncated BOM does not cost the first line
        ("truncated-bom.test", ("yes", "robots_training_agent_full", "false", "false", "", "", "")),
        # issue 11: the home page refused as too large -> not "no"
        ("home-too-large.test", ("unknown", "", "", "", "", "", "")),
        ("disallow-ai-training.test", ("yes", "disallow_ai_training;robots_blocks_all", "", "", "", "", "")),
        # the home page's meta 0 supersedes the file for "/", the file still reserves the rest
        ("tdm-meta-overrides.test", ("partial", "tdmrep_partial", "false", "false", "0", "meta", "")),
        ("tdmrep-object.test", ("no", "", "false", "false", "", "", "")),
        ("tdmrep-true.test", ("no", "", "false", "false", "", "", "")),
        ("tdmrep-spa.test", ("no", "", "false", "false", "", "", "")),
        ("aitxt-markdown.test", ("no", "", "false", "false", "", "", "")),
        ("applebot-only.test", ("no", "", "false", "false", "", "", "")),
    ],
)
def test_signal_reading(run, host, expected):
    row = run.domains[host]
    assert tuple(row[column] for column in COLUMNS) == expected


def test_rsl_license_is_recorded(run):
    assert "rsl_license" in run.domains["rsl.test"]["signals"].split(";")
    assert run.records["rsl.test"]["robots_evidence"]["licenses"] == ["https://rsl.test/license.xml"]


def test_every_value_of_a_repeated_header_reaches_the_record(run):
    page = run.records["repeated-headers.test"]["page"]
    assert page["x_robots_tag"] == ["noindex", "noimageai"]
    assert page["license_links"] == ["https://repeated-headers.test/license.xml"]


def test_new_documents_reach_the_record(run):
    rsl = run.records["rsl-file.test"]
    assert [fetch["status"] for fetch in rsl["rsl"]] == ["ok"]
    assert rsl["verdict"]["rsl_training"] == "prohibited"
    assert run.records["rsl-unreadable.test"]["verdict"]["unread_sources"] == ["rsl"]
    policy = run.records["tdm-policy.test"]
    assert policy["tdm_policy"]["status"] == "ok" and policy["tdm_policy_evidence"]["duties"] == ["compensate"]
    assert policy["verdict"]["tdm_policy_terms"]["permits"] == ["tdm:mine"]
    llms = run.records["llms-barred.test"]["llmstxt_evidence"]
    assert llms["disallowed_links"] == [{"url": "https://llms-barred.test/members/list.md", "agents": ["GPTBot"]}]
    assert run.records["bing.test"]["verdict"]["bing_ai"] == "nocache"
    assert run.records["trust-no.test"]["trusttxt"]["status"] == "ok"
    # nothing points to a licence or a policy here: neither is asked for
    assert [r["path"] for r in _requests(run, "trust-no.test")] == [
        "/robots.txt",
        "/",
        "/.well-known/tdmrep.json",
        "/ai.txt",
        "/llms.txt",
        "/trust.txt",
    ]


def test_invalid_tdmrep_file_is_reported_invalid(run):
    assert run.domains["tdmrep-object.test"]["tdmrep_status"] == "invalid"
    assert run.domains["tdmrep-spa.test"]["tdmrep_status"] == "invalid"
    assert run.domains["aitxt-markdown.test"]["aitxt_status"] == "invalid"


def test_applebot_does_not_cover_applebot_extended(run):
    agents = run.agent_rows("applebot-only.test")
    assert (agents["Applebot"]["verdict"], agents["Applebot-Extended"]["verdict"]) == ("full", "none")


def test_formula_cells_are_neutralised(run):
    row = run.domains["formulas.test"]
    assert row["tdm_policy"] == '\'=HYPERLINK("http://evil.test","x")'
    assert row["content_signal"].startswith("'+cmd")
    assert row["reserves_ai_training"] == "yes"
    # the raw record keeps the value as the site sent it
    assert run.records["formulas.test"]["verdict"]["tdm_policy"].startswith("=HYPERLINK")


def _requests(run, host):
    return [r for r in run.requests if r.get("host") == host]


def test_a_site_disallowing_us_gets_no_home_page_request(run):
    paths = [r["path"] for r in _requests(run, "us-blocked.test")]
    assert paths == ["/robots.txt", "/.well-known/tdmrep.json", "/ai.txt", "/llms.txt", "/trust.txt"]
    assert run.domains["us-blocked.test"]["own_access"] == "false"
    assert run.domains["us-blocked.test"]["noai"] == ""  # not read, so unknown


def test_at_most_nine_requests_per_site_with_our_user_agent(run):
    # robots.txt, home, tdmrep.json, ai.txt, llms.txt, trust.txt; 2 licence files and a TDM policy
    # only where a signal points to them
    for site in SITES:
        requests = _requests(run, site.host)
        assert 1 <= len(requests) <= 9, site.host
        record = run.records[site.host]
        followups = len(record["rsl"]) + (record["tdm_policy"]["url"] != "")
        assert len(requests) <= 6 + followups, site.host
        assert {r.get("user_agent") for r in requests} == {USER_AGENT}
    assert sum(len(run.records[s.host]["rsl"]) for s in SITES) >= 3  # follow-ups did happen


def test_only_a_sites_last_request_closes_its_connection(run):
    # Earlier documents reuse the keep-alive connection; the last one closes it rather than leave
    # hundreds of idle TLS connections open (memory), see OptoutSpider._request.
    for site in SITES:
        requests = sorted(_requests(run, site.host), key=lambda r: r["t"])
        assert [r["connection"] for r in requests] == [None] * (len(requests) - 1) + ["close"], site.host


def test_crawl_delay_is_honoured(run):
    times = sorted(r["t"] for r in _requests(run, "crawl-delay.test"))
    assert len(times) == 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 1.8, gaps
    assert json.loads(json.dumps(run.records["crawl-delay.test"]["crawl_delay"])) == 2.0


def test_a_crawl_delay_that_is_no_number_of_seconds_is_none(run):
    record = run.records["crawl-delay-nan.test"]
    assert record["crawl_delay"] is None and record["status"] == "ok"
    assert len(_requests(run, "crawl-delay-nan.test")) == 6


# -- redirects (issue 17 class 2) --------------------------------------------------------------------

REDIRECT_SITES = [
    # 2a: robots.txt redirects to a host that does not resolve: the origin answered
    Site(
        "redirect-fail.test",
        {"/robots.txt": Resource.redirect("https://gone.test/robots.txt"), "/": Resource.html(PLAIN)},
    ),
    # 2b: the home page redirects into a path robots.txt bars us from: not followed
    _site(
        "home-barred.test",
        robots="User-agent: optout-audit\nDisallow: /members/\n",
        extra={
            "/": Resource.redirect("/members/welcome", 302),
            "/members/welcome": Resource.html('<head><meta name="robots" content="noai"></head>'),
        },
    ),
    # ... and to an allowed path: followed, its signals read
    _site(
        "home-allowed.test",
        extra={
            "/": Resource.redirect("/en/", 301),
            "/en/": Resource.html('<head><meta name="robots" content="noai"></head>'),
        },
    ),
    # ... more than 5 hops: given up
    _site("home-loop.test", extra={"/": Resource.redirect("/a", 302), "/a": Resource.redirect("/", 302)}),
]


@pytest.fixture(scope="module")
def redirects(tmp_path_factory):
    with running_farm(REDIRECT_SITES) as farm:
        # bare domains: https first, http only when https cannot connect
        result = crawl(farm, [site.host for site in REDIRECT_SITES], tmp_path_factory.mktemp("redirects") / "run")
        result.requests = farm.request_records()
    return result


def test_robots_redirect_to_a_failing_host_is_not_the_origins_failure(redirects):
    record = redirects.records["redirect-fail.test"]
    assert record["status"] == "ok"
    assert record["robots"]["redirects"] == 1 and record["robots"]["fault"] == "dns_error"
    assert record["verdict"]["reserves_ai_training"] == "unknown"  # the rules could not be read
    requests = _requests(redirects, "redirect-fail.test")
    assert {r["scheme"] for r in requests} == {"https"}  # an origin that connected is not retried over http
    assert [r["path"] for r in requests] == ["/robots.txt", "/.well-known/tdmrep.json", "/ai.txt", "/llms.txt",
                                             "/trust.txt"]  # fmt: skip


def test_home_redirect_into_a_disallowed_path_is_not_followed(redirects):
    record = redirects.records["home-barred.test"]
    assert (record["home"]["status"], record["home"]["redirects"]) == ("skipped", 1)
    assert "/members/welcome" not in [r["path"] for r in _requests(redirects, "home-barred.test")]
    assert record["verdict"]["noai"] is None and record["verdict"]["reserves_ai_training"] == "unknown"


def test_home_redirect_to_an_allowed_path_is_followed(redirects):
    record = redirects.records["home-allowed.test"]
    assert (record["home"]["status"], record["home"]["redirects"]) == ("ok", 1)
    assert record["home"]["final_url"].endswith("/en/")
    assert record["verdict"]["reserves_ai_training"] == "yes"


def test_home_redirect_loop_is_given_up(redirects):
    home = redirects.records["home-loop.test"]["home"]
    assert (home["status"], home["fault"], home["redirects"]) == ("error", "too_many_redirects", 6)
    assert len([r for r in _requests(redirects, "home-loop.test") if r["path"] in ("/", "/a")]) == 6
