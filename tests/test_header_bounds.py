"""A response with more header lines, or a longer header line, than any real server sends is refused.

aiohttp's parser bounds every response (128 header lines, 8,190 bytes a line or field); a site that
goes past either gets the fault ``headers_too_large`` in its row, and the run goes on.
"""

from __future__ import annotations

from crawling import crawl

from optout_audit.webfarm import Resource, Site, running_farm

ROBOTS = "User-agent: GPTBot\nDisallow: /\n"
MANY = [("Content-Type", "text/plain"), *((f"X-Filler-{n}", "x") for n in range(300))]
LONG = [("Content-Type", "text/plain"), ("X-Robots-Tag", "noai, " + "x" * 20_000)]
SITES = [
    Site("many-headers.test", {"/robots.txt": Resource(body=ROBOTS.encode(), headers=MANY)}),
    Site("long-header.test", {"/robots.txt": Resource(body=ROBOTS.encode(), headers=LONG)}),
    Site("home-many.test", {"/robots.txt": Resource.text(ROBOTS), "/": Resource(body=b"<html></html>", headers=MANY)}),
    Site("plain.test", {"/robots.txt": Resource.text(ROBOTS), "/": Resource.html("<html></html>")}),
]


def test_oversized_headers_are_a_fault_of_their_own(tmp_path):
    with running_farm(SITES) as farm:
        run = crawl(farm, [f"https://{site.host}/" for site in SITES], tmp_path / "run")
    for host in ("many-headers.test", "long-header.test"):
        robots = run.records[host]["robots"]
        assert robots["fault"] == "headers_too_large", (host, robots)
        assert run.domains[host]["error"] == "response headers beyond the parser's bounds (128 lines, 8,190 bytes)"
        assert run.domains[host]["reserves_ai_training"] == "unknown"
    home = run.records["home-many.test"]["home"]
    assert home["fault"] == "headers_too_large" and run.records["home-many.test"]["status"] == "ok"
    assert run.domains["plain.test"]["reserves_ai_training"] == "yes"
