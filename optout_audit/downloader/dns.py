"""Name look-ups for real crawls: c-ares (aiodns), asynchronous, cached by TTL, with DNS faults of their own.

aiohttp's default resolver runs ``getaddrinfo`` in a handful of threads: with hundreds of requests in
flight, a few names resolve at a time, and each name that times out holds a thread for the full
resolv.conf timeout. :class:`CachingAsyncResolver` sends A and AAAA queries through one c-ares
channel instead, at most ``DNS_CONCURRENCY`` names at a time, and keeps answers for their TTL in a
bounded LRU cache (a crawl of a million names touches each one for seconds). Failures raise
:class:`DnsError` subclasses whose ``fault`` names them in the record (``dns_nxdomain``,
``dns_nodata``, ``dns_servfail``, ``dns_timeout``); failures are cached too, briefly, so a site's
next documents fail at once.

:class:`GuardedConnector` is the download handler's connector: it applies the
:class:`~optout_audit.downloader.addresses.AddressPolicy` to the addresses it is about to connect
to, whether they came from DNS or from an IP literal in a URL (which aiohttp never hands to a
resolver), so no redirect and no DNS answer leads the crawler to loopback, a private network or a
cloud metadata address unless the user asked for it. :func:`build_connector` picks the resolver
from the settings: ``HOSTS_FILE`` (trusted as given), else c-ares (``DNS_CLIENT = "system"``
brings back aiohttp's threaded ``getaddrinfo``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import aiodns
import aiohttp
import pycares
from aiohttp.abc import AbstractResolver, ResolveResult

from optout_audit.downloader.addresses import AddressPolicy, BlockedAddressError
from optout_audit.downloader.resolver import HostsFileAsyncResolver, read_hosts_file

__all__ = [
    "CachingAsyncResolver",
    "DnsConfig",
    "DnsError",
    "DnsNoDataError",
    "DnsNotFoundError",
    "DnsServerFailureError",
    "DnsTimeoutError",
    "GuardedConnector",
    "build_connector",
    "parse_server",
]

#: How long aiohttp keeps a name when the system resolver is chosen (DNS_CLIENT = "system").
SYSTEM_DNS_CACHE_SECONDS = 60
#: How long a look-up waits for the AAAA answer once the A answer has addresses (RFC 8305's
#: "Resolution Delay"); a later AAAA answer still joins the cached entry.
AAAA_GRACE_SECONDS = 0.05


class DnsError(OSError):
    """A name that did not resolve; ``fault`` is its class in the record."""

    fault = "dns_error"


class DnsNotFoundError(DnsError):
    fault = "dns_nxdomain"


class DnsNoDataError(DnsError):
    fault = "dns_nodata"


class DnsServerFailureError(DnsError):
    """SERVFAIL or REFUSED (or a server that cannot be reached at all)."""

    fault = "dns_servfail"


class DnsTimeoutError(DnsError):
    fault = "dns_timeout"


def _error_classes() -> dict[int, type[DnsError]]:
    errno = pycares.errno
    return {
        errno.ARES_ENOTFOUND: DnsNotFoundError,
        errno.ARES_ENODATA: DnsNoDataError,
        errno.ARES_ESERVFAIL: DnsServerFailureError,
        errno.ARES_EREFUSED: DnsServerFailureError,
        errno.ARES_ENOTIMP: DnsServerFailureError,
        errno.ARES_EFORMERR: DnsServerFailureError,
        errno.ARES_EBADRESP: DnsServerFailureError,
        errno.ARES_ECONNREFUSED: DnsServerFailureError,
        errno.ARES_ETIMEOUT: DnsTimeoutError,
    }


def parse_server(text: str) -> str:
    """``ADDR[:PORT]`` (IPv6 as ``[ADDR]:PORT``) -> the same, checked; ValueError if not an address."""
    import ipaddress

    text = text.strip()
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if rest and not rest.startswith(":"):
            raise ValueError(f"not ADDR[:PORT]: {text!r}")
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        ipaddress.ip_address(host)
        if port is not None and not 0 < int(port) < 65536:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"a DNS server is an IP address with an optional port, e.g. 127.0.0.1:5353, not {text!r}"
        ) from None
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def has_global_ipv6(interfaces: str = "/proc/net/if_inet6") -> bool:
    """Whether this machine has a global IPv6 address, as getaddrinfo's AI_ADDRCONFIG asks before AAAA.

    Without one, no IPv6 connection can reach a public site, so asking AAAA would only double the
    queries. Read from Linux's interface table; True where there is none to read.
    """
    import ipaddress

    try:
        with open(interfaces) as table:
            lines = table.read().splitlines()
    except OSError:
        return True
    for line in lines:
        digits = line.split()[0] if line.split() else ""
        if len(digits) == 32 and ipaddress.IPv6Address(int(digits, 16)).is_global:
            return True
    return False


@dataclass(slots=True)
class DnsConfig:
    """The resolver's settings (see :func:`DnsConfig.from_settings` for their names)."""

    servers: tuple[str, ...] = ()  # empty: the system's /etc/resolv.conf
    timeout: float = 2.0  # seconds for the first try of a query (c-ares scales later tries)
    tries: int = 2
    concurrency: int = 64  # names being looked up at once
    cache_size: int = 65_536  # names kept (LRU)
    min_ttl: float = 0.0
    max_ttl: float = 3600.0
    negative_ttl: float = 300.0  # NXDOMAIN / NODATA
    failure_ttl: float = 60.0  # SERVFAIL / timeout: long enough for the site's other documents
    ipv6: bool = True  # also ask AAAA (the setting's default "auto": when the machine has global IPv6)
    prefer_ipv6: bool = False  # IPv6 addresses first (aiohttp falls back to the other family on failure)

    @classmethod
    def from_settings(cls, settings: Any) -> DnsConfig:
        concurrency = settings.getint("DNS_CONCURRENCY") or settings.getint("CONCURRENT_REQUESTS", 64)
        return cls(
            servers=tuple(parse_server(s) for s in settings.getlist("DNS_SERVERS")),
            timeout=settings.getfloat("DNS_QUERY_TIMEOUT", 2.0),
            tries=max(1, settings.getint("DNS_TRIES", 2)),
            concurrency=max(1, concurrency),
            cache_size=settings.getint("DNSCACHE_SIZE", 65_536) if settings.getbool("DNSCACHE_ENABLED", True) else 0,
            min_ttl=settings.getfloat("DNS_MIN_TTL", 0.0),
            max_ttl=settings.getfloat("DNS_MAX_TTL", 3600.0),
            ipv6=has_global_ipv6()
            if str(settings.get("DNS_IPV6", "auto")).lower() == "auto"
            else settings.getbool("DNS_IPV6"),
            prefer_ipv6=settings.getbool("DNS_PREFER_IPV6", False),
        )


