"""``make bench``: optout-audit against its fetch limit, on a local web, in one sitting.

    python -m bench.run [--hosts 3000] [--latency 50,150] [--concurrency 128] [--workers 1,2]
                        [--report-rows 100000] [--skip-limit] [--skip-floor] [--skip-project]
                        [--skip-startup] [--skip-report] [--skip-crawl] [--label TEXT]

One local web (``bench/web.py``: N synthetic hosts, real robots.txt files from the test
fixtures, 60-100 KB home pages, latency with jitter) serves, one after another and on the same
hosts and concurrency:

1. **limit** -- a minimal aiohttp client fetching the same documents per host, parsing nothing (once on
   asyncio's own event loop, once on uvloop, the loop optout-audit runs on);
2. **floor** -- a bare Scrapy spider with Scrapy's default settings, extracting nothing;
3. **project** -- ``optout-audit crawl`` with full extraction and reports (once per ``--workers``).

Each client is its own process; its CPU is user+sys from ``wait4`` (children included), not
wall-clock, because the farm shares the two cores. Every name resolves through the farm's hosts
file: nothing leaves 127.0.0.0/8. Then ``startup`` (command to first request, and a check under
strace that no connection leaves loopback) and ``report`` (``optout-audit report`` on N
synthetic audit rows). The table is printed and saved to ``bench/results/<UTC time>.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import measure
from bench.web import ROOT, bench_web, write_inputs

BIN = Path(sys.executable).parent
PROJECT = [sys.executable, "-m", "optout_audit.app.cli"]  # the code of this checkout (PYTHONPATH=ROOT)
RESULTS = ROOT / "bench" / "results"


@dataclass
class Row:
    name: str
    hosts: int
    measured: measure.Measured
    farm_cpu: float
    requests: int | None = None
    other_cpu: float = 0.0  # CPU of every other process on the machine meanwhile (seconds)
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.hosts / self.measured.wall if self.measured.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.measured.cpu / self.hosts if self.hosts else float("nan")


def _latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def _workers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=3000, help="synthetic hosts (default 3000)")
    parser.add_argument("--latency", type=_latency, default=(50.0, 150.0), help="MIN_MS,MAX_MS (default 50,150)")
    parser.add_argument("--concurrency", type=int, default=128, help="requests in flight (default 128)")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=[1, 2],
        help="optout-audit crawl --workers values to run, comma-separated (default 1,2)",
    )
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--farm-workers", type=int, default=1, help="farm processes (default 1)")
    parser.add_argument(
        "--report-rows",
        type=int,
        default=100_000,
        help="synthetic audit rows for the report-stage benchmark (default 100000; 1000000 for the target)",
    )
    parser.add_argument("--skip-limit", action="store_true")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-project", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument(
        "--skip-crawl",
        action="store_true",
        help="the report stage only: --skip-limit --skip-floor --skip-project --skip-startup",
    )
    parser.add_argument("--label", default="", help="a word for the results file (e.g. baseline)")
    parser.add_argument("--out", type=Path, help="work folder (default bench/out/<UTC time>)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=180.0,
        help="wait up to this many seconds for other processes to go quiet before each client (default 180)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (big CSVs included)")
    return parser


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}  # loopback only, never a proxy
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _farm_cpu(farm) -> float:
    return measure.cpu_seconds(farm.pid)


def wait_quiet(farm_pid: int | None = None, limit: float = 0.15, patience: float = 180.0) -> float:
    """Wait (up to ``patience`` s) until other processes use under ``limit`` of a core; return the last share.

    The machine may be shared (other work, test suites): a client measured beside them loses
    wall time, not CPU time, so the hosts/s column would lie.
    """
    deadline = time.monotonic() + patience
    while True:
        busy, farm = measure.busy_seconds(), measure.cpu_seconds(farm_pid) if farm_pid else 0.0
        time.sleep(1.0)
        share = measure.busy_seconds() - busy - ((measure.cpu_seconds(farm_pid) - farm) if farm_pid else 0.0)
        if share < limit or time.monotonic() > deadline:
            return share


def _stat(log: Path, name: str) -> int | None:
    found = re.findall(rf"'{re.escape(name)}': (\d+)", log.read_text("utf-8", "replace"))
    return sum(int(v) for v in found) if found else None


def _audit_counts(audit: Path) -> tuple[int, int]:
    """(records, documents fetched) of an audit.jsonl: every Fetch of a record, licence files included."""
    from optout_audit.auditfile import DOCUMENTS, LICENCE_FETCHES

    records = fetched = 0
    with audit.open("rb") as handle:
        for raw in handle:
            record = json.loads(raw)
            records += 1
            fetches = [record.get(name) or {} for name in DOCUMENTS] + (record.get(LICENCE_FETCHES) or [])
            fetched += sum(1 for fetch in fetches if fetch.get("fetched_at"))
    return records, fetched


def run_clients(args, work: Path, env: dict[str, str]) -> tuple[list[Row], dict]:
    from optout_audit.webfarm import running_farm

    web = bench_web(args.hosts, args.seed)
    sites, plan, planned = write_inputs(web, work / "input")
    info = {"planned_requests": planned}
    rows: list[Row] = []
    common = ["--concurrency", str(args.concurrency), "--timeout", str(args.timeout)]
    with running_farm(
        web, latency=args.latency, workers=args.farm_workers, log_requests=False, workdir=work / "farm"
    ) as farm:
        hosts_file = str(farm.hosts_file)

        def client(name: str, argv: list[str], counter) -> Row:
            print(f"  {name} ...", end="", flush=True)
            if args.quiet_wait > 0:
                wait_quiet(farm.pid, patience=args.quiet_wait)
            before, busy = _farm_cpu(farm), measure.busy_seconds()
            log = work / f"{name}.log"
            measured = measure.run(argv, log, env=env, cwd=ROOT)
            farm_cpu = _farm_cpu(farm) - before
            other = max(0.0, measure.busy_seconds() - busy - farm_cpu - measured.cpu)
            hosts, requests = counter(log)
            row = Row(name, hosts, measured, farm_cpu, requests, other)
            if other > 0.1 * measured.wall:
                row.notes.append(
                    f"other processes used {100 * other / measured.wall:.0f}% of a core meanwhile: "
                    "its wall time and hosts/s are not clean"
                )
            if measured.returncode != 0:
                row.notes.append(f"exit {measured.returncode}, see {log}")
            print(f" {measured.wall:.1f} s, {row.rate:.0f} hosts/s, {row.cpu_ms:.2f} CPU ms/host", flush=True)
            return row

        if not args.skip_limit:

            def limit_counts(log: Path) -> tuple[int, int]:
                counts = json.loads(log.read_text().strip().splitlines()[-1])
                return counts["hosts"], counts["requests"]

            limit = [sys.executable, "-m", "bench.limit", str(plan), hosts_file, *common]
            rows.append(client("limit (aiohttp)", limit, limit_counts))
            # optout-audit runs on uvloop: the same client on the same loop, for a like-for-like ratio
            rows.append(client("limit (aiohttp, uvloop)", [*limit, "--uvloop"], limit_counts))
        if not args.skip_floor:
            feed = work / "floor.jsonl"

            def floor_counts(log: Path) -> tuple[int, int | None]:
                return sum(1 for _ in feed.open()) if feed.exists() else 0, _stat(log, "downloader/request_count")

            rows.append(
                client(
                    "floor (bare Scrapy)",
                    [sys.executable, "-m", "bench.floor", str(plan), hosts_file, str(feed), *common],
                    floor_counts,
                )
            )
        if not args.skip_project:
            for workers in args.workers:
                out = work / f"project-w{workers}"
                argv = [*PROJECT, "crawl", str(sites), "--out", str(out), "--hosts-file", hosts_file, *common]
                if workers != 1:
                    argv += ["--workers", str(workers)]

                def project_counts(log: Path, out: Path = out) -> tuple[int, int]:
                    audit = out / "audit.jsonl"
                    return _audit_counts(audit) if audit.exists() else (0, 0)

                name = "optout-audit crawl" + (f" --workers {workers}" if workers != 1 else "")
                rows.append(client(name, argv, project_counts))
    return rows, info


def run_startup(work: Path, env: dict[str, str], runs: int = 3) -> dict:
    """Command to first request (seconds, median of ``runs``), and connections seen under strace."""
    from optout_audit.webfarm import running_farm

    web = bench_web(20, 7)
    sites, _, _ = write_inputs(web, work / "startup-input")
    times: list[float] = []
    result: dict = {}
    with running_farm(web, log_requests=True, workdir=work / "startup-farm") as farm:
        for number in range(runs + 1):
            farm.clear_request_log()
            out = work / f"startup-{number}"
            argv = [
                *PROJECT,
                "crawl",
                str(sites),
                "--out",
                str(out),
                "--hosts-file",
                str(farm.hosts_file),
                "--concurrency",
                "16",
                "--timeout",
                "10",
            ]
            trace = work / "startup.strace"
            traced = number == runs and shutil.which("strace")
            if number == runs and not traced:
                break
            if traced:  # the last run under strace: every connect() and sendto() of the whole tree
                argv = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace), *argv]
            launched = time.time()
            subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            records = farm.request_records()
            first = min((r["t"] for r in records if r.get("event") == "request"), default=None)
            if not traced and first is not None:
                times.append(first - launched)
            if traced:
                result["connects"] = _connects(trace)
    result["first_request_s"] = statistics.median(times) if times else None
    return result


def _connects(trace: Path) -> dict[str, int]:
    """Connections by kind seen under strace: loopback, unix sockets, anything else (DNS included)."""
    kinds = {"loopback": 0, "unix": 0, "other": 0}
    for line in trace.read_text("utf-8", "replace").splitlines():
        if "connect(" not in line and "sendto(" not in line and "sendmsg(" not in line:
            continue
        if "AF_UNIX" in line:
            kinds["unix"] += 1
        elif re.search(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"', line):
            kinds["loopback"] += 1
        elif "AF_INET" in line:
            kinds["other"] += 1
    return kinds


def synthetic_run(rows: int, run_dir: Path) -> Path:
    """A run folder holding ``rows`` synthetic records as audit.jsonl (made once, cached); return the file."""
    from optout_audit.report.synthetic import write_synthetic_audit

    cache = ROOT / "bench" / "out" / "cache" / f"audit-{rows}.jsonl"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        print(f"  writing {rows:,} synthetic records (cached in {cache.relative_to(ROOT)}) ...", flush=True)
        partial = cache.with_suffix(".partial")
        write_synthetic_audit(partial, rows, seed=0)
        partial.replace(cache)
    run_dir.mkdir(parents=True, exist_ok=True)
    audit = run_dir / "audit.jsonl"
    audit.unlink(missing_ok=True)  # (a folder reused with --out)
    try:
        os.link(cache, audit)
    except OSError:
        shutil.copyfile(cache, audit)
    return cache


def run_report(rows: int, work: Path, env: dict[str, str]) -> dict:
    """``optout-audit report`` on ``rows`` synthetic records: wall, CPU, peak RSS, output size."""
    run_dir = work / f"report-{rows}"
    cache = synthetic_run(rows, run_dir)
    print(f"  optout-audit report ({rows:,} rows) ...", end="", flush=True)
    load_before = os.getloadavg()[0]
    measured = measure.run([*PROJECT, "report", str(run_dir)], work / "report.log", env=env, cwd=ROOT)
    load = (load_before, os.getloadavg()[0])
    sizes = {p.name: p.stat().st_size for p in run_dir.glob("*.csv")}
    agent_rows = None
    if "domain_agents.csv" in sizes:
        with (run_dir / "domain_agents.csv").open("rb") as handle:
            agent_rows = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1
    print(f" {measured.wall:.1f} s", flush=True)
    return {
        "rows": rows,
        "measured": measured,
        "csv_bytes": sum(sizes.values()),
        "domain_agent_rows": agent_rows,
        "audit_bytes": cache.stat().st_size,
        "load": load,
    }


def _table(rows: list[Row]) -> list[str]:
    lines = [
        "| client | hosts | wall s | hosts/s | CPU ms/host | user s | sys s | peak memory MB | farm CPU ms/host "
        "| other CPU % | requests |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        m = row.measured
        rss = f"{m.tree_rss_mb:.0f}" + (
            f" ({m.max_rss_mb:.0f} max RSS/proc)" if m.tree_rss_mb > m.max_rss_mb * 1.2 else ""
        )
        lines.append(
            f"| {row.name} | {row.hosts:,} | {m.wall:.1f} | {row.rate:.0f} | {row.cpu_ms:.2f} | {m.user:.1f} | "
            f"{m.system:.1f} | {rss} | {1000 * row.farm_cpu / max(row.hosts, 1):.2f} | "
            f"{100 * row.other_cpu / m.wall if m.wall else 0:.0f} | "
            f"{row.requests if row.requests is not None else '?'} |"
        )
    return lines


def _ratios(rows: list[Row]) -> list[str]:
    by_name = {row.name: row for row in rows}
    limit, floor = by_name.get("limit (aiohttp)"), by_name.get("floor (bare Scrapy)")
    uvloop_limit = by_name.get("limit (aiohttp, uvloop)")
    lines = []
    for row in rows:
        if not row.name.startswith("optout-audit"):
            continue
        parts = []
        if limit and limit.rate:
            parts.append(f"throughput {row.rate / limit.rate:.2f} x limit")
            parts.append(f"CPU/host {row.cpu_ms / limit.cpu_ms:.2f} x limit")
        if uvloop_limit and uvloop_limit.rate:
            parts.append(f"throughput {row.rate / uvloop_limit.rate:.2f} x limit on uvloop")
        if floor and floor.rate:
            parts.append(f"throughput {row.rate / floor.rate:.2f} x floor")
            parts.append(f"CPU/host {row.cpu_ms / floor.cpu_ms:.2f} x floor")
        if parts:
            lines.append(f"- `{row.name}`: " + ", ".join(parts))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.skip_crawl:
        args.skip_limit = args.skip_floor = args.skip_project = args.skip_startup = True
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = args.out or ROOT / "bench" / "out" / stamp
    work.mkdir(parents=True, exist_ok=True)
    env = _env()
    print(
        f"bench: {args.hosts:,} hosts, latency {args.latency[0]:g}-{args.latency[1]:g} ms, "
        f"concurrency {args.concurrency}; work folder {work}",
        flush=True,
    )
    rows: list[Row] = []
    info: dict = {}
    if not (args.skip_limit and args.skip_floor and args.skip_project):
        rows, info = run_clients(args, work, env)
    startup = {} if args.skip_startup else run_startup(work, env)
    report = None if args.skip_report or args.report_rows <= 0 else run_report(args.report_rows, work, env)

    lines = [
        f"## bench {stamp}{' (' + args.label + ')' if args.label else ''}",
        "",
        f"{args.hosts:,} hosts, latency {args.latency[0]:g}-{args.latency[1]:g} ms, concurrency {args.concurrency}, "
        f"timeout {args.timeout:g} s, farm workers {args.farm_workers}; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; planned requests {info.get('planned_requests', '?')}",
        "",
    ]
    if rows:
        lines += [*_table(rows), "", *_ratios(rows), ""]
        for row in rows:
            lines += [f"- {row.name}: {note}" for note in row.notes]
    if startup:
        connects = startup.get("connects")
        lines.append(
            f"- start-up, command to first request: {startup['first_request_s']:.2f} s (median of 3)"
            if startup.get("first_request_s") is not None
            else "- start-up: no request seen"
        )
        if connects is not None:
            lines.append(
                f"- connections/datagrams under strace: {connects['loopback']} to loopback, "
                f"{connects['other']} elsewhere (DNS included), {connects['unix']} unix sockets"
            )
    if report:
        m = report["measured"]
        lines.append(
            f"- `optout-audit report` on {report['rows']:,} synthetic rows ({report['audit_bytes'] / 2**20:.0f} MB "
            f"audit.jsonl -> {report['domain_agent_rows'] or 0:,} domain_agents rows, "
            f"{report['csv_bytes'] / 2**20:.0f} MB of CSV): {m.wall:.1f} s wall, {m.cpu:.1f} s CPU, "
            f"peak RSS {m.tree_rss_mb:.0f} MB" + (f" (exit {m.returncode})" if m.returncode else "")
        )
        # Issue 10's floors per million rows: 30 s, 400 MB peak, 1.5 GB of report files (< 1 x: within).
        per_million = 1_000_000 / max(report["rows"], 1)
        lines.append(
            f"- against the floors (per 1,000,000 rows): time {m.wall * per_million / 30:.2f} x "
            f"(CPU {m.cpu * per_million / 30:.2f} x), peak memory {m.tree_rss_mb / 400:.2f} x, "
            f"report size {report['csv_bytes'] * per_million / 1.5e9:.2f} x; load average "
            f"{report['load'][0]:.1f} before, {report['load'][1]:.1f} after (2 cores)"
        )
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_file = RESULTS / f"{stamp}{'-' + args.label if args.label else ''}.md"
    result_file.write_text(text, "utf-8")
    print(f"saved to {result_file.relative_to(ROOT)}")
    if not args.keep and args.out is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
