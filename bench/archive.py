"""The evidence archive's bench section: its CPU cost in a crawl, its size, and ``filter`` at scale.

    python -m bench.archive [--hosts 2000] [--rounds 2] [--filter-sites 100000] [--filter-urls 1000000]
                            [--skip-crawl] [--skip-filter]

1. **crawl**: ``optout-audit crawl`` of the bench web (``bench/web.py``: real robots.txt files,
   60-100 KB home pages) with the archive on and with ``--no-archive``, alternating, ``--rounds``
   times each, in this one sitting; CPU per host (user+sys of the process tree, ``bench.measure``)
   and the ratio of the medians (floor: archive on <= 1.15 x off), and the archive's size per
   1,000 sites (WARC files, their indexes and evidence.csv).
2. **filter**: a run folder of ``--filter-sites`` sites whose archive is written with the
   archive's own writer (the bench web's robots.txt files, a tdmrep.json and ai.txt on some
   sites; synthetic: a crawl of 100,000 hosts would take the sitting), then
   ``optout-audit filter`` of ``--filter-urls`` URLs over them, timed (floor: <= 60 s).

Results are printed and saved to ``bench/results/<UTC time>-archive.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import measure
from bench.run import PROJECT, ROOT, _env, wait_quiet
from bench.web import bench_web, robots_files, write_inputs

RESULTS = ROOT / "bench" / "results"
CPU_FLOOR = 1.15
FILTER_FLOOR_S = 60.0


def _size(run_dir: Path) -> int:
    files = [*list((run_dir / "archive").glob("*")), run_dir / "evidence.csv"]
    return sum(path.stat().st_size for path in files if path.is_file())


def crawl_section(args, work: Path, env: dict[str, str]) -> dict:
    from optout_audit.webfarm import running_farm

    web = bench_web(args.hosts, args.seed)
    sites, _plan, planned = write_inputs(web, work / "input")
    results: dict[str, list[float]] = {"on": [], "off": []}
    sizes: list[int] = []
    with running_farm(web, latency=(50.0, 150.0), log_requests=False, workdir=work / "farm") as farm:
        for number in range(args.rounds):
            order = ("on", "off") if number % 2 == 0 else ("off", "on")
            for mode in order:
                out = work / f"crawl-{mode}-{number}"
                argv = [
                    *PROJECT,
                    "crawl",
                    str(sites),
                    "--out",
                    str(out),
                    "--hosts-file",
                    str(farm.hosts_file),
                    "--concurrency",
                    str(args.concurrency),
                    "--timeout",
                    "20",
                ]
                if mode == "off":
                    argv.append("--no-archive")
                if args.quiet_wait > 0:
                    wait_quiet(farm.pid, patience=args.quiet_wait)
                print(f"  crawl, archive {mode} (round {number + 1}) ...", end="", flush=True)
                measured = measure.run(argv, work / f"crawl-{mode}-{number}.log", env=env, cwd=ROOT)
                if measured.returncode != 0:
                    raise SystemExit(f"crawl failed, see {work / f'crawl-{mode}-{number}.log'}")
                records = sum(1 for _ in (out / "audit.jsonl").open("rb"))
                per_host = 1000 * measured.cpu / records
                results[mode].append(per_host)
                if mode == "on":
                    sizes.append(_size(out))
                print(f" {measured.wall:.1f} s, {per_host:.2f} CPU ms/host", flush=True)
    on, off = statistics.median(results["on"]), statistics.median(results["off"])
    return {
        "hosts": args.hosts,
        "requests": planned,
        "on_ms": results["on"],
        "off_ms": results["off"],
        "ratio": on / off,
        "bytes_per_1000": 1000 * statistics.median(sizes) / args.hosts,
    }


def build_filter_run(run_dir: Path, sites: int, seed: int) -> None:
    """A run folder of ``sites`` sites: WARC files by the archive's writer, evidence.csv, audit.jsonl."""
    from optout_audit.archive.finish import build_evidence
    from optout_audit.archive.warc import WarcArchive

    rng = random.Random(seed)
    bodies = robots_files()
    tdmrep = json.dumps([{"location": "/reserved/", "tdm-reservation": 1}]).encode()
    aitxt = b"User-agent: *\nDisallow: /images/\n"
    archive = WarcArchive(run_dir / "archive", {"software": "bench.archive (synthetic run)"})
    run_dir.mkdir(parents=True, exist_ok=True)

    def stored(url: str, body: bytes, content_type: bytes, document: str, host: str, status: int = 200):
        record = archive.write_exchange(
            uri=url,
            status_line=f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}",
            headers=((b"Content-Type", content_type), (b"Content-Length", str(len(body)).encode())),
            body=body,
            request_line="GET / HTTP/1.1",
            request_headers=(("Host", host),),
            peer="127.0.0.1",
            domain=host,
            document=document,
            status=status,
        )
        return {
            "status": "ok" if status == 200 else "missing",
            "http_status": status,
            "warc_record_id": record.record_id,
            "sha256": record.sha256,
        }

    with (run_dir / "audit.jsonl").open("w", encoding="utf-8") as audit:
        for number in range(sites):
            host = f"site{number:06d}.example"
            root = f"https://{host}/"
            robots = stored(root + "robots.txt", bodies[number % len(bodies)], b"text/plain", "robots", host)
            home = stored(root, b"<html><head><title>x</title></head></html>", b"text/html", "home", host)
            has_tdm, has_ai = rng.random() < 0.05, rng.random() < 0.02
            tdm = stored(
                root + ".well-known/tdmrep.json",
                tdmrep if has_tdm else b"not found",
                b"application/json",
                "tdmrep",
                host,
                200 if has_tdm else 404,
            )
            ai = stored(
                root + "ai.txt", aitxt if has_ai else b"not found", b"text/plain", "aitxt", host, 200 if has_ai else 404
            )
            page = {
                "noai": rng.random() < 0.03,
                "tdm_reservation_header": None,
                "tdm_reservation_meta": None,
                "content_usage_header": None,
            }
            audit.write(
                json.dumps(
                    {
                        "domain": host,
                        "url": root,
                        "status": "ok",
                        "robots": robots,
                        "home": home,
                        "tdmrep": tdm,
                        "aitxt": ai,
                        "page": page,
                    }
                )
                + "\n"
            )
    archive.close()
    build_evidence(run_dir)


