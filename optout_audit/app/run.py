"""One audit run: a run folder, the crawl, its record (run.json) and its reports.

A run folder holds ``audit.jsonl`` (one SiteAudit per line, written as items leave the spider
through Scrapy's FEEDS), ``run.json`` and the CSV reports. ``audit.jsonl`` is also the resume
checkpoint: a run killed even with SIGKILL is continued with ``--resume``, which skips every site
already written and drops a last line cut in half.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from optout_audit import USER_AGENT, __version__
from optout_audit.agents import AGENT_LIST_VERSION
from optout_audit.auditfile import read_line
from optout_audit.app.errors import UsageError
from optout_audit.downloader.outcomes import utc_now
from optout_audit.app.inputs import check_input
from optout_audit.archive.finish import archive_dir, finish_archive

AUDIT_FILE = "audit.jsonl"
RUN_FILE = "run.json"


@dataclass(slots=True)
class CrawlOptions:
    input: Path
    out: Path
    hosts_file: Path | None = None
    timeout: float = 20.0
    concurrency: int = 64
    resume: bool = False
    log_level: str = "INFO"
    cache: Path | None = None  # HTTP cache folder shared between runs (conditional re-fetches)
    archive: bool = True  # the evidence archive (optout_audit/archive/): WARC files, evidence.csv, manifest


def audited_keys(audit_path: Path) -> set[str]:
    """Keys (host, or a NUL-prefixed line for invalid inputs) of the complete lines of an audit.

    A last line without its newline was cut by a kill: it is removed from the file, so the
    site is audited again and appears once.
    """
    keys: set[str] = set()
    if not audit_path.is_file():
        return keys
    with audit_path.open("rb+") as handle:
        data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            handle.truncate(len(complete))
    for raw in complete.splitlines():
        line = read_line(raw)
        if line is not None and line.key:
            keys.add(line.key)
    return keys


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _settings(options: CrawlOptions, run_dir: Path, total: int):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("optout_audit.settings", priority="project")
    settings.set("FEEDS", {str(run_dir / AUDIT_FILE): {"format": "jsonlines", "overwrite": False}}, "cmdline")
    settings.set("DOWNLOAD_TIMEOUT", options.timeout, "cmdline")
    settings.set("CONCURRENT_REQUESTS", options.concurrency, "cmdline")
    settings.set("LOG_LEVEL", options.log_level, "cmdline")
    settings.set("OPTOUT_TOTAL_SITES", total, "cmdline")
    settings.set("OPTOUT_ARCHIVE", options.archive, "cmdline")
    settings.set("OPTOUT_ARCHIVE_DIR", str(archive_dir(run_dir)), "cmdline")
    if options.hosts_file:
        settings.set("HOSTS_FILE", str(options.hosts_file), "cmdline")
    if options.cache:
        # Absolute: Scrapy would put a relative HTTPCACHE_DIR under the project's .scrapy/ folder.
        settings.set("HTTPCACHE_ENABLED", True, "cmdline")
        settings.set("HTTPCACHE_DIR", str(options.cache.resolve()), "cmdline")
    return settings


def check_files(options: CrawlOptions) -> int:
    """Check the files a crawl needs (UsageError if unusable); return the input's number of data lines."""
    if not options.input.is_file():
        raise UsageError(f"input file not found: {options.input}")
    if options.hosts_file and not options.hosts_file.is_file():
        raise UsageError(f"hosts file not found: {options.hosts_file}")
    return check_input(options.input)


def run_crawl(options: CrawlOptions) -> Path:
    """Crawl ``options.input`` into ``options.out`` and write its reports; returns the run folder."""
    total = check_files(options)
    run_dir = options.out
    audit_path = run_dir / AUDIT_FILE
    if audit_path.exists() and not options.resume:
        raise UsageError(f"{run_dir} already holds an audit: use --resume to continue it, or another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    done = audited_keys(audit_path) if options.resume else set()
    record = _start_record(options, run_dir)

    from scrapy.crawler import CrawlerProcess

    from optout_audit.spiders.optout import OptoutSpider

    process = CrawlerProcess(_settings(options, run_dir, max(total - len(done), 0)))
    process.crawl(OptoutSpider, input=str(options.input), skip_hosts=done)
    process.start()
    del process  # the crawler, its spider and their buffers: the report stage does not need them
    _give_back_memory()

    from optout_audit.report import build_reports

    build_reports(run_dir)
    _finish_record(record, run_dir)
    return run_dir


def _give_back_memory() -> None:
    """Return the finished crawl's memory to the system before the report stage needs its own."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed heap pages otherwise
    except (OSError, AttributeError):  # not glibc
        pass


def _start_record(options: CrawlOptions, run_dir: Path) -> dict:
    previous = _read_json(run_dir / RUN_FILE) if options.resume else {}
    record = {
        "run_id": previous.get("run_id") or uuid.uuid4().hex[:12],
        "started_at": previous.get("started_at") or utc_now(),
        "resumed_at": [*previous.get("resumed_at", []), utc_now()] if options.resume else [],
        "finished_at": None,
        "input": str(options.input),
        "input_sha256": _sha256(options.input),
        "tool_version": __version__,
        "user_agent": USER_AGENT,
        "agent_list": AGENT_LIST_VERSION,
        "settings": {
            "timeout": options.timeout,
            "concurrency": options.concurrency,
            "hosts_file": str(options.hosts_file) if options.hosts_file else None,
            "cache": str(options.cache) if options.cache else None,
            "archive": options.archive,
        },
    }
    _write_json(run_dir / RUN_FILE, record)
    return record


def _finish_record(record: dict, run_dir: Path) -> None:
    statuses: Counter[str] = Counter()
    unchanged: Counter[bool | None] = Counter()
    with (run_dir / AUDIT_FILE).open("rb") as handle:
        for raw in handle:
            line = read_line(raw)
            if line is None:
                statuses["unreadable_line"] += 1
                continue
            statuses[line.status] += 1
            unchanged.update(line.unchanged)
    record["finished_at"] = utc_now()
    record["sites"] = sum(statuses.values())
    record["counts_by_status"] = dict(sorted(statuses.items()))
    # With --cache: documents the server answered 304 for (stored copy used) / fetched anew.
    record["documents_unchanged"] = unchanged[True] if record["settings"].get("cache") else None
    record["documents_refetched"] = unchanged[False] if record["settings"].get("cache") else None
    _write_json(run_dir / RUN_FILE, record)
    finish_archive(run_dir)  # evidence.csv from the archive's indexes, then manifest.sha256 of the whole folder


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    os.replace(temporary, path)


def run_demo(out: Path) -> Path:
    """Start the bundled local web, audit it and write the reports into ``out``."""
    from optout_audit.webfarm import running_farm
    from optout_audit.webfarm.demo import demo_input_lines, demo_sites

    out.mkdir(parents=True, exist_ok=True)
    input_path = out / "demo-sites.txt"
    input_path.write_text("\n".join(demo_input_lines()) + "\n", "utf-8")
    with running_farm(demo_sites()) as farm:
        options = CrawlOptions(input=input_path, out=out, hosts_file=Path(farm.hosts_file), timeout=5.0,
                               log_level="WARNING")
        return run_crawl(options)
