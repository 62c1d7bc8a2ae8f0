"""The limit: a minimal aiohttp client fetching the planned documents per host, parsing nothing.

    python -m bench.limit PLAN HOSTS_FILE [--concurrency 128] [--timeout 20] [--uvloop]

``concurrency`` workers each take a host and fetch its documents one after another on one
keep-alive connection (as optout-audit does), so exactly ``concurrency`` requests are in flight.
Names resolve through the hosts file only (an unknown name fails without a DNS query).
``--uvloop`` runs it on uvloop's event loop, as optout-audit runs (a limit with the same loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import aiohttp

from optout_audit.downloader.resolver import HostsFileAsyncResolver, read_hosts_file


async def crawl(plan: list[tuple[str, list[str]]], hosts_file: Path, concurrency: int, timeout: float) -> dict:
    counts = {"hosts": 0, "requests": 0, "responses": 0, "failures": 0, "bytes": 0}
    queue: asyncio.Queue = asyncio.Queue()
    for entry in plan:
        queue.put_nowait(entry)
    connector = aiohttp.TCPConnector(
        limit=0, ssl=False, resolver=HostsFileAsyncResolver(read_hosts_file(hosts_file)), use_dns_cache=False
    )
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:

        async def worker() -> None:
            while not queue.empty():
                root, paths = queue.get_nowait()
                for path in paths:
                    counts["requests"] += 1
                    try:
                        async with session.get(root + path) as response:
                            counts["bytes"] += len(await response.read())
                            counts["responses"] += 1
                    except (TimeoutError, aiohttp.ClientError, OSError):
                        counts["failures"] += 1
                counts["hosts"] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.limit")
    parser.add_argument("plan", type=Path)
    parser.add_argument("hosts_file", type=Path)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    args = parser.parse_args(argv)
    from bench.web import read_plan

    job = crawl(read_plan(args.plan), args.hosts_file, args.concurrency, args.timeout)
    if args.uvloop:
        import uvloop

        counts = uvloop.run(job)
    else:
        counts = asyncio.run(job)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
