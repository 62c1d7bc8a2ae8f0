"""Only public addresses are connected to, unless the user said otherwise (issue 16, "Addresses").

The policy table, the connector's check on IP literals (which aiohttp never hands to a resolver),
and crawls on the local web: a redirect to a literal loopback address outside the hosts file, and
a DNS answer with a private address, are refused with ``blocked_address`` and the target never
sees a request; ``--allow-private-networks`` lets the DNS answer through.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from crawling import crawl, optout_audit, read_run

from optout_audit.downloader.addresses import AddressPolicy, BlockedAddressError, is_public_address
from optout_audit.downloader.dns import CachingAsyncResolver, DnsConfig, GuardedConnector
from optout_audit.webfarm import Resource, Site, running_farm
from optout_audit.webfarm.dns import Zone, running_dns

REFUSED = [
    "127.0.0.1",
    "127.255.1.2",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.0.1",
    "169.254.169.254",
    "169.254.0.1",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "0.0.0.0",
    "0.1.2.3",
    "192.0.2.10",
    "198.18.0.1",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "ff0e::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",
    "2002:a9fe:a9fe::1",
    "64:ff9b::a9fe:a9fe",
    "not-an-address",
    "",
]
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "2606:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "[2606:4700::1111]",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert not is_public_address(address)
    assert not AddressPolicy().allows(address)
    assert AddressPolicy(allow_private=True).allows(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert is_public_address(address)


def test_trusted_addresses_are_allowed_and_only_they():
    policy = AddressPolicy(trusted=frozenset({"127.0.0.5"}))
    assert policy.allows("127.0.0.5")
    assert not policy.allows("127.0.0.6")


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1", "::1", "fe80::1", "::ffff:10.0.0.1", "10.1.2.3"])
def test_the_connector_refuses_ip_literals_before_connecting(host, monkeypatch):
    def no_connect(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_connect)

    async def resolve():
        connector = GuardedConnector(policy=AddressPolicy(), use_dns_cache=False)
        try:
            return await connector._resolve_host(host, 80)
        finally:
            await connector.close()

    with pytest.raises(BlockedAddressError, match="not a public address"):
        asyncio.run(resolve())


def test_the_connector_keeps_the_allowed_addresses_of_a_mixed_answer():
    with running_dns(Zone(records={"mixed.test": {"a": ["10.0.0.1", "93.184.215.14", "127.0.0.1"]}})) as dns:

        async def resolve():
            resolver = CachingAsyncResolver(DnsConfig(servers=(dns.server,)))
            connector = GuardedConnector(policy=AddressPolicy(), resolver=resolver, use_dns_cache=False)
            try:
                return await connector._resolve_host("mixed.test", 443)
            finally:
                await connector.close()

        assert [r["host"] for r in asyncio.run(resolve())] == ["93.184.215.14"]


ROBOTS = "User-agent: GPTBot\nDisallow: /\n"


def test_redirect_to_a_literal_loopback_address_outside_the_hosts_file_is_refused(tmp_path, monkeypatch):
    # The crawl below redirects to 169.254.169.254 too: make sure first, with connect() disabled, that
    # the connector refuses it, so that a broken check fails here instead of sending a packet off the machine.
    test_the_connector_refuses_ip_literals_before_connecting("169.254.169.254", monkeypatch)
    monkeypatch.undo()
    target = Site("target.test", {"/robots.txt": Resource.text(ROBOTS)}, default=Resource.text(ROBOTS))
    with running_farm([target]) as other:  # a second web, on a loopback address of its own
        sites = [
            Site("hop.test", {"/robots.txt": Resource.redirect(f"https://{other.address}/robots.txt")}),
            Site("metadata.test", {"/robots.txt": Resource.redirect("http://169.254.169.254/latest/meta-data/")}),
            Site("v6hop.test", {"/robots.txt": Resource.redirect("http://[::1]/robots.txt")}),
        ]
        with running_farm(sites) as farm:
            result = crawl(
                farm, ["https://hop.test/", "https://metadata.test/", "https://v6hop.test/"], tmp_path / "run"
            )
            assert other.request_log() == []  # the target never saw a request
        for host in ("hop.test", "metadata.test", "v6hop.test"):
            robots = result.records[host]["robots"]
            assert robots["fault"] == "blocked_address", (host, robots)
            assert robots["status"] == "unreachable"
            assert result.domains[host]["fault"] == "blocked_address"
            assert result.domains[host]["reserves_ai_training"] == "unknown"
        assert other.address in result.records["hop.test"]["robots"]["error"]


def test_a_literal_address_of_the_hosts_file_is_trusted(tmp_path):
    with running_farm([Site("self.test", {"/robots.txt": Resource.text(ROBOTS)})]) as farm:
        hop = Site("hop.test", {"/robots.txt": Resource.redirect(f"https://{farm.address}/robots.txt")})
        with running_farm([hop]) as hopping:
            # hop.test's farm hosts file names only hop.test; give the crawl one naming both farms
            hosts = tmp_path / "hosts"
            hosts.write_text(hopping.hosts_file.read_text() + farm.hosts_file.read_text())
            input_path = tmp_path / "input.txt"
            input_path.write_text("https://hop.test/\n")
            completed = optout_audit(
                "crawl", str(input_path), "--out", str(tmp_path / "run"), "--hosts-file", str(hosts), "--timeout", "3"
            )
            assert completed.returncode == 0, completed.stderr[-2000:]
            seen = farm.request_log()
        robots = read_run(tmp_path / "run").records["hop.test"]["robots"]
        assert robots["fault"] != "blocked_address"
        assert (farm.address, "GET", "/robots.txt", "https") in seen  # fetched, by its literal address


def _dns_crawl(dns, tmp_path, name, hosts, *extra):
    input_path = tmp_path / f"{name}.txt"
    input_path.write_text("".join(f"https://{host}/\n" for host in hosts))
    completed = optout_audit(
        "crawl", str(input_path), "--out", str(tmp_path / name), "--dns-server", dns.server, "--timeout", "3", *extra
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return read_run(tmp_path / name)


def test_a_private_address_from_dns_is_refused_without_the_flag_and_used_with_it(tmp_path):
    with running_farm([Site("private.test", {"/robots.txt": Resource.text(ROBOTS)})]) as farm:
        # cname.test reaches the same private address through a CNAME chain
        zone = Zone(records={"private.test": {"a": [farm.address]}, "cname.test": {"cname": "private.test"}})
        with running_dns(zone) as dns:
            refused = _dns_crawl(dns, tmp_path, "refused", ["private.test", "cname.test"])
            assert farm.request_log() == []
            allowed = _dns_crawl(dns, tmp_path, "allowed", ["private.test"], "--allow-private-networks")
            assert ("private.test", "GET", "/robots.txt", "https") in farm.request_log()
    for host in ("private.test", "cname.test"):
        robots = refused.records[host]["robots"]
        assert (robots["fault"], robots["status"]) == ("blocked_address", "unreachable")
        assert farm.address in robots["error"]
        assert refused.domains[host]["fault"] == "blocked_address"
    assert allowed.domains["private.test"]["status"] == "ok"
    assert allowed.records["private.test"]["robots"]["http_status"] == 200