@dataclass(slots=True)
class _Entry:
    expires: float
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    error: DnsError | None = None


class _LoopResolver(aiodns.DNSResolver):
    """aiodns with c-ares's sockets on the event loop (aiodns's fallback mode) instead of c-ares's own
    thread: an answer then costs no hand-over between threads (a fifth less CPU per name)."""

    def _make_channel(self, **kwargs: Any) -> tuple[bool, pycares.Channel]:
        this = weakref.ref(self)  # no cycle resolver -> channel -> callback -> resolver

        def socket_state(fd: int, readable: bool, writable: bool) -> None:
            resolver = this()
            if resolver is not None:
                resolver._sock_state_cb(fd, readable, writable)

        return False, pycares.Channel(sock_state_cb=socket_state, timeout=self._timeout, **kwargs)


class CachingAsyncResolver(AbstractResolver):
    """aiohttp's resolver interface over c-ares, with a TTL cache and a concurrency limit.

    Look-ups of the same name share one query. The c-ares channel is made on first use (it needs
    the running loop). With ``config.servers`` c-ares is given those servers and an empty
    resolv.conf, so nothing of the system's configuration (servers, search domains) is used.
    """

    def __init__(self, config: DnsConfig) -> None:
        self.config = config
        self.cache: OrderedDict[str, _Entry] = OrderedDict()
        self._pending: dict[str, asyncio.Future[_Entry]] = {}
        self._channel: Any = None
        self._slots: asyncio.Semaphore | None = None
        self._errors: dict[int, type[DnsError]] = {}
        self.lookups = 0  # names sent to DNS (cache misses), for tests and the bench

    def _start(self) -> None:
        options: dict[str, Any] = {
            "timeout": self.config.timeout,
            "tries": self.config.tries,
            "flags": pycares.ARES_FLAG_NOSEARCH,
        }
        if self.config.servers:
            options["resolvconf_path"] = "/dev/null"  # the given servers only, no system options or domains
            options["servers"] = list(self.config.servers)
        self._channel = _LoopResolver(**options)
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._errors = _error_classes()

    @property
    def servers(self) -> list[str]:
        """The servers c-ares sends to (after :meth:`resolve` has been called once)."""
        return list(self._channel._channel.servers) if self._channel is not None else []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        entry = self.cache.get(name)
        if entry is not None and entry.expires > time.monotonic():
            self.cache.move_to_end(name)
        else:
            pending = self._pending.get(name)
            if pending is None:
                pending = self._pending[name] = asyncio.ensure_future(self._lookup(name))
                pending.add_done_callback(lambda _, name=name: self._pending.pop(name, None))
            entry = await asyncio.shield(pending)
        if entry.error is not None:
            raise type(entry.error)(*entry.error.args)
        return self._results(host, port, family, entry)

    def _results(self, host: str, port: int, family: int, entry: _Entry) -> list[ResolveResult]:
        v4 = [] if family == socket.AF_INET6 else [(a, socket.AF_INET) for a in entry.v4]
        v6 = [] if family == socket.AF_INET else [(a, socket.AF_INET6) for a in entry.v6]
        ordered = v6 + v4 if self.config.prefer_ipv6 else v4 + v6
        if not ordered:
            raise DnsNoDataError(f"{host}: no address of the family asked for")
        return [
            {"hostname": host, "host": address, "port": port, "family": fam, "proto": 0, "flags": socket.AI_NUMERICHOST}
            for address, fam in ordered
        ]

    async def _lookup(self, name: str) -> _Entry:
        if self._channel is None:
            self._start()
        assert self._slots is not None
        async with self._slots:
            self.lookups += 1
            # the channel's futures are awaited directly: a task per query would cost more than the query
            a_query = self._channel.query_dns(name, "A")
            aaaa_query = self._channel.query_dns(name, "AAAA") if self.config.ipv6 else None
            with contextlib.suppress(Exception):  # the outcome is read by _outcome
                await a_query
            a_result = self._outcome(name, "A", a_query)
            aaaa_result: tuple[tuple[str, ...], float, DnsError | None] = ((), float("inf"), None)
            if aaaa_query is not None:
                if not aaaa_query.done() and a_result[0]:
                    await asyncio.wait([aaaa_query], timeout=AAAA_GRACE_SECONDS)
                if not aaaa_query.done() and a_result[0]:
                    # addresses over IPv4 already: the AAAA answer joins the entry when it comes
                    aaaa_query.add_done_callback(lambda query, name=name: self._late_aaaa(name, query))
                else:
                    with contextlib.suppress(Exception):  # the outcome is read by _outcome
                        await aaaa_query
                    aaaa_result = self._outcome(name, "AAAA", aaaa_query)
        entry = self._entry(name, a_result, aaaa_result)
        if self.config.cache_size > 0:
            self.cache[name] = entry
            self.cache.move_to_end(name)
            while len(self.cache) > self.config.cache_size:
                self.cache.popitem(last=False)
        return entry

    def _outcome(self, name: str, kind: str, query: asyncio.Future) -> tuple[tuple[str, ...], float, DnsError | None]:
        """(addresses, lowest TTL, error) of one finished query; the error is None when it answered."""
        if query.cancelled():
            return (), 0.0, DnsError(f"{name} {kind}: look-up cancelled")
        exc = query.exception()
        if isinstance(exc, aiodns.error.DNSError):
            code = exc.args[0] if exc.args else 0
            message = exc.args[1] if len(exc.args) > 1 else str(exc)
            return (), 0.0, self._errors.get(code, DnsError)(f"{name} {kind}: {message}")
        if exc is not None:
            return (), 0.0, DnsError(f"{name} {kind}: {type(exc).__name__}: {exc}")
        wanted = 1 if kind == "A" else 28
        answer = query.result().answer
        records = [record for record in answer if record.type == wanted]
        if not records:
            return (), 0.0, DnsNoDataError(f"{name} {kind}: no address in the answer")
        ttl = min(min(record.ttl for record in answer), self.config.max_ttl)
        return tuple(record.data.addr for record in records), max(ttl, self.config.min_ttl), None

    def _entry(self, name: str, a_result: tuple, aaaa_result: tuple) -> _Entry:
        now = time.monotonic()
        (v4, ttl4, error4), (v6, ttl6, error6) = a_result, aaaa_result
        if v4 or v6:
            return _Entry(now + min(ttl4 if v4 else ttl6, ttl6 if v6 else ttl4), v4, v6)
        errors = [e for e in (error4, error6) if e is not None]
        error = (
            next((e for e in errors if isinstance(e, DnsNotFoundError)), None)
            or next((e for e in errors if not isinstance(e, DnsNoDataError)), None)
            or errors[0]
            if errors
            else DnsNoDataError(f"{name}: no address")
        )
        negative = isinstance(error, (DnsNotFoundError, DnsNoDataError))
        return _Entry(now + (self.config.negative_ttl if negative else self.config.failure_ttl), error=error)

    def _late_aaaa(self, name: str, query: asyncio.Future) -> None:
        v6, _ttl, _error = self._outcome(name, "AAAA", query)
        entry = self.cache.get(name)
        if v6 and entry is not None and entry.error is None and not entry.v6:
            entry.v6 = v6

    async def close(self) -> None:
        if self._channel is not None:
            close = getattr(self._channel, "close", None)
            if close is not None:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
            self._channel = None


