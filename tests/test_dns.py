"""The real resolver (c-ares) against the local DNS server on loopback: answers, faults, TTLs, limits.

Every look-up goes to :func:`optout_audit.webfarm.dns.running_dns` on a 127.x address; each test
also checks that the server's query log saw what the resolver asked, so nothing went elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest

from optout_audit.downloader.addresses import AddressPolicy
from optout_audit.downloader.dns import (
    CachingAsyncResolver,
    DnsConfig,
    DnsNoDataError,
    DnsNotFoundError,
    DnsServerFailureError,
    DnsTimeoutError,
    GuardedConnector,
    parse_server,
)
from optout_audit.webfarm import Resource, Site, running_farm
from optout_audit.webfarm.dns import Zone, running_dns, times_out

RECORDS = {
    "dual.test": {"a": ["127.0.0.9"], "aaaa": ["::1"], "ttl": 1},
    "v4.test": {"a": ["127.0.0.8", "127.0.0.10"]},
    "v6.test": {"aaaa": ["::1"]},
    "alias.test": {"cname": "v4.test"},
    "nodata.test": {"fault": "nodata"},
    "servfail.test": {"fault": "servfail"},
    "refused.test": {"fault": "refused"},
    "silent.test": {"fault": "timeout"},
    "slow.test": {"a": ["127.0.0.7"], "delay": 1500},
    **{f"silent{n}.test": {"fault": "timeout"} for n in range(4)},
}


@pytest.fixture(scope="module")
def server():
    with running_dns(Zone(records=RECORDS)) as running:
        yield running


def resolver_for(server, **overrides) -> CachingAsyncResolver:
    return CachingAsyncResolver(DnsConfig(**{"servers": (server.server,), "timeout": 0.3, "tries": 2, **overrides}))


def resolve_all(resolver: CachingAsyncResolver, names: list[str]) -> list:
    async def run():
        return await asyncio.gather(
            *(resolver.resolve(name, 443, socket.AF_UNSPEC) for name in names), return_exceptions=True
        )

    return asyncio.run(run())


def addresses(results) -> list[tuple[str, int]]:
    return [(r["host"], r["family"]) for r in results]


def test_answers_both_families_ipv4_first_and_follows_cnames(server):
    resolver = resolver_for(server)
    dual, v4, v6, alias = resolve_all(resolver, ["dual.test", "v4.test", "v6.test", "alias.test"])
    assert addresses(dual) == [("127.0.0.9", socket.AF_INET), ("::1", socket.AF_INET6)]
    assert addresses(v4) == [("127.0.0.8", socket.AF_INET), ("127.0.0.10", socket.AF_INET)]
    assert addresses(v6) == [("::1", socket.AF_INET6)]
    assert addresses(alias) == addresses(v4)
    assert {r["port"] for r in dual} == {443}
    assert resolver.servers == [server.server]
    asked = {(q["name"], q["type"]) for q in server.queries()}
    assert {("dual.test", "A"), ("dual.test", "AAAA"), ("alias.test", "A")} <= asked


def test_prefer_ipv6_puts_ipv6_first(server):
    (dual,) = resolve_all(resolver_for(server, prefer_ipv6=True), ["dual.test"])
    assert addresses(dual) == [("::1", socket.AF_INET6), ("127.0.0.9", socket.AF_INET)]


@pytest.mark.parametrize(
    ("name", "error", "fault"),
    [
        ("nowhere.test", DnsNotFoundError, "dns_nxdomain"),
        ("nodata.test", DnsNoDataError, "dns_nodata"),
        ("servfail.test", DnsServerFailureError, "dns_servfail"),
        ("refused.test", DnsServerFailureError, "dns_servfail"),
        ("silent.test", DnsTimeoutError, "dns_timeout"),
    ],
)
def test_each_failure_has_its_fault(server, name, error, fault):
    (result,) = resolve_all(resolver_for(server), [name])
    assert type(result) is error and result.fault == fault
    assert isinstance(result, OSError)  # aiohttp reports it as a DNS error of the connection


def test_cache_honours_ttl_and_failures_are_cached(server):
    resolver = resolver_for(server)

    async def run():
        await resolver.resolve("dual.test")  # TTL 1 s
        await resolver.resolve("v4.test")  # TTL 300 s (the zone's)
        with pytest.raises(DnsNotFoundError):
            await resolver.resolve("gone.test")
        first = resolver.lookups
        await resolver.resolve("dual.test")
        await resolver.resolve("v4.test")
        with pytest.raises(DnsNotFoundError):
            await resolver.resolve("gone.test")
        cached = resolver.lookups
        await asyncio.sleep(1.2)
        await resolver.resolve("dual.test")
        await resolver.resolve("v4.test")
        return first, cached, resolver.lookups

    first, cached, after = asyncio.run(run())
    assert (first, cached, after) == (3, 3, 4)  # only dual.test was asked again, once its TTL ran out


def test_cache_is_bounded_least_recently_used_first(server):
    resolver = resolver_for(server, cache_size=2)

    async def run():
        for name in ("dual.test", "v4.test", "dual.test", "v6.test"):  # v4.test is the least recent
            await resolver.resolve(name)
        before = resolver.lookups
        await resolver.resolve("dual.test")
        await resolver.resolve("v4.test")
        return before, resolver.lookups, list(resolver.cache)

    before, after, kept = asyncio.run(run())
    assert (before, after) == (3, 4)
    assert kept == ["dual.test", "v4.test"]


def test_concurrent_lookups_of_one_name_share_one_query(server):
    resolver = resolver_for(server)
    results = resolve_all(resolver, ["v4.test"] * 50)
    assert all(addresses(r) == addresses(results[0]) for r in results)
    assert resolver.lookups == 1


def test_a_slow_name_does_not_stall_the_others(server):
    resolver = resolver_for(server, timeout=3.0, tries=1, concurrency=4)

    async def run():
        slow = asyncio.ensure_future(resolver.resolve("slow.test"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        names = [f"other{number}.test" for number in range(40)]
        outcomes = await asyncio.gather(
            *(resolver.resolve(n) for n in ["v4.test", "v6.test", *names]), return_exceptions=True
        )
        elapsed = time.monotonic() - started
        return outcomes, elapsed, await slow

    outcomes, elapsed, slow = asyncio.run(run())
    assert addresses(outcomes[0])[0] == ("127.0.0.8", socket.AF_INET)
    assert all(isinstance(o, DnsNotFoundError) for o in outcomes[2:])
    assert elapsed < 1.0  # the slow answer (1.5 s) holds one of 4 slots, not the others
    assert addresses(slow) == [("127.0.0.7", socket.AF_INET)]


def test_concurrency_limit_bounds_names_in_flight(server):
    def four_silent_names(limit: int) -> tuple[list, float]:
        resolver = resolver_for(server, timeout=0.4, tries=1, concurrency=limit)

        async def run():
            started = time.monotonic()
            outcomes = await asyncio.gather(
                *(resolver.resolve(f"silent{n}.test") for n in range(4)), return_exceptions=True
            )
            return outcomes, time.monotonic() - started

        return asyncio.run(run())

    narrow, narrow_elapsed = four_silent_names(2)
    wide, wide_elapsed = four_silent_names(8)
    assert all(isinstance(o, DnsTimeoutError) for o in narrow + wide)
    # four names that never get an answer: two rounds of the 0.4 s timeout through 2 slots, one through 8
    assert narrow_elapsed >= 0.75
    assert wide_elapsed >= 0.35
    assert narrow_elapsed > 1.5 * wide_elapsed


def test_server_settings_are_checked():
    assert parse_server("127.0.0.1") == "127.0.0.1"
    assert parse_server("127.0.0.1:5353") == "127.0.0.1:5353"
    assert parse_server("[::1]:5353") == "[::1]:5353"
    assert parse_server("::1") == "::1"
    for bad in ("dns.example", "127.0.0.1:0", "127.0.0.1:99999", "[::1]x", ""):
        with pytest.raises(ValueError):
            parse_server(bad)


def test_times_out_picks_a_stable_share():
    names = [f"site{n:06d}.example" for n in range(20_000)]
    chosen = [n for n in names if times_out(n, 0.05, 1)]
    assert 0.045 < len(chosen) / len(names) < 0.055
    assert chosen == [n for n in names if times_out(n, 0.05, 1)]


def test_a_site_failing_over_ipv6_is_fetched_over_ipv4():
    """AAAA points to ::1, where nothing listens on the farm's port; the connection falls back to IPv4."""
    site = Site("both.test", {"/robots.txt": Resource.text("User-agent: *\nDisallow: /private\n")})
    with running_farm([site]) as farm:
        zone = Zone(records={"both.test": {"a": [farm.address], "aaaa": ["::1"]}})
        with running_dns(zone) as dns:

            async def fetch() -> tuple[int, str]:
                config = DnsConfig(servers=(dns.server,), timeout=0.5, prefer_ipv6=True)
                connector = GuardedConnector(
                    policy=AddressPolicy(allow_private=True), resolver=CachingAsyncResolver(config), use_dns_cache=False
                )
                async with (
                    aiohttp.ClientSession(connector=connector) as session,
                    session.get("http://both.test/robots.txt") as response,
                ):
                    return response.status, await response.text()

            status, text = asyncio.run(fetch())
        assert status == 200 and "Disallow: /private" in text
        assert farm.request_log() == [("both.test", "GET", "/robots.txt", "http")]


