"""``optout-audit``: crawl a URL list, rebuild reports, run the demo, look at runs over time.

    optout-audit crawl INPUT [--out DIR] [--hosts-file FILE] [--timeout S] [--concurrency N] [--resume] [--cache DIR]
                             [--workers N] [--log-level LEVEL] [--dns-server ADDR[:PORT]]... [--allow-private-networks]
                             [--redis URL [--lease S]]
    optout-audit worker [--redis URL] [--run RUN_ID] [--concurrency N] [--wait S]   a machine of a --redis run
    optout-audit report RUN_DIR
    optout-audit demo [--out DIR]
    optout-audit runs [DIR]                          list the runs under DIR (default reports/)
    optout-audit diff OLD_RUN NEW_RUN [--out FILE]   changes.csv and a summary
    optout-audit history RUNS_DIR [--out FILE]       trends.csv: headline shares per run

Exit codes: 0 done; 2 a mistake the user can fix (a bad option, a missing file, an unreadable list,
a run folder in use), said in one line on stderr, never a traceback; 1 a run that failed; 130 / 143
a run stopped by SIGINT / SIGTERM (run.json says ``interrupted``; stderr says how to continue it).
Output is quiet by default: a start line, the progress, the summary.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from optout_audit import __version__
from optout_audit.app.errors import UsageError
from optout_audit.app.terminal import printable

EXIT_USAGE = 2
EXIT_FAILED = 1
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (no usage block): ``optout-audit: error: ...``, exit 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"optout-audit: error: {message} (see optout-audit --help)\n")


def _default_out() -> Path:
    return Path("reports") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _positive(kind: type) -> callable:
    name = "number" if kind is float else "whole number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {name} > 0, not {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a {name} > 0, not {text!r}")
        return value

    return parse


def _input_file(text: str) -> Path:
    if "://" in text and not Path(text).exists():  # Path() would fold "https://x" into "https:/x"
        raise argparse.ArgumentTypeError(
            f"must be a file listing URLs, not a URL: {text!r} (write it into a file, one URL a line)"
        )
    return Path(text)


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level


def _dns_server(text: str) -> str:
    from optout_audit.downloader.dns import parse_server

    try:
        return parse_server(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="optout-audit", description="Audit websites' machine-readable reservations against AI training."
    )
    parser.add_argument("--version", action="version", version=f"optout-audit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    crawl = commands.add_parser("crawl", help="audit every site of a URL list and write the reports")
    crawl.add_argument("input", type=_input_file, help="text list, CSV with url/domain column, or Tranco rank,domain")
    crawl.add_argument("--out", type=Path, help="run folder (default: reports/<UTC timestamp>/)")
    crawl.add_argument("--hosts-file", type=Path, help="hosts(5) file resolving names instead of DNS")
    crawl.add_argument("--timeout", type=_positive(float), default=20.0, help="seconds per request (default 20)")
    crawl.add_argument("--concurrency", type=_positive(int), default=64, help="requests in flight (default 64)")
    crawl.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    crawl.add_argument(
        "--workers",
        type=_positive(int),
        default=1,
        help="crawler processes sharing the list (default 1; 2 uses both cores of a 2-core machine)",
    )
    crawl.add_argument(
        "--log-level",
        type=_log_level,
        default="WARNING",
        help="Scrapy log level (default WARNING; INFO adds Scrapy's settings and stats)",
    )
    crawl.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="HTTP cache folder shared between runs: re-fetch with If-None-Match / If-Modified-Since",
    )
    crawl.add_argument(
        "--dns-server",
        action="append",
        type=_dns_server,
        default=[],
        metavar="ADDR[:PORT]",
        help="send name look-ups to this DNS server (repeatable; default: the system's resolv.conf)",
    )
    crawl.add_argument(
        "--allow-private-networks",
        action="store_true",
        help="also connect to loopback, private and link-local addresses (a local mirror)",
    )
    crawl.add_argument("--no-archive", action="store_true", help="keep no WARC archive of the documents as served")

    crawl.add_argument(
        "--redis",
        metavar="URL",
        help="coordinate a run over many machines through this Redis (see `optout-audit worker`)",
    )
    crawl.add_argument(
        "--lease",
        type=_positive(float),
        metavar="S",
        help="with --redis: seconds before a silent worker's sites go to another (default 4 x timeout)",
    )

    worker = commands.add_parser("worker", help="audit sites of a distributed run (crawl --redis) until it is complete")
    worker.add_argument("--redis", metavar="URL", help="the run's Redis (default: $OPTOUT_REDIS_URL)")
    worker.add_argument("--run", metavar="RUN_ID", help="the run to join (default: the last one started)")
    worker.add_argument("--concurrency", type=_positive(int), default=64, help="requests in flight (default 64)")
    worker.add_argument(
        "--wait",
        type=_positive(float),
        metavar="S",
        help="give up after S seconds without a run to join (default: wait)",
    )
    worker.add_argument("--log-level", type=_log_level, default="WARNING", help="Scrapy log level (default WARNING)")

    report = commands.add_parser("report", help="rebuild the CSV reports of a run from its audit.jsonl")
    report.add_argument("run_dir", type=Path)
    report.add_argument(
        "--from-archive",
        action="store_true",
        help="rebuild audit.jsonl and the reports from the run's archived bytes (no network), into --out",
    )
    report.add_argument(
        "--out", type=Path, metavar="DIR", help="with --from-archive: where (default RUN_DIR-from-archive/)"
    )

    demo = commands.add_parser("demo", help="start the bundled local web, audit it, write a report")
    demo.add_argument("--out", type=Path, help="run folder (default: reports/demo-<UTC timestamp>/)")
    demo.add_argument("--log-level", type=_log_level, default="WARNING", help="Scrapy log level (default WARNING)")

    runs = commands.add_parser("runs", help="list the run folders under DIR (default reports/)")
    runs.add_argument("dir", type=Path, nargs="?", default=Path("reports"), metavar="DIR")

    diff = commands.add_parser("diff", help="what changed between two runs: changes.csv and a summary")
    diff.add_argument("old", type=Path, metavar="OLD_RUN")
    diff.add_argument("new", type=Path, metavar="NEW_RUN")
    diff.add_argument(
        "--out", type=Path, metavar="FILE", help="where to write changes.csv (default NEW_RUN/changes.csv)"
    )

    history = commands.add_parser("history", help="one row per run with its headline shares: trends.csv")
    history.add_argument("runs_dir", type=Path, metavar="RUNS_DIR")
    history.add_argument(
        "--out", type=Path, metavar="FILE", help="where to write trends.csv (default RUNS_DIR/trends.csv)"
    )

    verify = commands.add_parser(
        "verify", help="re-hash a run's evidence (archive, evidence.csv, audit, reports); exit 1 on any mismatch"
    )
    verify.add_argument("run_dir", type=Path, metavar="RUN_DIR")

    permissions = commands.add_parser("filter", help="per-URL answers from a run's evidence: permissions.csv")
    permissions.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    permissions.add_argument("urls", type=Path, metavar="URLS_FILE", help="one URL a line")
    permissions.add_argument("--agent", help="the user-agent token asked about, e.g. GPTBot")
    permissions.add_argument(
        "--purpose",
        choices=("training", "search", "user-triggered", "other"),
        help="a purpose class instead of (or for) an agent, e.g. training",
    )
    permissions.add_argument("--out", type=Path, default=Path("permissions.csv"), help="default ./permissions.csv")

    check = commands.add_parser("check", help="a site owner's check of one site now, with advice (exit 0 / 1 / 2)")
    check.add_argument("site", metavar="SITE", help="a domain or URL")
    check.add_argument("--hosts-file", type=Path, help="hosts(5) file resolving names instead of DNS")
    check.add_argument(
        "--goal",
        choices=["block-training", "block-ai", "allow-search-only"],
        default="block-training",
        help="what the site's signals should say (default block-training)",
    )
    check.add_argument("--json", action="store_true", help="print JSON instead of text")
    check.add_argument("--timeout", type=_positive(float), default=10.0, help="seconds per request (default 10)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from optout_audit.app.run import RunFailed, RunInterrupted

    try:
        if args.command == "crawl":
            return _crawl(args)
        if args.command == "report" and args.from_archive:
            from optout_audit.archive.cli import from_archive_command

            return from_archive_command(args)
        if args.command == "worker":
            from optout_audit.distributed.worker import worker_command

            return worker_command(args)
        if args.command == "report":
            return _report(args.run_dir)
        if args.command == "demo":
            return _demo(args)
        if args.command == "verify":
            from optout_audit.archive.verify import main as verify_main

            return verify_main(args.run_dir)
        if args.command == "filter":
            from optout_audit.archive.cli import filter_command

            return filter_command(args)
        if args.command == "check":
            from optout_audit.app.check import check

            return check(args)
        if args.command in ("runs", "diff", "history"):
            from optout_audit.app import history as history_cli

            return history_cli.COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"optout-audit: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except RunInterrupted as exc:
        print(
            f"optout-audit: {exc}; the reports in {exc.run_dir}/ are partial (summary.csv complete=false)",
            file=sys.stderr,
        )
        if exc.command:
            print(f"optout-audit: continue it with: {exc.command}", file=sys.stderr)
        return exc.exit_code
    except RunFailed as exc:
        print(f"optout-audit: error: {printable(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_USAGE


def _crawl(args: argparse.Namespace) -> int:
    from optout_audit.app.run import CrawlOptions, Run

    options = CrawlOptions(
        input=args.input,
        out=args.out or _default_out(),
        hosts_file=args.hosts_file,
        timeout=args.timeout,
        concurrency=args.concurrency,
        resume=args.resume,
        log_level=args.log_level,
        cache=args.cache,
        workers=args.workers,
        dns_servers=tuple(args.dns_server),
        allow_private_networks=args.allow_private_networks,
        archive=not args.no_archive,
        redis=_redis_url(args),
        lease=args.lease,
    )
    run = Run.open(options)
    print(f"auditing {run.total_lines:,} input lines into {run.dir}/", file=sys.stderr)
    _finish(run)
    _print_summary(run.dir)
    return 0


def _redis_url(args: argparse.Namespace) -> str | None:
    """``--redis`` checked (optout_audit.distributed); it cannot be combined with --workers."""
    if not args.redis:
        if args.lease:
            raise UsageError("--lease needs --redis")
        return None
    from optout_audit.distributed.connection import check_url, first_contact

    if args.workers > 1:
        raise UsageError("--redis and --workers cannot be combined: start more `optout-audit worker` processes")
    first_contact(check_url(args.redis))  # before the run folder is made
    return args.redis


def _finish(run) -> None:
    """Crawl and finish ``run``; a crash of the crawl still leaves run.json saying ``interrupted``."""
    from optout_audit.app.run import RunFailed, RunInterrupted

    try:
        run.crawl()
    except (UsageError, RunInterrupted):
        raise
    except Exception as exc:
        try:
            run.finish(stopped_by=f"failed: {type(exc).__name__}: {exc}"[:300])
        except RunInterrupted as interrupted:
            interrupted.exit_code = EXIT_FAILED
            interrupted.command = run.resume_command()
            raise
        raise RunFailed(str(exc)) from exc
    try:
        run.finish()
    except RunInterrupted as exc:
        exc.command = run.resume_command()
        raise


def _report(run_dir: Path) -> int:
    from optout_audit.auditfile import AUDIT_FILE
    from optout_audit.report import build_reports

    if not run_dir.is_dir():
        raise UsageError(f"run folder not found: {run_dir}")
    if not (run_dir / AUDIT_FILE).is_file():
        raise UsageError(f"{run_dir} has no {AUDIT_FILE}")
    build_reports(run_dir)
    _print_summary(run_dir)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from optout_audit.app.run import make_run_folder, run_demo

    out = args.out or Path("reports") / ("demo-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    make_run_folder(out)
    print(f"auditing the bundled local web into {out}/", file=sys.stderr)
    run_dir = run_demo(out, args.log_level)
    _print_summary(run_dir)
    return 0


def _print_summary(run_dir: Path) -> None:
    summary = run_dir / "summary.csv"
    print(f"reports written to {run_dir}/")
    if summary.is_file():
        for line in summary.read_text("utf-8").splitlines()[1:]:
            metric, _, value = line.partition(",")
            print(f"  {metric:<24} {printable(value)}")


def entry() -> int:
    """The ``optout-audit`` command: :func:`main`, then an exit that skips the collector.

    At exit Python collects the whole heap again (0.3 s after a crawl of 3,000 sites, scaling with
    what is loaded). Everything the command wrote is closed by then; frozen objects are simply
    released with the process.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `optout-audit report RUN | head`: the reader has gone, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:  # Ctrl-C outside a crawl (e.g. while reports are built)
        print("optout-audit: interrupted", file=sys.stderr)
        code = 130
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())
