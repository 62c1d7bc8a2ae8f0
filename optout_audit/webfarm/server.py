"""The farm server: one asyncio process answering every host of a web on its bound sockets.

For each connection on an ``http``/``https`` listener it reads requests in a loop (keep-alive,
``Connection: close`` honoured, idle connections closed after ``idle_timeout``), finds the site by
``Host`` (or the TLS SNI name when ``Host`` is missing), picks the resource by path, logs the
request, waits ``latency`` + ``resource.delay``, then acts out the resource or its fault:

* no fault: status, headers, body; ``304 Not Modified`` when ``If-None-Match`` /
  ``If-Modified-Since`` match the resource's ``ETag`` / ``Last-Modified``; HEAD gets no body
* unknown path: ``site.default`` or a small 404 page; unknown host: ``421 Misdirected Request``
* methods other than GET and HEAD: ``405``; malformed requests: ``400`` and close
* faults: see :mod:`optout_audit.webfarm.faults`; after a broken response the connection closes

``tls_fail`` listeners answer a ClientHello with garbage, ``tls_abort`` ones with a fatal alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import random
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from optout_audit.webfarm import wire
from optout_audit.webfarm.faults import Bomb, Drop, Garbage, Huge, Redirect, Reset, SlowDrip
from optout_audit.webfarm.model import Resource, Site, Web, normalise_host
from optout_audit.webfarm.netplan import NetPlan
from optout_audit.webfarm.payloads import bomb_body, huge_chunks
from optout_audit.webfarm.requestlog import RequestLogWriter
from optout_audit.webfarm.wire import BadRequest, Request

SERVER_NAME = "webfarm/1 (optout-audit test web)"
WRITE_CHUNK = 256 * 1024
#: TLS record: alert, TLS 1.2, length 2, fatal (2), handshake_failure (40).
TLS_HANDSHAKE_FAILURE = b"\x15\x03\x03\x00\x02\x02\x28"
TLS_GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nthis port does not speak TLS\x00\xff\xfe"
#: Headers a 304 repeats from the 200 it stands for (RFC 9110 15.4.5).
NOT_MODIFIED_KEEPS = {"etag", "last-modified", "cache-control", "expires", "vary", "content-location"}

Handler = Callable[["FarmServer", "Exchange"], Awaitable[bool]]


class Exchange:
    """One request and what answers it, with the connection to answer on."""

    __slots__ = ("keep_alive", "request", "resource", "writer")

    def __init__(self, request: Request, resource: Resource, writer: asyncio.StreamWriter) -> None:
        self.request = request
        self.resource = resource
        self.writer = writer
        self.keep_alive = request.keep_alive

    @property
    def head_only(self) -> bool:
        return self.request.method == "HEAD"


class FarmServer:
    """Serves ``web`` on the sockets of ``plan`` until :meth:`close`."""

    def __init__(
        self,
        web: Web,
        plan: NetPlan,
        tls: ssl.SSLContext,
        *,
        latency: tuple[float, float] | None = None,
        request_log: RequestLogWriter | None = None,
        idle_timeout: float = 60.0,
    ) -> None:
        self.web = web
        self.plan = plan
        self.tls = tls
        self.latency = latency  # milliseconds (min, max), uniform jitter
        self.request_log = request_log
        self.idle_timeout = idle_timeout
        self._servers: list[asyncio.AbstractServer] = []
        self._rng = random.Random()

    async def start(self) -> None:
        """Start accepting on every listening socket of the plan."""
        for listener in self.plan.listeners:
            if listener.role == "closed":
                continue
            kwargs: dict[str, Any] = {"sock": listener.sock, "limit": wire.MAX_HEAD, "backlog": 1024}
            if listener.role == "https":
                kwargs.update(ssl=self.tls, ssl_handshake_timeout=15.0)
            handler = self._handler_for(listener.role)
            self._servers.append(await asyncio.start_server(handler, **kwargs))

    async def close(self) -> None:
        """Stop accepting; open connections are dropped with the loop."""
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    def _handler_for(self, role: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        if role in ("http", "https"):
            return lambda reader, writer: self._connection(reader, writer, role)
        return lambda reader, writer: self._broken_tls(reader, writer, role)

    # --- connections -----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, scheme: str) -> None:
        sni = getattr(writer.get_extra_info("ssl_object"), "farm_sni", None)
        loop = asyncio.get_running_loop()
        try:
            while True:
                # A timer, not asyncio.wait_for: it costs a task per request, a third of our time.
                idle = loop.call_later(self.idle_timeout, writer.transport.abort)
                try:
                    request = await wire.read_request(reader)
                except BadRequest as exc:
                    await self._answer_error(writer, exc.status, str(exc))
                    break
                finally:
                    idle.cancel()
                if request is None or not await self._respond(request, writer, scheme, sni):
                    break
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
            pass  # the client went away or idled out: nothing to answer
        finally:
            await _close(writer)

    async def _broken_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str) -> None:
        self._log({"event": mode, "address": _local_address(writer), "mode": mode})
        try:
            await asyncio.wait_for(reader.read(16 * 1024), 10.0)  # the ClientHello
            writer.write(TLS_GARBAGE if mode == "tls_fail" else TLS_HANDSHAKE_FAILURE)
            await writer.drain()
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            await _close(writer)

    # --- one request -----------------------------------------------------------------------------

    async def _respond(self, request: Request, writer: asyncio.StreamWriter, scheme: str, sni: str | None) -> bool:
        """Answer one request; return whether the connection may serve another."""
        host = normalise_host(request.header("host") or sni or "")
        site = self.web.site(host) if host else None
        resource = self._resolve(request, host, site)
        exchange = Exchange(request, resource, writer)
        fault = resource.fault
        not_modified = fault is None and resource.status == 200 and wire.not_modified(request, resource.headers)
        status = 304 if not_modified else getattr(fault, "status", resource.status)
        self._log_request(request, writer, scheme, host, sni, status, fault.kind if fault else None)
        await self._wait(resource)
        if not_modified:
            return await self._send_not_modified(exchange)
        handler = _FAULT_HANDLERS[type(fault)]
        return await handler(self, exchange)

    def _resolve(self, request: Request, host: str, site: Site | None) -> Resource:
        if request.method not in ("GET", "HEAD"):
            return Resource(
                405, b"Only GET and HEAD are served here.\n", [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")]
            )
        if site is None:
            return _error_page(421, f"No site of this farm is called {host or '(no Host header)'}.")
        found = site.lookup(request.target)
        return (
            found
            if found is not None
            else _error_page(404, f"The requested URL {request.target} was not found on this server.")
        )

    async def _wait(self, resource: Resource) -> None:
        seconds = resource.delay
        if self.latency is not None:
            seconds += self._rng.uniform(*self.latency) / 1000.0
        if seconds > 0:
            await asyncio.sleep(seconds)

    # --- answers ---------------------------------------------------------------------------------

    async def _send_plain(self, ex: Exchange) -> bool:
        res = ex.resource
        await self._send(ex, res.status, self._headers(ex, res.headers, len(res.body)), res.body)
        return ex.keep_alive

    async def _send_not_modified(self, ex: Exchange) -> bool:
        kept = [(k, v) for k, v in ex.resource.headers if k.lower() in NOT_MODIFIED_KEEPS]
        await self._send(ex, 304, self._headers(ex, kept, None), b"")
        return ex.keep_alive

    async def _send_redirect(self, ex: Exchange) -> bool:
        fault: Redirect = ex.resource.fault  # type: ignore[assignment]
        body = (
            ex.resource.body
            or (
                f'<!DOCTYPE html><title>Moved</title><p>Moved to <a href="{html.escape(fault.location)}">'
                f"{html.escape(fault.location)}</a>.</p>\n"
            ).encode()
        )
        headers = [("Location", fault.location), *ex.resource.headers]
        await self._send(ex, fault.status, self._headers(ex, headers, len(body)), body)
        return ex.keep_alive

    async def _send_drop(self, ex: Exchange) -> bool:
        fault: Drop = ex.resource.fault  # type: ignore[assignment]
        body = ex.resource.body
        after = len(body) // 2 if fault.after is None else min(fault.after, len(body))
        ex.keep_alive = False  # announced Content-Length stays the full one: the lie is the point
        head = wire.response_head(ex.resource.status, self._headers(ex, ex.resource.headers, len(body)))
        ex.writer.write(head if ex.head_only else head + body[:after])
        await ex.writer.drain()
        return False

    async def _send_reset(self, ex: Exchange) -> bool:
        fault: Reset = ex.resource.fault  # type: ignore[assignment]
        if fault.hard:
            sock = ex.writer.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ex.writer.transport.abort()
        return False

    async def _send_slow_drip(self, ex: Exchange) -> bool:
        fault: SlowDrip = ex.resource.fault  # type: ignore[assignment]
        res = ex.resource
        ex.writer.write(wire.response_head(res.status, self._headers(ex, res.headers, len(res.body))))
        await ex.writer.drain()
        if not ex.head_only:
            step = max(1, fault.chunk)
            for start in range(0, len(res.body), step):
                await asyncio.sleep(fault.interval_ms / 1000.0)
                ex.writer.write(res.body[start : start + step])
                await ex.writer.drain()
        return ex.keep_alive

    async def _send_garbage(self, ex: Exchange) -> bool:
        fault: Garbage = ex.resource.fault  # type: ignore[assignment]
        ex.writer.write(fault.data)
        await ex.writer.drain()
        return False

    async def _send_bomb(self, ex: Exchange) -> bool:
        fault: Bomb = ex.resource.fault  # type: ignore[assignment]
        # Built in a thread: the first 1 GiB brotli bomb takes a second and must not stall others.
        body = await asyncio.get_running_loop().run_in_executor(None, bomb_body, fault)
        headers = [*ex.resource.headers, ("Content-Encoding", fault.encoding)]
        await self._send(ex, ex.resource.status, self._headers(ex, headers, len(body)), body)
        return ex.keep_alive

    async def _send_huge(self, ex: Exchange) -> bool:
        fault: Huge = ex.resource.fault  # type: ignore[assignment]
        res = ex.resource
        if fault.chunked:
            headers = self._headers(ex, [*res.headers, ("Transfer-Encoding", "chunked")], None)
        else:
            headers = self._headers(ex, res.headers, fault.size)
        ex.writer.write(wire.response_head(res.status, headers))
        if not ex.head_only:
            for piece in huge_chunks(fault):
                ex.writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if fault.chunked else piece)
                await ex.writer.drain()
            if fault.chunked:
                ex.writer.write(b"0\r\n\r\n")
        await ex.writer.drain()
        return ex.keep_alive

    async def _send(self, ex: Exchange, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        ex.writer.write(wire.response_head(status, headers))
        if not ex.head_only and status not in (204, 304):
            for start in range(0, len(body), WRITE_CHUNK):
                ex.writer.write(body[start : start + WRITE_CHUNK])
                await ex.writer.drain()
        await ex.writer.drain()

    def _headers(self, ex: Exchange, extra: list[tuple[str, str]], length: int | None) -> list[tuple[str, str]]:
        """Date and Server, the resource's own headers, then framing and ``Connection``."""
        headers = [("Date", wire.http_date()), ("Server", SERVER_NAME), *extra]
        names = {k.lower() for k, _ in extra}
        if length is not None and not names & {"content-length", "transfer-encoding"}:
            headers.append(("Content-Length", str(length)))
        if not ex.keep_alive:
            headers.append(("Connection", "close"))
        elif ex.request.version == "HTTP/1.0":
            headers.append(("Connection", "keep-alive"))
        return headers

    async def _answer_error(self, writer: asyncio.StreamWriter, status: int, reason: str) -> None:
        body = f"{status} {reason}\n".encode()
        headers = [
            ("Date", wire.http_date()),
            ("Server", SERVER_NAME),
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
        writer.write(wire.response_head(status, headers) + body)
        await writer.drain()

    # --- log -------------------------------------------------------------------------------------

    def _log_request(
        self,
        request: Request,
        writer: asyncio.StreamWriter,
        scheme: str,
        host: str,
        sni: str | None,
        status: int,
        fault: str | None,
    ) -> None:
        self._log(
            {
                "event": "request",
                "t": round(time.time(), 3),
                "address": _local_address(writer),
                "scheme": scheme,
                "host": host,
                "sni": sni,
                "method": request.method,
                "path": request.target,
                "status": status,
                "fault": fault,
                "user_agent": request.header("user-agent"),
                "connection": request.header("connection"),
                "if_none_match": request.header("if-none-match"),
                "if_modified_since": request.header("if-modified-since"),
            }
        )

    def _log(self, record: dict[str, Any]) -> None:
        if self.request_log is not None:
            self.request_log.write(record)


_FAULT_HANDLERS: dict[type | None, Handler] = {
    type(None): FarmServer._send_plain,
    Redirect: FarmServer._send_redirect,
    Drop: FarmServer._send_drop,
    Reset: FarmServer._send_reset,
    SlowDrip: FarmServer._send_slow_drip,
    Garbage: FarmServer._send_garbage,
    Bomb: FarmServer._send_bomb,
    Huge: FarmServer._send_huge,
}


def _error_page(status: int, message: str) -> Resource:
    title = f"{status} {HTTPStatus(status).phrase}"
    body = f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n<p>{html.escape(message)}</p>\n</body></html>\n"
    return Resource(status, body, [("Content-Type", "text/html; charset=utf-8")])


def _local_address(writer: asyncio.StreamWriter) -> str | None:
    sockname = writer.get_extra_info("sockname")
    return sockname[0] if sockname else None


async def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        # A TLS close waits for the peer's close_notify; a vanished peer must not pin us.
        await asyncio.wait_for(writer.wait_closed(), 5.0)
