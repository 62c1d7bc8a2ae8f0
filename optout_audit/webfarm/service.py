"""The farm process: bind, write the hosts file and certificate, serve until told to stop.

This is what ``python -m optout_audit.webfarm serve`` runs, in the foreground. Start-up order
matters to the parent waiting on it: sockets are bound first (so the addresses in the hosts
file are ours), then the hosts file and certificate are written, then the servers accept, and
only then the *ready file* appears (written whole, by rename) with the farm's addresses.

With ``workers > 1`` the process forks after binding; every worker accepts on the same sockets
(the kernel spreads connections) and appends to the same request log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optout_audit.webfarm.model import Web
from optout_audit.webfarm.netplan import NetPlan, plan_network
from optout_audit.webfarm.requestlog import RequestLogWriter
from optout_audit.webfarm.server import FarmServer
from optout_audit.webfarm.tls import server_context, write_certificate


@dataclass(slots=True)
class ServeOptions:
    """Everything ``serve`` takes besides the web."""

    workdir: Path
    hosts_out: Path | None = None
    ready_file: Path | None = None
    request_log: Path | None = None
    latency: tuple[float, float] | None = None
    address: str | None = None
    http_port: int = 80
    https_port: int = 443
    workers: int = 1
    parent_pid: int | None = None  # stop when this process is gone (running_farm's caller)


def serve(web: Web, options: ServeOptions) -> int:
    """Serve ``web`` until SIGTERM/SIGINT (or the parent's death); return an exit code."""
    _raise_fd_limit()
    plan = plan_network(web, address=options.address, http_port=options.http_port, https_port=options.https_port)
    hosts_file = write_hosts_file(web, plan, options.hosts_out or options.workdir / "hosts")
    cert_file, key_file = write_certificate(options.workdir, web.cert_names(), [plan.address])
    tls = server_context(cert_file, key_file)
    children = _fork_workers(options.workers - 1)
    is_master = children is not None
    info = {
        "pid": os.getpid(),
        "address": plan.address,
        "http_port": plan.http_port,
        "https_port": plan.https_port,
        "hosts_file": str(hosts_file),
        "cert_file": str(cert_file),
        "request_log": str(options.request_log) if options.request_log else None,
        "groups": plan.group_addresses,
        "workers": options.workers,
    }
    watch_pid = options.parent_pid if is_master else os.getppid()
    if not is_master:
        try:
            asyncio.run(_run(web, plan, tls, options, None, watch_pid))
        finally:
            os._exit(0)  # a forked worker must not run the master's exit handlers
    try:
        asyncio.run(_run(web, plan, tls, options, info, watch_pid))
    finally:
        _stop_workers(children or [])
        plan.close()
    return 0


def write_hosts_file(web: Web, plan: NetPlan, path: Path) -> Path:
    """Write hosts(5) lines ``ADDRESS HOST`` for every resolvable host; ``nxdomain`` ones are left out."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="ascii") as out:
        out.write(f"# optout-audit webfarm: shared address {plan.address}\n")
        for host, placement in web.placements():
            address = plan.address_of(placement)
            if address is not None:
                out.write(f"{address} {host}\n")
    tmp.replace(path)
    return path


async def _run(
    web: Web,
    plan: NetPlan,
    tls: ssl.SSLContext,
    options: ServeOptions,
    ready: dict[str, Any] | None,
    watch_pid: int | None,
) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet_exception_handler)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log = RequestLogWriter(options.request_log) if options.request_log else None
    server = FarmServer(web, plan, tls, latency=options.latency, request_log=log)
    await server.start()
    if ready is not None and options.ready_file is not None:
        _write_json_atomically(options.ready_file, ready)
    if ready is not None and options.parent_pid is None:  # run by hand: say where the farm is
        print(
            f"webfarm: ready on {plan.address} (http :{plan.http_port}, https :{plan.https_port}), "
            f"hosts file {ready['hosts_file']}, certificate {ready['cert_file']}",
            file=sys.stderr,
            flush=True,
        )
    watchdog = asyncio.create_task(_watch_parent(watch_pid, stop)) if watch_pid else None
    await stop.wait()
    if watchdog is not None:
        watchdog.cancel()
    await server.close()
    if log is not None:
        log.close()


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    # A test runner killed with SIGKILL cannot stop its farm: the farm notices it is orphaned.
    while os.getppid() == pid:
        await asyncio.sleep(0.5)
    stop.set()


def _fork_workers(count: int) -> list[int] | None:
    """Fork ``count`` workers; return their pids in the master, None in a worker."""
    pids: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            return None
        pids.append(pid)
    return pids


def _stop_workers(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), "utf-8")
    tmp.replace(path)


def _raise_fd_limit() -> None:
    # A bench with thousands of concurrent connections needs more than the usual 1024 files.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Clients that hang up mid-handshake or mid-body are the farm's daily bread, not errors.
    if isinstance(context.get("exception"), (ConnectionError, ssl.SSLError, TimeoutError)):
        return
    loop.default_exception_handler(context)


def main_serve(web: Web, options: ServeOptions) -> int:
    """Run :func:`serve`, reporting a start-up failure in one line."""
    try:
        return serve(web, options)
    except OSError as exc:
        print(f"webfarm: {exc}", file=sys.stderr)
        return 1
