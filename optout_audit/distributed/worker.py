"""``optout-audit worker --redis URL``: audit sites of a distributed run until it is complete.

A worker joins the run named by ``--run`` or, by default, the one the last coordinator started
(``optout-audit:current``), waiting for one if there is none yet. It crawls with the run's own
settings (timeout, result-changing settings, hosts file), all read from Redis: no shared file
system. It stops by itself when the coordinator marks the run complete; SIGINT / SIGTERM stop it
early (Scrapy's graceful shutdown), handing its unfinished entries back to the queue.

The coordinator runs one worker of its own as ``python -m optout_audit.distributed.worker``, the
URL in the environment (:data:`URL_ENV`), never on a command line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

from optout_audit.app.errors import UsageError
from optout_audit.distributed.connection import describe_error, first_contact, mask_url, sync_client
from optout_audit.distributed.keys import CURRENT, RunKeys

__all__ = ["URL_ENV", "find_run", "run_worker"]

URL_ENV = "OPTOUT_REDIS_URL"
#: How often a worker looks for a run to join while there is none.
JOIN_POLL_SECONDS = 2.0
_PIPELINE = "optout_audit.distributed.source.RedisResultsPipeline"


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else (value or "")


def find_run(client, url: str, run_id: str | None, wait: float | None) -> str | None:
    """The id of the run to work on: ``run_id`` or the current one, once it is running; None if none came."""
    import redis

    deadline = None if wait is None else time.monotonic() + wait
    while True:
        try:
            candidate = run_id or _text(client.get(CURRENT))
            state = _text(client.hget(RunKeys(candidate).meta, "state")) if candidate else ""
        except redis.RedisError as exc:
            raise UsageError(describe_error(exc, url)) from None
        if state == "running":
            return candidate
        if run_id and state == "complete":
            return None
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(JOIN_POLL_SECONDS)


def run_worker(
    url: str,
    *,
    run_id: str | None = None,
    concurrency: int = 64,
    wait: float | None = None,
    log_level: str = "WARNING",
    quiet: bool = False,
) -> int:
    """Work on a run until it is complete; the exit code (0, or 130 / 143 when stopped by a signal)."""
    from optout_audit.app.process import AuditCrawlerProcess
    from optout_audit.app.run import SIGNAL_EXIT, CrawlOptions, Run
    from optout_audit.distributed.source import QueueSource
    from optout_audit.spiders.optout import OptoutSpider

    first_contact(url)
    client = sync_client(url)
    joined = find_run(client, url, run_id, wait)
    if joined is None:
        print(f"optout-audit worker: no run in progress at {mask_url(url)}", file=sys.stderr)
        return 0
    meta = {_text(k): _text(v) for k, v in client.hgetall(RunKeys(joined).meta).items()}
    client.close()
    settings_of_run = json.loads(meta["settings"])
    lease = float(meta["lease"])
    consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="optout-worker-") as work:
        if meta.get("run_record"):  # what the archive's warcinfo records say of the run
            (Path(work) / "run.json").write_text(meta["run_record"], "utf-8")
        hosts_file = None
        if meta.get("hosts_file"):
            hosts_file = Path(work) / "hosts.txt"
            hosts_file.write_text(meta["hosts_file"], "utf-8")
        options = CrawlOptions(
            input=Path(work) / "queue",
            out=Path(work),
            hosts_file=hosts_file,
            timeout=float(settings_of_run["timeout"]),
            concurrency=concurrency,
            log_level=log_level,
            extra=settings_of_run.get("extra") or {},
            dns_servers=tuple(settings_of_run.get("dns_servers") or ()),
            allow_private_networks=bool(settings_of_run.get("allow_private_networks")),
            archive=bool(settings_of_run.get("archive")),
        )
        settings = Run(Path(work), {}, options).settings(Path(work) / "unused.jsonl", 0, progress=False)
        settings.set("FEEDS", {}, "cmdline")  # records go to Redis only
        settings.set("ITEM_PIPELINES", {**settings.getdict("ITEM_PIPELINES"), _PIPELINE: 200}, "cmdline")
        source = QueueSource(
            url,
            joined,
            consumer,
            lease,
            archive=options.archive,
            max_deliveries=int(meta.get("max_deliveries") or 0),
        )
        if not quiet:
            print(f"optout-audit worker {consumer}: auditing run {joined} from {mask_url(url)}", file=sys.stderr)
        process = AuditCrawlerProcess(settings)
        process.crawl(OptoutSpider, source=source)
        process.start()
        received = process.received_signal
    if not quiet:
        print(f"optout-audit worker {consumer}: {source.stored:,} records stored", file=sys.stderr)
    return SIGNAL_EXIT.get(received, 1) if received else 0


def worker_command(args: argparse.Namespace) -> int:
    """``optout-audit worker`` (app/cli.py)."""
    url = args.redis or os.environ.get(URL_ENV)
    if not url:
        raise UsageError(f"worker needs --redis URL (or {URL_ENV} in the environment)")
    return run_worker(url, run_id=args.run, concurrency=args.concurrency, wait=args.wait, log_level=args.log_level)


def _child() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    return run_worker(
        os.environ[URL_ENV], run_id=args.run, concurrency=args.concurrency, wait=0, log_level=args.log_level, quiet=True
    )


if __name__ == "__main__":
    code = _child()
    gc.freeze()
    sys.exit(code)
