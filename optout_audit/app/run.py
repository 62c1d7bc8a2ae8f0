"""One audit run: its folder, its crawl, its record (run.json) and its reports. The only run lifecycle.

:class:`Run` is used alike by ``optout-audit crawl`` (one process or ``--workers N``), ``demo``, the
shard children and scrapyd jobs (:mod:`optout_audit.extensions.scheduled`):

1. :meth:`Run.open` checks the options, refuses what cannot work (an input that is not a list, an
   ``--out`` that is a file, a resume with another input or with settings that change results),
   keeps a copy of the input list (and hosts file) in the folder and writes ``run.json`` with
   ``state: running``.
2. :meth:`Run.crawl` crawls what is not yet in ``audit.jsonl``, in this process or in shard
   processes (:mod:`optout_audit.app.shards`).
3. :meth:`Run.finish` builds the reports and completes run.json: ``state: finished`` when every
   input line has its record, else ``state: interrupted`` with what stopped it; an interrupted run
   raises :class:`RunInterrupted` for the command to say so and exit non-zero.

A run folder holds ``audit.jsonl`` (one SiteAudit per line, written as items leave the spider
through Scrapy's FEEDS), ``run.json``, the copied input and the reports. ``audit.jsonl`` is also
the resume checkpoint: a run killed even with SIGKILL is continued with ``--resume``, which skips
every site already written and drops a last line cut in half.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optout_audit import USER_AGENT, __version__
from optout_audit.agents import AGENT_LIST_VERSION
from optout_audit.app.errors import UsageError
from optout_audit.app.inputs import InputFacts, count_entries, input_facts, read_given_input
from optout_audit.archive.finish import ARCHIVE_DIR, finish_archive
from optout_audit.auditfile import AUDIT_FILE, RUN_FILE, audited_keys, read_line
from optout_audit.downloader.outcomes import utc_now
from optout_audit.files import file_sha256, read_json_object, write_json_object

__all__ = ["CrawlOptions", "Run", "RunFailed", "RunInterrupted", "make_run_folder", "run_crawl", "run_demo"]

#: Exit codes of a run stopped by a signal, as a shell reports them (128 + signal number).
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: Settings whose change between a run and its resume would change results (refused).
RESULT_SETTINGS = ("timeout", "hosts_file_sha256", "dns_servers", "allow_private_networks", "extra")


@dataclass(slots=True)
class CrawlOptions:
    input: Path
    out: Path
    hosts_file: Path | None = None
    timeout: float = 20.0
    concurrency: int = 64
    resume: bool = False
    log_level: str = "WARNING"
    cache: Path | None = None  # HTTP cache folder shared between runs (conditional re-fetches)
    workers: int = 1
    dns_servers: tuple[str, ...] = ()  # --dns-server: where look-ups go (none: the system's resolv.conf)
    allow_private_networks: bool = False  # connect to loopback/private/link-local addresses too
    archive: bool = True  # the evidence archive (optout_audit/archive/): WARC files, evidence.csv, manifest
    #: A distributed run (optout_audit.distributed): its Redis URL, and the lease of a queue entry in
    #: seconds (None: a few request timeouts).
    redis: str | None = None
    lease: float | None = None
    #: Scrapy settings of features that change results (recorded in run.json, compared on resume).
    extra: dict[str, Any] = field(default_factory=dict)

    _PATHS = ("input", "out", "hosts_file", "cache")

    def to_json(self) -> dict[str, Any]:
        """The options as JSON values (for the shard processes)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {
            name: str(value) if name in self._PATHS and value is not None else value for name, value in data.items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlOptions:
        return cls(
            **{name: Path(value) if name in cls._PATHS and value is not None else value for name, value in data.items()}
        )


class RunInterrupted(Exception):
    """The run stopped before every input line had its record; run.json says ``interrupted``."""

    def __init__(self, run_dir: Path, reason: str, audited: int, total: int, exit_code: int) -> None:
        self.run_dir, self.reason, self.audited, self.total, self.exit_code = run_dir, reason, audited, total, exit_code
        self.command = ""  # the command that continues the run, where the caller knows it
        super().__init__(f"run interrupted ({reason}): {audited:,} of {total:,} sites audited")


class RunFailed(Exception):
    """A run that could not go on for a reason that is not the user's (exit code 1)."""


@contextlib.contextmanager
def signals_passed_on(children: list[subprocess.Popen]) -> Iterator[list[int]]:
    """While inside, SIGINT and SIGTERM are passed on to every running child in ``children``, once.

    Yields the list that holds the signal received (empty while none was). Once only: a second
    signal would force Scrapy's unclean stop in the children. The previous handlers come back after.
    """
    received: list[int] = []

    def forward(signum: int, _frame) -> None:
        if not received:
            received.append(signum)
            for child in children:
                if child.poll() is None:
                    child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def make_run_folder(path: Path) -> None:
    """Create the run folder ``path`` (and its parents); a UsageError when it cannot be one."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out is a file, not a folder: {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the run folder {path}: {exc.strerror or exc}") from None


class Run:
    """A run folder and its record; see the module docstring for the lifecycle."""

    def __init__(self, run_dir: Path, record: dict[str, Any], options: CrawlOptions) -> None:
        self.dir = run_dir
        self.record = record
        self.options = options
        self.audit_path = run_dir / AUDIT_FILE
        self.total_lines = record.get("input_lines") or 0
        self.signal: int | None = None  # the signal that stopped the crawl, if one did
        #: The records a complete run has (:func:`~optout_audit.app.inputs.count_entries`), set by a
        #: crawl that went through the whole list (its spider counts as it reads); None until then,
        #: and :meth:`finish` counts them itself.
        self.entries: int | None = None

    # -- start -------------------------------------------------------------------------------------

    @classmethod
    def open(cls, options: CrawlOptions, *, scheduled_job: str | None = None) -> Run:
        """Check ``options``, create or reopen the run folder, write run.json (``state: running``)."""
        data = read_given_input(options.input)  # the one read of the list at open: validated, counted, hashed, copied
        if options.hosts_file and not options.hosts_file.is_file():
            raise UsageError(f"hosts file not found: {options.hosts_file}")
        if options.hosts_file and options.dns_servers:
            raise UsageError("--hosts-file and --dns-server exclude each other: names resolve through one of them")
        facts = input_facts(data)
        run_dir = options.out
        make_run_folder(run_dir)
        from optout_audit.app.shards import SHARDS_DIR

        holds_audit = (run_dir / AUDIT_FILE).exists() or (run_dir / SHARDS_DIR).exists()
        if holds_audit and not options.resume:
            raise UsageError(f"{run_dir} already holds an audit: use --resume to continue it, or another --out")
        if options.resume and options.workers == 1 and (run_dir / SHARDS_DIR).is_dir():
            raise UsageError(f"{run_dir} was crawled with --workers and is unfinished: resume it with --workers N")
        previous = read_json_object(run_dir / RUN_FILE) if options.resume else {}
        record = cls._new_record(options, previous, facts, scheduled_job)
        if options.resume and previous:
            cls._check_resume(previous, record)
        run = cls(run_dir, record, options)
        run._keep_inputs(data)
        write_json_object(run_dir / RUN_FILE, record)
        return run

    @staticmethod
    def _new_record(options: CrawlOptions, previous: dict, facts: InputFacts, job: str | None) -> dict[str, Any]:
        now = utc_now()
        hosts = options.hosts_file
        record = {
            "run_id": previous.get("run_id") or uuid.uuid4().hex[:12],
            "state": "running",
            "started_at": previous.get("started_at") or now,
            "resumed_at": [*previous.get("resumed_at", []), now] if options.resume and previous else [],
            "finished_at": None,
            "interrupted": None,
            "input": str(options.input.resolve()),
            "input_sha256": facts.sha256,
            "input_lines": facts.lines,
            "input_copy": None,
            "tool_version": __version__,
            "user_agent": USER_AGENT,
            "agent_list": AGENT_LIST_VERSION,
            "settings": {
                "timeout": options.timeout,
                "concurrency": options.concurrency,
                "workers": options.workers,
                "hosts_file": str(hosts.resolve()) if hosts else None,
                "hosts_file_sha256": file_sha256(hosts) if hosts else None,
                "hosts_file_copy": None,
                "cache": str(options.cache.resolve()) if options.cache else None,
                "dns_servers": list(options.dns_servers),
                "allow_private_networks": options.allow_private_networks,
                "archive": options.archive,
                "extra": dict(sorted(options.extra.items())),
            },
        }
        if job is not None:
            record["scheduled_job"] = job
        return record

    @staticmethod
    def _check_resume(previous: dict, record: dict) -> None:
        if previous.get("input_sha256") and previous["input_sha256"] != record["input_sha256"]:
            raise UsageError(
                f"--resume with another input: {record['input']} is not the list this run started with "
                f"(SHA-256 {previous['input_sha256'][:12]}…, {previous.get('input')})"
            )
        before, now = previous.get("settings") or {}, record["settings"]
        changed = [name for name in RESULT_SETTINGS if name in before and before.get(name) != now.get(name)]
        if changed:
            raise UsageError(
                f"--resume with changed settings that change results: {', '.join(changed)} "
                f"(was {', '.join(repr(before.get(name)) for name in changed)})"
            )

    def _keep_inputs(self, data: bytes) -> None:
        """Keep the input list's ``data`` (and the hosts file) in the run folder: the run can be redone from it alone.

        The copy is written from the bytes that were hashed, so it is the list ``input_sha256`` names.
        """
        copy = self.dir / ("input" + (self.options.input.suffix or ".txt"))
        if not copy.exists() or copy.resolve() != self.options.input.resolve():
            copy.write_bytes(data)
        self.record["input_copy"] = copy.name
        if self.options.hosts_file:
            hosts = self.dir / "hosts.txt"
            if not hosts.exists() or hosts.resolve() != self.options.hosts_file.resolve():
                shutil.copyfile(self.options.hosts_file, hosts)
            self.record["settings"]["hosts_file_copy"] = hosts.name

    def done_keys(self) -> set[str]:
        """The sites already audited (a resume skips them); drops a last line cut by a kill."""
        return audited_keys(self.audit_path) if self.options.resume else set()

    # -- crawl -------------------------------------------------------------------------------------

    def settings(self, feed: Path, total: int, *, progress: bool = True):
        """Scrapy settings of this run's crawl, writing records to ``feed``."""
        from scrapy.settings import Settings

        options = self.options
        settings = Settings()
        settings.setmodule("optout_audit.settings", priority="project")
        settings.set("FEEDS", {str(feed): {"format": "jsonlines", "overwrite": False}}, "cmdline")
        settings.set("DOWNLOAD_TIMEOUT", options.timeout, "cmdline")
        settings.set("CONCURRENT_REQUESTS", options.concurrency, "cmdline")
        settings.set("LOG_LEVEL", options.log_level, "cmdline")
        settings.set("OPTOUT_TOTAL_SITES", total, "cmdline")
        settings.set("OPTOUT_PROGRESS", progress, "cmdline")
        settings.set("OPTOUT_ARCHIVE", options.archive, "cmdline")
        settings.set("OPTOUT_ARCHIVE_DIR", str(self.dir / ARCHIVE_DIR), "cmdline")
        if options.hosts_file:
            settings.set("HOSTS_FILE", str(options.hosts_file), "cmdline")
        if options.dns_servers:
            settings.set("DNS_SERVERS", list(options.dns_servers), "cmdline")
        if options.allow_private_networks:
            settings.set("ALLOW_PRIVATE_NETWORKS", True, "cmdline")
        if options.cache:
            # Absolute: Scrapy would put a relative HTTPCACHE_DIR under the project's .scrapy/ folder.
            settings.set("HTTPCACHE_ENABLED", True, "cmdline")
            settings.set("HTTPCACHE_DIR", str(options.cache.resolve()), "cmdline")
        for name, value in options.extra.items():
            settings.set(name, value, "cmdline")
        return settings

    def crawl(self) -> None:
        """Crawl every site not yet audited, in this process or in ``options.workers`` shard processes."""
        done = self.done_keys()
        if done:
            print(f"{len(done):,} already audited, {max(self.total_lines - len(done), 0):,} to go", file=sys.stderr)
        if self.options.redis:
            from optout_audit.distributed.coordinator import crawl_distributed

            self.signal = crawl_distributed(self, done)
        elif self.options.workers > 1:
            from optout_audit.app.shards import crawl_sharded

            self.signal = crawl_sharded(self, done)
        else:
            from optout_audit.app.process import crawl_here

            self.signal = crawl_here(self, self.audit_path, done)

    # -- finish ------------------------------------------------------------------------------------

    def finish(self, *, stopped_by: str | None = None) -> Path:
        """Build the reports and complete run.json; raise RunInterrupted if sites are missing."""
        if not self.audit_path.exists():
            self.audit_path.touch()  # a run without any record still leaves a readable run
        statuses: Counter[str] = Counter()
        unchanged: Counter[bool | None] = Counter()
        with self.audit_path.open("rb") as handle:
            for raw in handle:
                line = read_line(raw)
                if line is None:
                    statuses["unreadable_line"] += 1
                    continue
                statuses[line.status] += 1
                unchanged.update(line.unchanged)
        records = sum(count for status, count in statuses.items() if status != "unreadable_line")
        reason = stopped_by or (signal.Signals(self.signal).name if self.signal else None)
        # Known from the crawl when it read the whole list; a crawl stopped before that leaves it to a count here.
        entries = self.entries if self.entries is not None else count_entries(self.options.input)
        if reason is None and records < entries:
            reason = "incomplete"  # e.g. the engine stopped early: never passed off as finished
        record = self.record
        record["sites"] = records
        record["counts_by_status"] = dict(sorted(statuses.items()))
        cached = bool(record["settings"].get("cache"))
        # With --cache: documents the server answered 304 for (stored copy used) / fetched anew.
        record["documents_unchanged"] = unchanged[True] if cached else None
        record["documents_refetched"] = unchanged[False] if cached else None
        if reason is None:
            record["duplicate_lines"] = max(self.total_lines - records, 0)
            record.update(state="finished", finished_at=utc_now(), interrupted=None)
        else:
            record.update(
                state="interrupted",
                finished_at=None,
                interrupted={"at": utc_now(), "reason": reason, "audited": records, "sites": entries},
            )
        # Written before the reports: the report stage reads the run's state (summary.csv "complete").
        write_json_object(self.dir / RUN_FILE, record)
        from optout_audit.report import build_reports

        build_reports(self.dir)
        finish_archive(self.dir, finished=reason is None)  # evidence.csv; manifest.sha256 when finished
        if reason is not None:
            code = SIGNAL_EXIT.get(self.signal, 1) if self.signal else 1
            raise RunInterrupted(self.dir, reason, records, record["interrupted"]["sites"], code)
        return self.dir

    def resume_command(self) -> str:
        """The command that continues this run."""
        parts = ["optout-audit", "crawl", self.record["input"], "--out", str(self.dir.resolve()), "--resume"]
        if self.options.workers > 1:
            parts += ["--workers", str(self.options.workers)]
        if self.options.hosts_file:
            parts += ["--hosts-file", str(self.options.hosts_file.resolve())]
        for server in self.options.dns_servers:
            parts += ["--dns-server", server]
        if self.options.allow_private_networks:
            parts.append("--allow-private-networks")
        if self.options.redis:
            from optout_audit.distributed.connection import mask_url

            parts += ["--redis", mask_url(self.options.redis)]
        if self.options.timeout != 20.0:
            parts += ["--timeout", f"{self.options.timeout:g}"]
        return " ".join(parts)


def run_crawl(options: CrawlOptions) -> Path:
    """Open, crawl and finish a run; return its folder (raises RunInterrupted when it stopped early)."""
    run = Run.open(options)
    run.crawl()
    return run.finish()


def run_demo(out: Path, log_level: str = "WARNING") -> Path:
    """Start the bundled local web, audit it and write the reports into ``out``."""
    from optout_audit.webfarm import running_farm
    from optout_audit.webfarm.demo import demo_input_lines, demo_sites

    make_run_folder(out)
    input_path = out / "input.txt"  # where every run keeps its list
    input_path.write_text("\n".join(demo_input_lines()) + "\n", "utf-8")
    with running_farm(demo_sites()) as farm:
        options = CrawlOptions(
            input=input_path, out=out, hosts_file=Path(farm.hosts_file), timeout=5.0, log_level=log_level
        )
        return run_crawl(options)