def test_global_ipv6_is_read_from_the_interface_table(tmp_path):
    from optout_audit.downloader.dns import has_global_ipv6

    table = tmp_path / "if_inet6"
    # loopback, link-local and a ULA (fd00::2): none of them reaches a public site over IPv6
    table.write_text(
        "00000000000000000000000000000001 01 80 10 80 lo\n"
        "fe8000000000000000fc00fffe000001 04 40 20 80 eth0\n"
        "fd000000000000000000000000000002 04 40 00 82 eth0\n"
    )
    assert has_global_ipv6(str(table)) is False
    with table.open("a") as handle:
        handle.write("2a0104f8010a00000000000000000002 02 40 00 00 eth1\n")  # 2a01:4f8:10a::2
    assert has_global_ipv6(str(table)) is True
    assert has_global_ipv6(str(tmp_path / "missing")) is True  # nothing to read: ask AAAA


def test_prefetch_walks_the_spiders_sites_in_its_order(tmp_path):
    from types import SimpleNamespace

    from optout_audit.downloader.dns_prefetch import _hosts_in_input_order

    listing = tmp_path / "sites.txt"
    listing.write_text("# a comment\na.test\nnot a url\nhttps://b.test/x\nc.test\nd.test\n\ne.test\n")
    spider = SimpleNamespace(input_path=str(listing), shard=None, skip_hosts=set())
    assert list(_hosts_in_input_order(spider)) == ["a.test", None, "b.test", "c.test", "d.test", "e.test"]
    spider.skip_hosts = {"https://c.test"}
    assert "c.test" not in list(_hosts_in_input_order(spider))
    spider.skip_hosts, spider.shard = set(), (1, 2)
    assert list(_hosts_in_input_order(spider)) == [None, "c.test", "e.test"]
