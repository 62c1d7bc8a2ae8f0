"""DNS resolvers that answer from a hosts(5) file, for crawling a local mirror or test web.

Set ``HOSTS_FILE`` (``--hosts-file``) to use them. Names in the file resolve to its addresses;
names absent from it fail as DNS errors without any network look-up, so a test web can never
leak a request to a real host. :class:`HostsFileAsyncResolver` serves the download handler
(aiohttp); :class:`HostsFileResolver` serves Twisted (``TWISTED_DNS_RESOLVER``: Scrapy's own
HTTP handler, and the benchmark's floor), and without ``HOSTS_FILE`` is Scrapy's caching resolver.
"""

from __future__ import annotations

import socket
from pathlib import Path

from aiohttp.abc import AbstractResolver, ResolveResult
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError


def read_hosts_file(path: str | Path) -> dict[str, str]:
    """Host name (lower-case) -> address, first entry winning as in hosts(5)."""
    table: dict[str, str] = {}
    for line in Path(path).read_text("utf-8", errors="replace").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        address, *names = fields
        for name in names:
            table.setdefault(name.lower().rstrip("."), address)
    return table


class HostsFileResolver(CachingThreadedResolver):
    hosts: dict[str, str] | None = None

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        hosts_file = crawler.settings.get("HOSTS_FILE")
        if hosts_file:
            resolver.hosts = read_hosts_file(hosts_file)
        return resolver

    def getHostByName(self, name, timeout=()):  # noqa: N802 - Twisted's IResolverSimple
        if self.hosts is None:
            return super().getHostByName(name, timeout)
        address = self.hosts.get(name.lower().rstrip("."))
        if address is None:
            return defer.fail(DNSLookupError(f"{name} is not in the hosts file"))
        return defer.succeed(address)


class HostsFileAsyncResolver(AbstractResolver):
    """The same answers for aiohttp (the download handler): names absent from the table fail with
    ``OSError`` (a DNS error to aiohttp) without any look-up."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.hosts.get(host.lower().rstrip("."))
        if address is None:
            raise OSError(f"{host} is not in the hosts file")
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": address_family,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass
