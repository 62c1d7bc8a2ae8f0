"""The local web's DNS server: the farm's names over real DNS on a loopback UDP port.

The crawler's real resolver (:mod:`optout_audit.downloader.dns`) is pointed at this server with
``--dns-server ADDRESS:PORT``, so tests and the bench run the code path of a real crawl without a
single packet leaving loopback. Messages are built and parsed with dnslib. What each name answers
is a :class:`Zone`:

* names of the farm's hosts file answer their address (``A``; ``AAAA`` for IPv6 addresses);
* ``records`` add or override names: ``{"a": [...], "aaaa": [...], "cname": "other.name",
  "ttl": 60, "fault": ...}``;
* ``fault`` is one of :data:`FAULTS`: ``nxdomain``, ``nodata`` (the name exists with no
  address), ``servfail``, ``refused``, ``timeout`` (the query is read and never answered);
* ``timeout_share`` makes that share of all names time out, chosen by :func:`times_out` (the
  bench uses the same function to leave them out of its hosts-file baseline);
* ``latency`` ``(min_ms, max_ms)`` delays every answer (uniform, seeded); a record's ``delay``
  (ms) replaces it for that name (a slow server for one name);
* any other name is NXDOMAIN, and a known name without records of the asked type is NODATA.

Run it with :func:`running_dns` (a child process, like the farm), or ``python -m
optout_audit.webfarm.dns --zone zone.json`` by hand. With ``query_log`` each query received is
appended as a JSON line ``{"name": ..., "type": "A", "client": "127.0.0.1", "t": UNIX_TIME}`` (the
first time that query is seen; repeats are answered from the packed cache and not logged).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, SOA, A, DNSLabel, DNSRecord

FAULTS = ("nxdomain", "nodata", "servfail", "refused", "timeout")
#: The negative-answer TTL (SOA minimum) of every NXDOMAIN / NODATA answer.
NEGATIVE_TTL = 30
#: Answers kept packed, keyed by the query's bytes after its ID (the bench asks ~1,000 names a second).
_PACKED_LIMIT = 200_000


def times_out(name: str, share: float, seed: int = 0) -> bool:
    """Whether ``name`` is one of the ``share`` of names that never get an answer (stable per name)."""
    if share <= 0:
        return False
    digest = hashlib.blake2b(f"{seed}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


@dataclass
class Zone:
    """What the server answers; see the module doc. Everything is JSON for the child process."""

    hosts_file: str | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    ttl: int = 300
    latency: tuple[float, float] | None = None
    timeout_share: float = 0.0
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Zone:
        zone = cls(**data)
        if zone.latency is not None:
            zone.latency = (float(zone.latency[0]), float(zone.latency[1]))
        return zone


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


class Answers:
    """The zone turned into DNS replies (pure: no sockets)."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self._rng = random.Random(zone.seed)
        self._delays: dict[bytes, float] = {}
        self.names: dict[str, dict[str, Any]] = {}
        if zone.hosts_file:
            for line in Path(zone.hosts_file).read_text("utf-8", "replace").splitlines():
                fields = line.split("#", 1)[0].split()
                for name in fields[1:]:
                    entry = self.names.setdefault(_norm(name), {"a": [], "aaaa": []})
                    if not entry["a"] and not entry["aaaa"]:  # first entry wins, as in hosts(5)
                        entry["aaaa" if ":" in fields[0] else "a"].append(fields[0])
        for name, record in zone.records.items():
            self.names[_norm(name)] = {"a": [], "aaaa": [], **record}

    def note_delay(self, key: bytes, request: DNSRecord) -> None:
        """Remember the fixed ``delay`` (ms) of the record asked for by the query bytes ``key``."""
        entry = self.names.get(_norm(str(request.q.qname)))
        if entry is not None and entry.get("delay") is not None:
            self._delays[key] = float(entry["delay"]) / 1000

    def delay_of(self, key: bytes) -> float:
        """Seconds to wait before answering: the record's own ``delay``, else the zone's latency."""
        fixed = self._delays.get(key)
        if fixed is not None:
            return fixed
        latency = self.zone.latency
        return self._rng.uniform(*latency) / 1000 if latency and latency[1] > 0 else 0.0

    def fault_of(self, name: str) -> str | None:
        entry = self.names.get(name)
        if entry is not None and entry.get("fault"):
            return entry["fault"]
        if times_out(name, self.zone.timeout_share, self.zone.seed):
            return "timeout"
        return None if entry is not None else "nxdomain"

    def reply(self, request: DNSRecord) -> DNSRecord | None:
        """The reply to ``request``; None for a query that is never answered."""
        reply = request.reply()
        question = request.q
        name = _norm(str(question.qname))
        fault = self.fault_of(name)
        if fault == "timeout":
            return None
        if fault in ("servfail", "refused"):
            reply.header.rcode = RCODE.SERVFAIL if fault == "servfail" else RCODE.REFUSED
            return reply
        qtype = QTYPE[question.qtype]
        seen: set[str] = set()
        while fault is None and name not in seen and len(seen) < 8:  # follow CNAMEs inside the zone
            seen.add(name)
            entry = self.names[name]
            ttl = int(entry.get("ttl", self.zone.ttl))
            if entry.get("cname"):
                target = _norm(entry["cname"])
                reply.add_answer(RR(DNSLabel(name + "."), QTYPE.CNAME, ttl=ttl, rdata=CNAME(target + ".")))
                name, fault = target, self.fault_of(target)
                if fault in ("servfail", "refused", "timeout"):
                    fault = None if self.names.get(target) else "nxdomain"
                continue
            kind, rdata = ("a", A) if qtype == "A" else ("aaaa", AAAA) if qtype == "AAAA" else (None, None)
            for address in entry.get(kind, []) if kind else []:
                reply.add_answer(RR(DNSLabel(name + "."), getattr(QTYPE, qtype), ttl=ttl, rdata=rdata(address)))
            break
        if fault == "nxdomain":
            reply.header.rcode = RCODE.NXDOMAIN
        if fault is not None or not any(rr.rtype == question.qtype for rr in reply.rr):
            reply.add_auth(
                RR(
                    DNSLabel("farm."),
                    QTYPE.SOA,
                    ttl=NEGATIVE_TTL,
                    rdata=SOA("ns.farm.", "hostmaster.farm.", (1, 3600, 600, 86400, NEGATIVE_TTL)),
                )
            )
        return reply


