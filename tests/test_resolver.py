"""Names resolve through the hosts file only: known names to their address, others fail at once."""

from __future__ import annotations

import asyncio
import socket

import pytest

from optout_audit.downloader.resolver import HostsFileAsyncResolver, read_hosts_file


@pytest.fixture
def hosts(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(
        "# a comment line\n"
        "127.0.0.5  Site.Test  www.site.test   # trailing comment\n"
        "127.0.0.6  site.test other.test\n"  # a second entry for site.test: the first wins
        "::1        six.test\n"
        "127.0.0.7\n"  # an address without names is ignored
    )
    return read_hosts_file(path)


def test_hosts_file_table(hosts):
    assert hosts == {
        "site.test": "127.0.0.5",
        "www.site.test": "127.0.0.5",
        "other.test": "127.0.0.6",
        "six.test": "::1",
    }


def test_async_resolver_answers_from_the_table(hosts):
    resolver = HostsFileAsyncResolver(hosts)
    answers = asyncio.run(resolver.resolve("SITE.test.", 443))
    assert [(a["host"], a["port"], a["family"]) for a in answers] == [("127.0.0.5", 443, socket.AF_INET)]
    six = asyncio.run(resolver.resolve("six.test", 80))
    assert [(a["host"], a["family"]) for a in six] == [("::1", socket.AF_INET6)]


def test_async_resolver_fails_unknown_names_without_a_lookup(hosts, monkeypatch):
    def no_lookup(*args, **kwargs):
        raise AssertionError("a real DNS look-up was attempted")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    with pytest.raises(OSError, match="not in the hosts file"):
        asyncio.run(HostsFileAsyncResolver(hosts).resolve("example.com", 443))
