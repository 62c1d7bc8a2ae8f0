"""The fault matrix: every way a site can fail gets one row whose status says what happened.

One local web holds a site per fault; one real crawl audits them all; each test asserts that
site's exact outcome: (status, robots_status, robots fault, reserves_ai_training) and more where
it matters. Nothing is lost, nothing crashes the run, nothing unknown is reported as "no".
"""

from __future__ import annotations

import pytest
from crawling import crawl

from optout_audit.webfarm import (
    Drop,
    Garbage,
    Huge,
    Redirect,
    Reset,
    Resource,
    Site,
    SlowDrip,
    brotli_bomb,
    deflate_bomb,
    gzip_bomb,
    running_farm,
)

GPTBOT_BLOCK = "User-agent: GPTBot\nDisallow: /\n"
HOME = "<html><head><title>t</title><meta name='robots' content='noai'></head><body>x</body></html>"


def _site(host: str, robots: Resource | None, home: Resource | None = None, **kwargs) -> Site:
    resources = {"/": home or Resource.html(HOME)}
    if robots is not None:
        resources["/robots.txt"] = robots
    resources.update(kwargs.pop("extra", {}))
    return Site(host, resources, **kwargs)


def _chain(host: str, hops: int) -> dict[str, Resource]:
    paths = {"/robots.txt": Resource(status=301, fault=Redirect(f"https://{host}/r1"))}
    for hop in range(1, hops):
        paths[f"/r{hop}"] = Resource(status=301, fault=Redirect(f"https://{host}/r{hop + 1}"))
    paths[f"/r{hops}"] = Resource.text(GPTBOT_BLOCK)
    return paths


SITES = [
    _site("nxdomain.test", None, network="nxdomain"),
    _site("refused.test", None, network="refused"),
    _site("tls-broken.test", Resource.text(GPTBOT_BLOCK), network="tls_fail", http=False),
    _site("tls-fallback.test", Resource.text(GPTBOT_BLOCK), network="tls_fail"),
    _site("timeout.test", Resource.text(GPTBOT_BLOCK, delay=10)),
    _site("dropped.test", Resource.text(GPTBOT_BLOCK * 50, fault=Drop(after=20))),
    _site("reset.test", Resource(fault=Reset())),
    _site("garbage.test", Resource(fault=Garbage())),
    _site("slow-drip.test", Resource.text(GPTBOT_BLOCK * 10, fault=SlowDrip(interval_ms=200))),
    _site("server-error.test", Resource.text("oops", status=503)),
    _site("not-found.test", Resource.text("nope", status=404)),
    _site("forbidden.test", Resource.text("no", status=403)),
    _site("redirect-loop.test", Resource(status=302, fault=Redirect("https://redirect-loop.test/robots.txt"))),
    Site("five-hops.test", {**_chain("five-hops.test", 4), "/": Resource.html(HOME)}),
    Site("six-hops.test", {**_chain("six-hops.test", 6), "/": Resource.html(HOME)}),
    _site("html-robots.test", Resource.html("<!DOCTYPE html><html><body>Welcome</body></html>")),
    _site(
        "huge-robots.test",
        Resource(
            headers=[("Content-Type", "text/plain")],
            fault=Huge(mib=3, prefix=GPTBOT_BLOCK.encode(), fill=b"# padding\n"),
        ),
    ),
    _site("bom.test", Resource(body=b"\xef\xbb\xbfUser-agent: *\nDisallow: /\n")),
    _site("latin1.test", Resource(body=b"User-agent: GPTBot\nDisallow: /caf\xe9/\n")),
    _site("utf16.test", Resource(body=GPTBOT_BLOCK.encode("utf-16"))),
    _site("binary.test", Resource(body=bytes(range(256)) * 8)),
    _site("empty.test", Resource(body=b"")),
    _site(
        "html-cap.test",
        Resource.text("User-agent: *\nAllow: /\n"),
        home=Resource(headers=[("Content-Type", "text/html")], fault=Huge(mib=12, prefix=HOME.encode())),
    ),
    _site(
        "bombs.test",
        Resource.text("User-agent: *\nAllow: /\n"),
        home=Resource(headers=[("Content-Type", "text/html")], fault=gzip_bomb(prefix=HOME.encode())),
        extra={"/.well-known/tdmrep.json": Resource(fault=deflate_bomb()), "/ai.txt": Resource(fault=brotli_bomb())},
    ),
    _site(
        "robots-bomb.test",
        Resource(headers=[("Content-Type", "text/plain")], fault=gzip_bomb(prefix=GPTBOT_BLOCK.encode(), fill=b"#")),
    ),
]
INPUT = [f"https://{site.host}/" for site in SITES if site.host != "tls-fallback.test"] + [
    "tls-fallback.test",
    "not a url",
    "http://",
    "ftp://files.test/",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with running_farm(SITES) as farm:
        result = crawl(farm, INPUT, tmp_path_factory.mktemp("faults") / "run", timeout="3")
        result.requests = farm.request_log()
    return result


def outcome(run, host):
    row, record = run.domains[host], run.records[host]
    return row["status"], row["robots_status"], record["robots"]["fault"], row["reserves_ai_training"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("nxdomain.test", ("unreachable", "unreachable", "dns_error", "unknown")),
        ("refused.test", ("unreachable", "unreachable", "connection_refused", "unknown")),
        ("tls-broken.test", ("unreachable", "unreachable", "tls_error", "unknown")),
        ("timeout.test", ("timeout", "timeout", "timeout", "unknown")),
        ("dropped.test", ("error", "error", "connection_dropped", "unknown")),
        ("reset.test", ("error", "error", "connection_dropped", "unknown")),
        ("garbage.test", ("error", "error", "connection_dropped", "unknown")),
        ("slow-drip.test", ("timeout", "timeout", "timeout", "unknown")),
        ("server-error.test", ("ok", "server_error", "", "unknown")),
        ("not-found.test", ("ok", "missing", "", "yes")),  # no robots.txt, but the home page says noai
        ("forbidden.test", ("ok", "missing", "", "yes")),
        ("redirect-loop.test", ("ok", "missing", "too_many_redirects", "yes")),
        ("five-hops.test", ("ok", "ok", "", "yes")),
        ("six-hops.test", ("ok", "missing", "too_many_redirects", "yes")),
        ("html-robots.test", ("ok", "invalid", "html_as_robots", "yes")),
        ("huge-robots.test", ("ok", "too_large", "truncated", "yes")),
        ("bom.test", ("ok", "ok", "", "yes")),
        ("latin1.test", ("ok", "ok", "", "yes")),
        ("utf16.test", ("ok", "ok", "utf16_bridged", "yes")),
        ("binary.test", ("ok", "invalid", "binary", "yes")),
        ("empty.test", ("ok", "ok", "", "yes")),
        ("html-cap.test", ("ok", "ok", "", "unknown")),  # home page refused: noai unread, not "no" (issue 11)
        ("bombs.test", ("ok", "ok", "", "unknown")),
    ],
)
def test_fault_outcome(run, host, expected):
    assert outcome(run, host) == expected


def test_unreachable_sites_are_never_no(run):
    for host, row in run.domains.items():
        if row["status"] != "ok":
            assert row["reserves_ai_training"] == "unknown", host
            assert row["noai"] == "" and row["tdm_reservation"] == "", host


def test_bare_domain_falls_back_to_http_when_tls_fails(run):
    record = run.records["tls-fallback.test"]
    assert record["url"] == "http://tls-fallback.test/"
    assert (record["status"], record["robots"]["status"]) == ("ok", "ok")
    assert run.agent_rows("tls-fallback.test")["GPTBot"]["verdict"] == "full"


def test_unreadable_robots_means_unknown_agents_and_no_home_page(run):
    agents = run.agent_rows("server-error.test")
    assert {row["verdict"] for row in agents.values()} == {"unknown"}
    assert len(agents) == 166
    assert ("server-error.test", "GET", "/", "https") not in run.requests
    assert run.records["server-error.test"]["home"]["status"] == "skipped"


def test_missing_robots_means_none(run):
    assert {row["verdict"] for row in run.agent_rows("not-found.test").values()} == {"none"}


def test_redirect_chain_of_five_is_followed(run):
    robots = run.records["five-hops.test"]["robots"]
    assert (robots["redirects"], robots["final_url"]) == (4, "https://five-hops.test/r4")
    assert run.agent_rows("five-hops.test")["GPTBot"]["verdict"] == "full"


def test_huge_robots_is_parsed_on_its_head(run):
    assert run.agent_rows("huge-robots.test")["GPTBot"]["verdict"] == "full"


def test_bom_is_skipped(run):
    assert run.domains["bom.test"]["blocks_all_crawlers"] == "true"


def test_latin1_rule_is_partial(run):
    gptbot = run.agent_rows("latin1.test")["GPTBot"]
    assert (gptbot["verdict"], gptbot["named"]) == ("partial", "true")


def test_html_cap_and_bombs_are_refused_not_read(run):
    assert run.records["html-cap.test"]["home"]["status"] == "too_large"
    bombs = run.records["bombs.test"]
    assert (bombs["home"]["status"], bombs["tdmrep"]["status"], bombs["aitxt"]["status"]) == (
        "too_large",
        "too_large",
        "too_large",
    )
    assert run.domains["bombs.test"]["noai"] == ""  # the page was not read: unknown, not false


def test_robots_gzip_bomb_is_refused(run):
    record = run.records["robots-bomb.test"]
    assert record["robots"]["status"] == "too_large"
    assert run.domains["robots-bomb.test"]["reserves_ai_training"] == "unknown"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not a url", "not a URL or domain (contains spaces)"),
        ("http://", "no host name"),
        ("ftp://files.test/", "unsupported scheme 'ftp' (only http and https)"),
    ],
)
def test_invalid_input_line(run, line, reason):
    row = run.domains[line]
    assert (row["status"], row["error"], row["domain"], row["reserves_ai_training"]) == (
        "invalid_input",
        reason,
        "",
        "unknown",
    )


def test_one_row_per_input(run):
    assert len(run.domains) == len(INPUT)
    assert len(run.records) == len(INPUT)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("nxdomain.test", "the name could not be resolved"),
        ("refused.test", "connection refused"),
        ("tls-broken.test", "TLS handshake failed"),
        ("timeout.test", "timed out after 3 s"),
        ("dropped.test", "connection closed mid-body"),
        ("reset.test", "connection closed mid-body"),
    ],
)
def test_error_cells_are_short_messages_the_record_keeps_the_exception(run, host, message):
    assert run.domains[host]["error"] == message
    raw = run.records[host]["robots"]["error"]
    assert raw and raw != message  # the exception as raised, for a maintainer