class DnsProtocol(asyncio.DatagramProtocol):
    """One UDP socket answering from :class:`Answers`, with the zone's latency."""

    def __init__(self, answers: Answers, query_log: Path | None = None) -> None:
        self.answers = answers
        self.packed: dict[bytes, bytes | None] = {}
        self.log = os.open(query_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if query_log else None
        self.transport: asyncio.DatagramTransport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        key = data[2:]
        if key in self.packed:
            packed = self.packed[key]
        else:
            try:
                request = DNSRecord.parse(data)
            except Exception:
                return
            reply = self.answers.reply(request)
            packed = reply.pack() if reply is not None else None
            if len(self.packed) < _PACKED_LIMIT:
                self.packed[key] = packed
            self.answers.note_delay(key, request)
            if self.log is not None:
                record = {
                    "name": _norm(str(request.q.qname)),
                    "type": QTYPE[request.q.qtype],
                    "client": addr[0],
                    "t": round(time.time(), 3),
                }
                os.write(self.log, (json.dumps(record) + "\n").encode())
        if packed is None:
            return
        answer = data[:2] + packed[2:]
        delay = self.answers.delay_of(key)
        if delay > 0:
            self.loop.call_later(delay, self._send, answer, addr)
        else:
            self._send(answer, addr)

    def _send(self, answer: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(answer, addr)


async def _serve(
    zone: Zone, address: str, port: int, ready_file: Path | None, query_log: Path | None, parent_pid: int | None
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((address, port))
    transport, _ = await loop.create_datagram_endpoint(lambda: DnsProtocol(Answers(zone), query_log), sock=sock)
    bound = sock.getsockname()
    info = {"address": bound[0], "port": bound[1], "pid": os.getpid()}
    if ready_file is not None:
        tmp = ready_file.with_name(ready_file.name + ".tmp")
        tmp.write_text(json.dumps(info), "utf-8")
        tmp.replace(ready_file)
    else:
        print(f"webfarm dns: serving on {bound[0]}:{bound[1]}", file=sys.stderr, flush=True)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        if parent_pid is not None and os.getppid() != parent_pid:
            break  # orphaned: the test that started us is gone
    transport.close()


@dataclass
class DnsServer:
    """A running DNS server, as seen from the parent."""

    address: str
    port: int
    pid: int
    query_log: Path | None

    @property
    def server(self) -> str:
        """``ADDRESS:PORT``, as ``--dns-server`` takes it."""
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"

    def queries(self) -> list[dict[str, Any]]:
        if self.query_log is None or not self.query_log.exists():
            return []
        return [json.loads(line) for line in self.query_log.read_text("utf-8").splitlines() if line.strip()]


def _loopback_address(rng: random.Random) -> str:
    return f"127.{rng.randint(2, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


@contextlib.contextmanager
def running_dns(
    zone: Zone, *, address: str | None = None, log_queries: bool = True, startup_timeout: float = 30.0
) -> Iterator[DnsServer]:
    """Start a DNS server for ``zone`` in a child process on a loopback UDP port; stop it after."""
    directory = Path(tempfile.mkdtemp(prefix="webfarm-dns-"))
    zone_file, ready_file = directory / "zone.json", directory / "ready.json"
    zone_file.write_text(json.dumps(zone.to_json()), "utf-8")
    query_log = directory / "queries.jsonl" if log_queries else None
    argv = [
        sys.executable,
        "-m",
        "optout_audit.webfarm.dns",
        "--zone",
        str(zone_file),
        "--address",
        address or _loopback_address(random.Random()),
        "--ready-file",
        str(ready_file),
        "--parent-pid",
        str(os.getpid()),
    ]
    if query_log is not None:
        argv += ["--query-log", str(query_log)]
    root = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    stderr = (directory / "stderr.log").open("wb")
    with stderr:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        deadline = time.monotonic() + startup_timeout
        while not ready_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    "DNS server did not start: " + (directory / "stderr.log").read_text("utf-8", "replace")[-2000:]
                )
            time.sleep(0.02)
        info = json.loads(ready_file.read_text("utf-8"))
        yield DnsServer(info["address"], info["port"], info["pid"], query_log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for path in sorted(directory.iterdir()):
            path.unlink(missing_ok=True)
        directory.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optout_audit.webfarm.dns", description=__doc__.split("\n")[0])
    parser.add_argument("--zone", type=Path, required=True, help="zone JSON (see optout_audit.webfarm.dns.Zone)")
    parser.add_argument("--address", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="UDP port (default: any free one)")
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--query-log", type=Path)
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    zone = Zone.from_json(json.loads(args.zone.read_text("utf-8")))
    asyncio.run(_serve(zone, args.address, args.port, args.ready_file, args.query_log, args.parent_pid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
