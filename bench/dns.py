"""``python -m bench.dns``: the crawl with real DNS against the same crawl with ``--hosts-file``.

    python -m bench.dns [--hosts 3000] [--concurrency 128,512] [--dns-latency 30,300] [--timeout-share 0.05]
                        [--lookups 20000] [--label TEXT]

One local web (``bench/web.py``) and one local DNS server (:mod:`optout_audit.webfarm.dns`) on
loopback answering for its names after 30-300 ms, with 5% of the names never answered. At each
concurrency, two ``optout-audit crawl`` runs of the same list:

* **hosts-file** -- names from a hosts file without the names that time out in DNS (they fail at
  once as ``dns_error``), so both runs fetch exactly the same documents;
* **real DNS** -- ``--dns-server`` (c-ares, the resolver of a real run), ``--allow-private-networks``
  because the farm is on loopback.

Each pair runs ``--repeat`` times in alternating order and the fastest run of each mode is kept
(every run is listed in the results).

The ratio of their hosts/s is the floor "throughput with the real resolver >= 0.85 x hosts-file";
the difference of their CPU ms/host is the cost of resolving (the DNS server's own CPU is its own
column, as the farm's). Then **look-ups/s**: the resolver alone (``bench.dns lookups``, a process of
its own) resolving distinct names against a server without latency, and with the bench's latency.
Nothing leaves 127.0.0.0/8. The table is printed and saved to ``bench/results/<UTC time>-dns.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import measure
from bench.run import PROJECT, RESULTS, Row, _audit_counts, _env, _table, wait_quiet
from bench.web import ROOT, bench_web, write_inputs

SEED = 1


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.dns", description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=3000, help="synthetic hosts (default 3000)")
    parser.add_argument(
        "--latency", type=_pair, default=(50.0, 150.0), help="web latency MIN_MS,MAX_MS (default 50,150)"
    )
    parser.add_argument(
        "--dns-latency", type=_pair, default=(30.0, 300.0), help="DNS answer latency MIN_MS,MAX_MS (default 30,300)"
    )
    parser.add_argument(
        "--timeout-share", type=float, default=0.05, help="share of names never answered (default 0.05)"
    )
    parser.add_argument("--concurrency", type=_ints, default=[128, 512], help="comma-separated (default 128,512)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request (default 20)")
    parser.add_argument("--lookups", type=int, default=20_000, help="names for the look-ups/s part (0: skip)")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per mode and concurrency, the fastest kept (default 2)"
    )
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=120.0)
    parser.add_argument("--label", default="", help="a word for the results file")
    parser.add_argument("--out", type=Path, help="work folder (default bench/out/<UTC time>-dns)")
    return parser


def baseline_hosts(hosts_file: Path, out: Path, share: float) -> int:
    """Write ``out``: ``hosts_file`` without the names the DNS server never answers; return how many were left out."""
    from optout_audit.webfarm.dns import times_out

    kept, dropped = [], 0
    for line in hosts_file.read_text("ascii").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and times_out(fields[1].lower(), share, SEED):
            dropped += 1
            continue
        kept.append(line)
    out.write_text("\n".join(kept) + "\n", "ascii")
    return dropped


def run_crawls(args, work: Path, env: dict[str, str]) -> tuple[list[Row], dict]:
    from optout_audit.webfarm import running_farm
    from optout_audit.webfarm.dns import Zone, running_dns

    web = bench_web(args.hosts, SEED)
    sites, _, _ = write_inputs(web, work / "input")
    rows: list[Row] = []
    info: dict = {}
    with running_farm(web, latency=args.latency, log_requests=False, workdir=work / "farm") as farm:
        hosts = work / "baseline.hosts"
        info["timing_out"] = baseline_hosts(farm.hosts_file, hosts, args.timeout_share)
        zone = Zone(
            hosts_file=str(farm.hosts_file), latency=args.dns_latency, timeout_share=args.timeout_share, seed=SEED
        )
        with running_dns(zone, log_queries=False) as dns:
            for concurrency in args.concurrency:
                common = ["--concurrency", str(concurrency), "--timeout", str(args.timeout)]
                modes = [
                    ("hosts-file", ["--hosts-file", str(hosts)]),
                    ("real DNS", ["--dns-server", dns.server, "--allow-private-networks"]),
                ]
                best: dict[str, Row] = {}
                # Alternating order, the fastest of --repeat runs per mode: on a shared machine a run
                # loses wall time to whatever else runs beside it, never gains any.
                for attempt in range(args.repeat):
                    for mode, extra in modes if attempt % 2 == 0 else modes[::-1]:
                        out = work / f"c{concurrency}-{mode.replace(' ', '-')}-{attempt}"
                        argv = [*PROJECT, "crawl", str(sites), "--out", str(out), *extra, *common]
                        row = _measured_crawl(f"crawl c={concurrency}, {mode}", argv, out, farm, dns, env, args)
                        attempts = [*getattr(best.get(mode), "attempts", []), (row.rate, row.cpu_ms)]
                        if mode not in best or row.rate > best[mode].rate:
                            best[mode] = row
                        best[mode].attempts = attempts  # type: ignore[attr-defined]
                rows += [best[mode] for mode, _ in modes]
    return rows, info


def _measured_crawl(name: str, argv: list[str], out: Path, farm, dns, env: dict[str, str], args) -> Row:
    print(f"  {name} ...", end="", flush=True)
    if args.quiet_wait > 0:
        wait_quiet(farm.pid, patience=args.quiet_wait)
    farm_before, dns_before = measure.cpu_seconds(farm.pid), measure.cpu_seconds(dns.pid)
    busy = measure.busy_seconds()
    measured = measure.run(argv, out.parent / f"{out.name}.log", env=env, cwd=ROOT)
    farm_cpu = measure.cpu_seconds(farm.pid) - farm_before
    dns_cpu = measure.cpu_seconds(dns.pid) - dns_before
    other = max(0.0, measure.busy_seconds() - busy - farm_cpu - dns_cpu - measured.cpu)
    audit = out / "audit.jsonl"
    count, fetched = _audit_counts(audit) if audit.exists() else (0, 0)
    row = Row(name, count, measured, farm_cpu, fetched, other)
    row.dns_cpu = dns_cpu  # type: ignore[attr-defined]
    row.faults = _faults(audit)  # type: ignore[attr-defined]
    if measured.returncode != 0:
        row.notes.append(f"exit {measured.returncode}, see {out.name}.log")
    if other > 0.1 * measured.wall:
        row.notes.append(f"other processes used {100 * other / measured.wall:.0f}% of a core meanwhile")
    print(f" {measured.wall:.1f} s, {row.rate:.0f} hosts/s, {row.cpu_ms:.2f} CPU ms/host", flush=True)
    return row


def _faults(audit: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    if audit.exists():
        for raw in audit.open("rb"):
            fault = json.loads(raw).get("robots", {}).get("fault") or ""
            if fault:
                counts[fault] = counts.get(fault, 0) + 1
    return dict(sorted(counts.items()))


# --- look-ups per second: the resolver alone, in a process of its own -------------------------------------


async def _lookup_all(server: str, names: list[str], concurrency: int) -> dict:
    from optout_audit.downloader.dns import CachingAsyncResolver, DnsConfig

    resolver = CachingAsyncResolver(DnsConfig(servers=(server,), concurrency=concurrency, timeout=2.0, tries=2))
    outcomes: dict[str, int] = {}
    started = time.monotonic()

    async def one(name: str) -> None:
        try:
            await resolver.resolve(name, 443)
            key = "answered"
        except OSError as exc:
            key = getattr(exc, "fault", "error")
        outcomes[key] = outcomes.get(key, 0) + 1

    await asyncio.gather(*(one(name) for name in names))
    wall = time.monotonic() - started
    await resolver.close()
    return {"names": len(names), "wall": wall, "outcomes": outcomes, "lookups": resolver.lookups}


def lookups_main(argv: list[str]) -> int:
    server, names_file, concurrency = argv
    names = Path(names_file).read_text("ascii").split()
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # as the crawler runs
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_lookup_all(server, names, int(concurrency)))))
    return 0


def run_lookups(args, work: Path, env: dict[str, str]) -> list[dict]:
    from optout_audit.webfarm.dns import Zone, running_dns

    names = work / "names.txt"
    # distinct names: three in four exist (A answer, AAAA NODATA), one in four is NXDOMAIN
    records = {
        f"n{index:07d}.bench": {"a": [f"127.1.{index // 250 % 250}.{index % 250 + 1}"]}
        for index in range(args.lookups)
        if index % 4
    }
    names.write_text("\n".join(f"n{index:07d}.bench" for index in range(args.lookups)) + "\n", "ascii")
    results = []
    for latency, concurrency in ((None, 256), (args.dns_latency, 512)):
        with running_dns(Zone(records=records, latency=latency), log_queries=False) as dns:
            delay = "none" if latency is None else f"{latency[0]:g}-{latency[1]:g} ms"
            label = f"{args.lookups:,} names, server latency {delay}, DNS_CONCURRENCY {concurrency}"
            print(f"  look-ups: {label} ...", end="", flush=True)
            if args.quiet_wait > 0:
                wait_quiet(dns.pid, patience=args.quiet_wait)
            server_before = measure.cpu_seconds(dns.pid)
            log = work / f"lookups-{concurrency}.log"
            measured = measure.run(
                [sys.executable, "-m", "bench.dns", "lookups", dns.server, str(names), str(concurrency)],
                log,
                env=env,
                cwd=ROOT,
            )
            server_cpu = measure.cpu_seconds(dns.pid) - server_before
            result = json.loads(log.read_text().strip().splitlines()[-1])
            result.update(label=label, client_cpu=measured.cpu, server_cpu=server_cpu, returncode=measured.returncode)
            print(f" {result['names'] / result['wall']:,.0f} names/s", flush=True)
            results.append(result)
    return results


def _dns_table(rows: list[Row]) -> list[str]:
    lines = [
        "| concurrency | hosts-file hosts/s | real DNS hosts/s | ratio (floor 0.85) | hosts-file CPU ms/host "
        "| real DNS CPU ms/host | CPU rise ms/host (floor 0.3) | DNS server CPU ms/host |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_name = {row.name: row for row in rows}
    for row in rows:
        if not row.name.endswith("hosts-file"):
            continue
        concurrency = row.name.split("=")[1].split(",")[0]
        real = by_name.get(f"crawl c={concurrency}, real DNS")
        if real is None:
            continue
        ratio = real.rate / row.rate if row.rate else float("nan")
        rise = real.cpu_ms - row.cpu_ms
        lines.append(
            f"| {concurrency} | {row.rate:.0f} | {real.rate:.0f} | {ratio:.2f} {'ok' if ratio >= 0.85 else 'BELOW'} "
            f"| {row.cpu_ms:.2f} | {real.cpu_ms:.2f} | {rise:+.2f} {'ok' if rise <= 0.3 else 'ABOVE'} "
            f"| {1000 * getattr(real, 'dns_cpu', 0.0) / max(real.hosts, 1):.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lookups"]:
        return lookups_main(argv[1:])
    args = build_parser().parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = args.out or ROOT / "bench" / "out" / f"{stamp}-dns"
    work.mkdir(parents=True, exist_ok=True)
    env = _env()
    print(
        f"bench.dns: {args.hosts:,} hosts, web latency {args.latency[0]:g}-{args.latency[1]:g} ms, DNS latency "
        f"{args.dns_latency[0]:g}-{args.dns_latency[1]:g} ms, {100 * args.timeout_share:g}% of names time out; "
        f"work folder {work}",
        flush=True,
    )
    rows, info = ([], {}) if args.skip_crawl else run_crawls(args, work, env)
    lookups = run_lookups(args, work, env) if args.lookups > 0 else []

    lines = [
        f"## bench.dns {stamp}{' (' + args.label + ')' if args.label else ''}",
        "",
        f"{args.hosts:,} hosts, web latency {args.latency[0]:g}-{args.latency[1]:g} ms, DNS latency "
        f"{args.dns_latency[0]:g}-{args.dns_latency[1]:g} ms, {100 * args.timeout_share:g}% of names never answered "
        f"({info.get('timing_out', '?')} names, left out of the hosts-file run's hosts file), "
        f"timeout {args.timeout:g} s, "
        f"resolver defaults (DNS_QUERY_TIMEOUT 2 s, DNS_TRIES 2, DNS_CONCURRENCY = concurrency); "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "",
    ]
    if rows:
        lines += [*_dns_table(rows), "", *_table(rows), ""]
        lines += [
            f"- {row.name}: every run (hosts/s, CPU ms/host): "
            + ", ".join(f"({rate:.0f}, {cpu:.2f})" for rate, cpu in getattr(row, "attempts", []))
            for row in rows
        ]
        lines += [f"- {row.name}: robots.txt faults {getattr(row, 'faults', {})}" for row in rows]
        lines += [f"- {row.name}: {note}" for row in rows for note in row.notes]
        lines.append("")
    for result in lookups:
        rate = result["names"] / result["wall"]
        lines.append(
            f"- look-ups/s (floor 1,000): {result['label']}: {rate:,.0f} names/s "
            f"({2 * result['names'] / result['wall']:,.0f} queries/s, A and AAAA), "
            f"{result['wall']:.1f} s, outcomes {result['outcomes']}, resolver CPU "
            f"{1000 * result['client_cpu'] / result['names']:.3f} ms/name, server CPU "
            f"{1000 * result['server_cpu'] / result['names']:.3f} ms/name"
        )
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_file = RESULTS / f"{stamp}-dns{'-' + args.label if args.label else ''}.md"
    result_file.write_text(text, "utf-8")
    print(f"saved to {result_file.relative_to(ROOT)}")
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