def filter_section(args, work: Path, env: dict[str, str]) -> dict:
    run_dir = work / f"filter-run-{args.filter_sites}"
    print(f"  writing a {args.filter_sites:,}-site run ...", flush=True)
    build_filter_run(run_dir, args.filter_sites, args.seed)
    urls = work / "urls.txt"
    rng = random.Random(args.seed)
    paths = [
        "",
        "private/a.html",
        "articles/2026/01/story.html",
        "images/a.png",
        "reserved/x",
        "search?q=1",
        "wp-admin/",
        "news/",
    ]
    with urls.open("w") as handle:
        for _ in range(args.filter_urls):
            handle.write(f"https://site{rng.randrange(args.filter_sites):06d}.example/{rng.choice(paths)}\n")
    if args.quiet_wait > 0:
        wait_quiet(patience=args.quiet_wait)
    print(f"  optout-audit filter ({args.filter_urls:,} URLs) ...", end="", flush=True)
    out = work / "permissions.csv"
    measured = measure.run(
        [*PROJECT, "filter", str(run_dir), str(urls), "--agent", "GPTBot", "--out", str(out)],
        work / "filter.log",
        env=env,
        cwd=ROOT,
    )
    if measured.returncode != 0:
        raise SystemExit(f"filter failed, see {work / 'filter.log'}")
    print(f" {measured.wall:.1f} s", flush=True)
    summary = (work / "filter.log").read_text().strip().splitlines()[-1]
    return {
        "sites": args.filter_sites,
        "urls": args.filter_urls,
        "wall": measured.wall,
        "cpu": measured.cpu,
        "rss_mb": measured.max_rss_mb,
        "summary": summary,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.archive", description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="crawls with the archive on and off, each (default 2)")
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--filter-sites", type=int, default=100_000)
    parser.add_argument("--filter-urls", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--skip-filter", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=60.0)
    parser.add_argument("--out", type=Path, help="work folder (default bench/out/<UTC time>-archive)")
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = args.out or ROOT / "bench" / "out" / f"{stamp}-archive"
    work.mkdir(parents=True, exist_ok=True)
    env = _env()
    lines = [f"# Evidence archive bench, {stamp}", "", f"python {sys.version.split()[0]}", ""]
    ok = True
    if not args.skip_crawl:
        crawl = crawl_section(args, work, env)
        verdict = "meets" if crawl["ratio"] <= CPU_FLOOR else "MISSES"
        ok &= crawl["ratio"] <= CPU_FLOOR
        lines += [
            f"## Crawl: archive on vs off ({crawl['hosts']:,} hosts, {crawl['requests']:,} requests, same sitting)",
            "",
            "| archive | CPU ms/host, each round | median |",
            "|---|---|---:|",
            f"| on | {', '.join(f'{v:.2f}' for v in crawl['on_ms'])} | {statistics.median(crawl['on_ms']):.2f} |",
            f"| off | {', '.join(f'{v:.2f}' for v in crawl['off_ms'])} | {statistics.median(crawl['off_ms']):.2f} |",
            "",
            f"- CPU per host, on / off: **{crawl['ratio']:.3f}** (floor <= {CPU_FLOOR}: {verdict})",
            f"- archive size: **{crawl['bytes_per_1000'] / 1e6:.1f} MB per 1,000 sites** (WARC files, their "
            "indexes and evidence.csv; 60-100 KB home pages kept whole, gzip per record)",
            "",
        ]
    if not args.skip_filter:
        result = filter_section(args, work, env)
        verdict = "meets" if result["wall"] <= FILTER_FLOOR_S else "MISSES"
        ok &= result["wall"] <= FILTER_FLOOR_S
        lines += [
            f"## filter: {result['urls']:,} URLs against a {result['sites']:,}-site run",
            "",
            f"- wall **{result['wall']:.1f} s** (floor <= {FILTER_FLOOR_S:.0f} s: {verdict}), CPU {result['cpu']:.1f} s, "
            f"peak memory {result['rss_mb']:.0f} MB",
            f"- {result['summary']}",
            "",
        ]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}-archive.md").write_text(text + "\n", "utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
