"""``python -m bench.redis``: what the Redis queue costs, beside a plain run and ``--workers 2``.

    python -m bench.redis [--hosts 2000] [--latency 50,150] [--concurrency 128] [--queue-sites 20000]

Two parts, one sitting, the same local web (bench/web.py) and a redis-server of its own on a
loopback port (Debian's package; no password, no persistence: the cost of the queue, not of disks):

1. **queue alone** -- the queue code of ``optout_audit/distributed`` driven without any crawl:
   the coordinator seeding ``--queue-sites`` sites (one registered domain each: the worst case, one
   entry and one acknowledgement per site), a worker taking each site (``QueueSource.targets``)
   and storing a real record (``QueueSource.store``: encode, XADD, SADD, XACK/XDEL), the coordinator
   collecting them into an audit.jsonl. CPU per site is ``time.process_time`` of this process
   around each phase (nothing else runs in it); redis-server's own CPU is reported beside it.
2. **crawls** -- hosts/s and CPU ms per host (user+sys of every process of the client, from
   ``wait4``; redis-server's CPU added for the Redis rows) for ``optout-audit crawl``,
   ``crawl --workers 2``, ``crawl --redis`` (the coordinator alone, which runs one worker), and the
   coordinator plus one ``optout-audit worker`` (``--concurrency`` split between them, as
   ``--workers 2`` splits it between its children).

The table is printed and saved to ``bench/results/<UTC time>-redis.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import measure
from bench.run import PROJECT, RESULTS, _audit_counts, _env, _latency, wait_quiet
from bench.web import ROOT, bench_web, write_inputs

#: The overhead the queue may add per site (issue 14).
BUDGET_MS = 0.5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def cpu(self) -> float:
        return measure.cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


# -- 1. the queue alone ------------------------------------------------------------------------------


def _sample_records(count: int, work: Path, farm_hosts: Path, sites: Path, env: dict) -> list[bytes]:
    """Real records: a small plain crawl of the bench web, its lines cycled to ``count`` origins."""
    import msgspec

    from optout_audit.items import SiteAudit

    out = work / "sample"
    subprocess.run(
        [*PROJECT, "crawl", str(sites), "--out", str(out), "--hosts-file", str(farm_hosts), "--concurrency", "64"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    records = [msgspec.json.decode(raw, type=SiteAudit) for raw in (out / "audit.jsonl").read_bytes().splitlines()]
    return [record for record in records if record.origin][:count]


def bench_queue(url: str, redis: Redis, samples: list, sites: int, evidence_bytes: int = 0) -> dict:
    from dataclasses import replace

    from optout_audit.app.inputs import Target
    from optout_audit.distributed import coordinator as coordinating
    from optout_audit.distributed import source as queue_source
    from optout_audit.distributed.connection import sync_client
    from optout_audit.distributed.keys import RunKeys
    from optout_audit.distributed.source import QueueSource

    run_id = f"bench{os.getpid()}-{evidence_bytes}"
    keys = RunKeys(run_id)
    targets = [
        Target(
            f"https://q{n}.example/", n + 1, f"q{n}.example", f"https://q{n}.example/", True, f"https://q{n}.example"
        )
        for n in range(sites)
    ]
    items = {
        t.origin: replace(samples[n % len(samples)], origin=t.origin, domain=t.host) for n, t in enumerate(targets)
    }
    groups = [(t.host, [t]) for t in targets]
    client = sync_client(url)
    client.hset(keys.meta, mapping={"state": "running", "lease": "60"})
    for stream, group in ((keys.sites, "workers"), (keys.results, "coordinator")):
        client.xgroup_create(stream, group, id="0", mkstream=True)
    phases: dict[str, tuple[float, float]] = {}

    def phase(name: str, work) -> None:
        cpu, server, wall = time.process_time(), redis.cpu(), time.monotonic()
        work()
        phases[name] = (time.process_time() - cpu, redis.cpu() - server, time.monotonic() - wall)

    phase("seed (coordinator)", lambda: coordinating._seed(client, keys, groups))

    evidence = os.urandom(evidence_bytes)  # gzip members do not compress further
    # The phases run one after another: every result waits for the collector, past the backpressure limit.
    queue_source.MAX_UNCOLLECTED = max(queue_source.MAX_UNCOLLECTED, 4 * sites)

    async def take_and_store() -> None:
        source = QueueSource(url, run_id, "bench-worker", 60.0, archive=bool(evidence_bytes))
        warc = source.archive_outbox.open(Path("optout-audit-bench-00000.warc.gz"), False) if evidence else None
        taken = 0
        async for target in source.targets():
            if warc is not None:  # what the worker's archive wrote for the site, before its record
                warc.write(evidence)
            await source.store(items[target.origin])
            taken += 1
            if taken == sites:
                break
        await source.close()

    phase("take + store + acknowledge (worker)", lambda: asyncio.run(take_and_store()))
    with tempfile.TemporaryDirectory() as folder:

        class _Run:  # what _Collector reads of a Run
            dir = Path(folder)
            audit_path = Path(folder) / "audit.jsonl"

        collector = coordinating._Collector(client, keys, _Run(), set())

        def collect_all() -> None:
            while len(collector.seen) < sites:
                collector.collect()

        phase("collect into audit.jsonl (coordinator)", collect_all)
        collector.close()
        collected = sum(1 for _ in _Run.audit_path.open("rb"))
    client.delete(*keys.all())
    client.close()
    return {"sites": sites, "phases": phases, "collected": collected, "evidence_bytes": evidence_bytes}


# -- 2. crawls ---------------------------------------------------------------------------------------


def _measure_together(runs: list[tuple[list[str], Path]], env: dict) -> list[measure.Measured]:
    results: list = [None] * len(runs)

    def one(index: int) -> None:
        argv, log = runs[index]
        results[index] = measure.run(argv, log, env=env, cwd=ROOT)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(len(runs))]
    for number, thread in enumerate(threads):
        thread.start()
        if number == 0:
            time.sleep(1.0)  # the coordinator publishes the run first
    for thread in threads:
        thread.join()
    return results


def bench_crawls(args, work: Path, env: dict, redis: Redis, sites: Path, hosts_file: str, farm_pid: int) -> list[dict]:
    common = ["--hosts-file", hosts_file, "--timeout", str(args.timeout)]
    half = str(max(1, args.concurrency // 2))
    rows = []
    cases = [
        ("optout-audit crawl", [], None),
        ("crawl --workers 2", ["--workers", "2"], None),
        ("crawl --redis (coordinator alone)", ["--redis", redis.url], None),
        ("crawl --redis + 1 worker", ["--redis", redis.url], half),
    ]
    for name, extra, split in cases:
        out = work / name.replace(" ", "_").replace("(", "").replace(")", "").replace("+", "and")
        concurrency = split or str(args.concurrency)
        argv = [*PROJECT, "crawl", str(sites), "--out", str(out), *common, "--concurrency", concurrency, *extra]
        runs = [(argv, work / f"{out.name}.log")]
        if split:
            runs.append(
                (
                    [*PROJECT, "worker", "--redis", redis.url, "--concurrency", split, "--wait", "60"],
                    work / f"{out.name}-worker.log",
                )
            )
        print(f"  {name} ...", end="", flush=True)
        if args.quiet_wait > 0:
            wait_quiet(patience=args.quiet_wait)
        server, busy, farm_cpu = redis.cpu(), measure.busy_seconds(), measure.cpu_seconds(farm_pid)
        measured = _measure_together(runs, env)
        farm_cpu = measure.cpu_seconds(farm_pid) - farm_cpu
        busy = measure.busy_seconds() - busy
        server = redis.cpu() - server
        other = max(0.0, busy - server - farm_cpu - sum(m.cpu for m in measured))
        server = server if extra and extra[0] == "--redis" else 0.0
        hosts, _ = _audit_counts(out / "audit.jsonl") if (out / "audit.jsonl").exists() else (0, 0)
        wall = max(m.wall for m in measured)
        cpu = sum(m.cpu for m in measured)
        codes = [m.returncode for m in measured]
        rows.append(
            {
                "name": name,
                "hosts": hosts,
                "wall": wall,
                "cpu": cpu,
                "redis_cpu": server,
                "codes": codes,
                "other": 100 * other / wall if wall else 0.0,
            }
        )
        print(
            f" {wall:.1f} s, {hosts / wall:.0f} hosts/s, {1000 * (cpu + server) / max(hosts, 1):.2f} CPU ms/host",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis", description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--latency", type=_latency, default=(50.0, 150.0))
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--queue-sites", type=int, default=20_000)
    parser.add_argument("--quiet-wait", type=float, default=60.0)
    parser.add_argument(
        "--evidence-bytes", type=int, default=21_000, help="archive bytes per site sent with its record (0: none)"
    )
    parser.add_argument("--skip-crawls", action="store_true")
    args = parser.parse_args(argv)
    if not shutil.which("redis-server"):
        print("bench.redis: redis-server is not installed (Debian: apt-get install redis-server)", file=sys.stderr)
        return 2
    from optout_audit.webfarm import running_farm

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    env = _env()
    redis = Redis(work)
    try:
        web = bench_web(args.hosts, 1)
        sites, _, _ = write_inputs(web, work / "input")
        with running_farm(web, latency=args.latency, log_requests=False, workdir=work / "farm") as farm:
            print(
                f"bench.redis: {args.hosts:,} hosts, latency {args.latency[0]:g}-{args.latency[1]:g} ms, "
                f"concurrency {args.concurrency}",
                flush=True,
            )
            samples = _sample_records(200, work, farm.hosts_file, write_inputs(bench_web(200, 2), work / "s")[0], env)
            queues = []
            for evidence_bytes in sorted({0, args.evidence_bytes}):
                print(
                    f"  queue alone, {args.queue_sites:,} sites, {evidence_bytes:,} evidence bytes each ...", flush=True
                )
                queues.append(bench_queue(redis.url, redis, samples, args.queue_sites, evidence_bytes))
            rows = (
                [] if args.skip_crawls else bench_crawls(args, work, env, redis, sites, str(farm.hosts_file), farm.pid)
            )
    finally:
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        f"## bench.redis {stamp}",
        "",
        f"{args.hosts:,} hosts, latency {args.latency[0]:g}-{args.latency[1]:g} ms, concurrency {args.concurrency}, "
        f"timeout {args.timeout:g} s; {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "",
    ]
    for queue in queues:
        lines += [
            f"### The queue alone ({queue['sites']:,} sites, one registered domain each; "
            f"{queue['collected']:,} records collected; {queue['evidence_bytes']:,} bytes of evidence per site)",
            "",
            "| phase | client CPU ms/site | redis-server CPU ms/site | wall s |",
            "|---|---:|---:|---:|",
        ]
        total = 0.0
        for name, (cpu, server, wall) in queue["phases"].items():
            total += cpu
            lines.append(
                f"| {name} | {1000 * cpu / queue['sites']:.3f} | {1000 * server / queue['sites']:.3f} | {wall:.1f} |"
            )
        per_site = 1000 * total / queue["sites"]
        lines += [
            "",
            f"- queue code, all phases: **{per_site:.3f} CPU ms per site** "
            f"({per_site / BUDGET_MS:.2f} x the {BUDGET_MS} ms budget)",
            "",
        ]
        queue["per_site"] = per_site
    if len(queues) == 2:
        plain, carried = queues
        lines += [
            f"- the evidence adds **{carried['per_site'] - plain['per_site']:.3f} CPU ms per site** "
            f"({carried['per_site'] / plain['per_site']:.2f} x the queue without it, measured in this run)",
            "",
        ]
    if rows:
        base = rows[0]
        lines += [
            "### Crawls",
            "",
            "| client | hosts | wall s | hosts/s | CPU ms/host | of it redis-server | x plain hosts/s "
            "| x plain CPU/host | other processes, % of a core | exit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in rows:
            rate = row["hosts"] / row["wall"] if row["wall"] else 0.0
            cpu_ms = 1000 * (row["cpu"] + row["redis_cpu"]) / max(row["hosts"], 1)
            base_rate = base["hosts"] / base["wall"]
            base_cpu = 1000 * base["cpu"] / max(base["hosts"], 1)
            lines.append(
                f"| {row['name']} | {row['hosts']:,} | {row['wall']:.1f} | {rate:.0f} | {cpu_ms:.2f} | "
                f"{1000 * row['redis_cpu'] / max(row['hosts'], 1):.2f} | {rate / base_rate:.2f} | "
                f"{cpu_ms / base_cpu:.2f} | {row['other']:.0f} | {' '.join(map(str, row['codes']))} |"
            )
        lines.append("")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = RESULTS / f"{stamp}-redis.md"
    result.write_text(text, "utf-8")
    print(f"saved to {result.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