class GuardedConnector(aiohttp.TCPConnector):
    """aiohttp's connector, connecting only to addresses that ``policy`` allows.

    ``_resolve_host`` is where aiohttp turns a URL's host, name or IP literal, into the addresses
    it then connects to (aiohttp 3.14, pinned): filtering there leaves no gap between check and
    connect. A host with no allowed address fails with :class:`BlockedAddressError`.
    """

    def __init__(self, *args: Any, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[ResolveResult]:
        results = await super()._resolve_host(host, port, traces)
        allowed = [result for result in results if self.policy.allows(result["host"])]
        if not allowed:
            addresses = ", ".join(sorted({result["host"] for result in results}))
            raise BlockedAddressError(f"{host} -> {addresses}: not a public address (--allow-private-networks)")
        return allowed


def build_connector(settings: Any, **kwargs: Any) -> GuardedConnector:
    """The download handler's connector for ``settings``; ``kwargs`` go to aiohttp's TCPConnector."""
    hosts_file = settings.get("HOSTS_FILE")
    allow_private = settings.getbool("ALLOW_PRIVATE_NETWORKS", False)
    if hosts_file:
        hosts = read_hosts_file(hosts_file)
        policy = AddressPolicy(allow_private, trusted=frozenset(hosts.values()))
        return GuardedConnector(policy=policy, resolver=HostsFileAsyncResolver(hosts), use_dns_cache=False, **kwargs)
    policy = AddressPolicy(allow_private)
    if settings.get("DNS_CLIENT", "c-ares") == "system":
        cache = settings.getbool("DNSCACHE_ENABLED", True)
        return GuardedConnector(
            policy=policy, use_dns_cache=cache, ttl_dns_cache=SYSTEM_DNS_CACHE_SECONDS if cache else None, **kwargs
        )
    return GuardedConnector(policy=policy, resolver=resolver_for(settings), use_dns_cache=False, **kwargs)


_RESOLVERS: dict[int, tuple[Any, CachingAsyncResolver]] = {}


def resolver_for(settings: Any) -> CachingAsyncResolver:
    """The crawl's one c-ares resolver, shared by the download handler and the prefetch extension
    (:mod:`optout_audit.downloader.dns_prefetch`); keyed by the crawler's settings object."""
    known = _RESOLVERS.get(id(settings))
    if known is None or known[0] is not settings:
        known = _RESOLVERS[id(settings)] = (settings, CachingAsyncResolver(DnsConfig.from_settings(settings)))
    return known[1]
