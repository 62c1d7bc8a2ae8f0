"""``optout-audit crawl --workers N``: one run crawled by N processes, so that every core works.

A crawl is bound by its own CPU once concurrency hides the network's latency, and one Python
process uses one core. The parent process splits the work and merges it:

1. Every child reads the whole input list, deduplicates it exactly as a one-process run does
   (first line per host wins) and audits only the entries whose position in that list is
   ``K mod N`` (the spider's ``shard="K/N"``). Each record keeps its original input line and line
   number, and an invalid line belongs to exactly one shard: the records are those of a
   one-process run.
2. Child K writes ``RUN_DIR/shards/K/audit.jsonl`` and builds no report; the requests in flight
   (``--concurrency``) are divided between the children.
3. When all are done the parent merges the shards into ``RUN_DIR/audit.jsonl`` (written aside and
   renamed, a site never twice), removes ``shards/``, builds the reports once and writes
   ``run.json``.

``--resume`` works as for one process: each child skips the sites already in its shard's audit
and in the merged audit, and the merge drops duplicates. A sharded run left unfinished must be
resumed with ``--workers`` (any N: a site is skipped by its host, wherever it was audited).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from optout_audit.auditfile import read_line
from optout_audit.app.errors import UsageError
from optout_audit.app.run import AUDIT_FILE, CrawlOptions, _finish_record, _start_record, audited_keys, check_files

SHARDS_DIR = "shards"

__all__ = ["SHARDS_DIR", "check_unsharded_resume", "run_sharded"]


def check_unsharded_resume(options: CrawlOptions) -> None:
    """Refuse to resume a sharded run in one process (its shards would be left unmerged)."""
    if options.resume and (options.out / SHARDS_DIR).is_dir():
        raise UsageError(f"{options.out} was crawled with --workers and is unfinished: resume it with --workers N")


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def run_sharded(options: CrawlOptions, workers: int) -> Path:
    """Crawl ``options.input`` with ``workers`` processes into ``options.out``; return the run folder."""
    total = check_files(options)
    run_dir = options.out
    audit_path = run_dir / AUDIT_FILE
    shards = run_dir / SHARDS_DIR
    if (audit_path.exists() or shards.exists()) and not options.resume:
        raise UsageError(f"{run_dir} already holds an audit: use --resume to continue it, or another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    done = audited_keys(audit_path) if options.resume else set()
    record = _start_record(options, run_dir)
    shards.mkdir(exist_ok=True)
    skip_file = shards / "done.json"
    skip_file.write_text(json.dumps(sorted(done)), "utf-8")

    concurrency = [max(1, share) for share in _split(options.concurrency, workers)]
    children: list[subprocess.Popen[bytes]] = []
    try:
        for number in range(workers):
            child_dir = shards / str(number)
            child_dir.mkdir(exist_ok=True)
            argv = [
                sys.executable, "-m", "optout_audit.app.shards", str(options.input), str(child_dir),
                f"{number}/{workers}", str(concurrency[number]), str(options.timeout), options.log_level,
                str(options.hosts_file or ""), str(skip_file), str(max(total - len(done), 0) // workers + 1),
                str(options.cache or ""), ",".join(options.dns_servers), "1" if options.allow_private_networks else "",
            ]
            children.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL))
        codes = [child.wait() for child in children]
    except BaseException:
        for child in children:  # Ctrl-C / SIGTERM: stop the children too; --resume continues later
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            child.wait()
        raise
    failed = [number for number, code in enumerate(codes) if code != 0]
    if failed:
        raise RuntimeError(f"crawl worker(s) {failed} failed; the run can be continued with --resume --workers {workers}")
    merge_shards(run_dir)

    from optout_audit.report import build_reports

    build_reports(run_dir)
    _finish_record(record, run_dir)
    return run_dir


def merge_shards(run_dir: Path) -> Path:
    """Append every shard's complete records to ``run_dir/audit.jsonl`` (no site twice); remove shards/."""
    audit_path = run_dir / AUDIT_FILE
    shards = run_dir / SHARDS_DIR
    seen = audited_keys(audit_path)  # also drops a half-written last line
    merged = audit_path.with_name(AUDIT_FILE + ".merging")
    with merged.open("wb") as out:
        if audit_path.exists():
            with audit_path.open("rb") as previous:
                shutil.copyfileobj(previous, out, 1 << 20)
        for child_dir in sorted((p for p in shards.iterdir() if p.is_dir()), key=lambda p: int(p.name)):
            shard_audit = child_dir / AUDIT_FILE
            if not shard_audit.exists():
                continue
            with shard_audit.open("rb") as handle:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break  # cut by a kill: that site is audited again on resume
                    line = read_line(raw)
                    key = line.key if line is not None else ""
                    if not key or key in seen:
                        continue
                    seen.add(key)
                    out.write(raw)
        out.flush()
        os.fsync(out.fileno())
    os.replace(merged, audit_path)
    shutil.rmtree(shards)
    return audit_path


def crawl_shard(options: CrawlOptions, shard: str, skip: set[str], total: int) -> None:
    """One child: crawl shard ``K/N`` of the input into ``options.out/audit.jsonl``; no reports."""
    from scrapy.crawler import CrawlerProcess

    from optout_audit.app.run import _settings
    from optout_audit.spiders.optout import OptoutSpider

    options.out.mkdir(parents=True, exist_ok=True)
    done = audited_keys(options.out / AUDIT_FILE) | skip
    process = CrawlerProcess(_settings(options, options.out, total))
    process.crawl(OptoutSpider, input=str(options.input), skip_hosts=done, shard=shard)
    process.start()


def _child(argv: list[str]) -> int:
    input_path, out, shard, concurrency, timeout, log_level, hosts_file, skip_file, total, cache, *network = argv
    dns_servers, allow_private = (network + ["", ""])[:2]
    options = CrawlOptions(
        input=Path(input_path), out=Path(out), hosts_file=Path(hosts_file) if hosts_file else None,
        timeout=float(timeout), concurrency=int(concurrency), resume=True, log_level=log_level,
    )
    if cache:
        options = replace(options, cache=Path(cache))
    options = replace(options, dns_servers=tuple(filter(None, dns_servers.split(","))),
                      allow_private_networks=bool(allow_private))
    skip = set(json.loads(Path(skip_file).read_text("utf-8")))
    crawl_shard(options, shard, skip, int(total))
    return 0


if __name__ == "__main__":
    code = _child(sys.argv[1:])
    gc.freeze()  # as optout_audit.app.cli.entry: exit without collecting the crawl's heap again
    sys.exit(code)
