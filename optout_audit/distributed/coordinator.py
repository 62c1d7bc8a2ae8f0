"""``optout-audit crawl INPUT --redis URL``: the coordinator of a run crawled by many machines.

Called by :meth:`optout_audit.app.run.Run.crawl` in place of the one-machine crawl; the run is
opened and finished by :class:`~optout_audit.app.run.Run` as any other. In between it:

1. publishes the run in Redis (its settings and hosts file, the lease) and makes it the current
   run, the one ``optout-audit worker`` joins;
2. seeds the queue, once: the input's sites grouped by registered domain, one stream entry per
   domain, in transactions that also record how many groups are seeded, so a coordinator killed
   while seeding, or resumed, adds each group exactly once. Invalid input lines need no crawl:
   their records are written here;
3. starts a worker of its own (a child process: the coordinator crawls too);
4. collects the records from the ``results`` stream into ``RUN_DIR/audit.jsonl``: a site once,
   the first record wins (:func:`optout_audit.auditfile.site_key`); each batch is written and
   synced before it is acknowledged, so a coordinator killed at any moment loses nothing (the
   unacknowledged records are read again on ``--resume``, the duplicates dropped); one progress
   bar counts the records of all workers;
5. when every input entry has its record, marks the run ``complete`` in Redis (the workers stop),
   and deletes the queue and the results: what is left is the run folder.

SIGINT / SIGTERM stop the coordinator's own worker (others go on) and leave the run resumable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from optout_audit.app.errors import UsageError
from optout_audit.app.inputs import read_targets
from optout_audit.distributed.connection import describe_error, first_contact, mask_url, sync_client
from optout_audit.distributed.evidence import ArchiveInbox
from optout_audit.distributed.keys import (
    CURRENT,
    RESULTS_GROUP,
    SITES_GROUP,
    RunKeys,
    encode_group,
    group_targets,
    iter_batches,
)
from optout_audit.distributed.source import encode_record
from optout_audit.distributed.worker import URL_ENV

if TYPE_CHECKING:
    from optout_audit.app.run import Run

__all__ = ["DEFAULT_LEASE_FACTOR", "MAX_DELIVERIES", "crawl_distributed", "lease_of"]

#: The lease of a queue entry, in request timeouts: a worker that has not renewed it for this long
#: is taken to be gone (it renews every third of it while it runs).
DEFAULT_LEASE_FACTOR = 4
MIN_LEASE = 10.0
SEED_BATCH = 500
COLLECT_COUNT = 1000
COLLECT_BLOCK_MS = 500
#: How long a finished run's state stays in Redis, for workers that look late.
COMPLETE_TTL = 24 * 3600
#: How long the coordinator's worker may take to stop once the run is complete.
WORKER_STOP_SECONDS = 60.0
#: Workers that may take a queue entry and stop before finishing it (killed, frozen past the lease,
#: stopped) before its sites get an ``abandoned`` record: a site that crashes its worker every time
#: is not handed on forever.
MAX_DELIVERIES = 5


def lease_of(timeout: float, lease: float | None) -> float:
    return lease if lease else max(MIN_LEASE, DEFAULT_LEASE_FACTOR * timeout)


def crawl_distributed(run: Run, done: set[str]) -> int | None:
    """Seed, crawl and collect ``run`` through Redis; return the signal that stopped it, if one did."""
    import redis

    url = run.options.redis
    first_contact(url)
    client = sync_client(url)
    keys = RunKeys(run.record["run_id"])
    lease = lease_of(run.options.timeout, run.options.lease)
    run.record["distributed"] = {
        **run.record.get("distributed", {}),
        "redis": mask_url(url),
        "lease": lease,
        "grouped_by": "registered_domain",
        "max_deliveries": MAX_DELIVERIES,
    }
    try:
        groups, invalid = group_targets(read_targets(run.options.input))
        entries = sum(len(targets) for _, targets in groups) + len(invalid)
        run.entries = entries  # the run's finish need not parse the list again to know it
        _publish(client, keys, run, lease)
        _seed(client, keys, groups, skip=done)
        collector = _Collector(client, keys, run, done)
        collector.write_invalid(invalid)
        try:
            return _crawl_and_collect(client, keys, run, collector, entries)
        finally:
            counts = run.record["distributed"]  # kept across resumes: added up
            for name, count in collector.counts().items():
                counts[name] = counts.get(name, 0) + count
    except redis.RedisError as exc:
        from optout_audit.app.run import RunFailed

        raise RunFailed(f"{describe_error(exc, url)}; what was collected is kept: continue with --resume") from None
    finally:
        client.close()


def _publish(client, keys: RunKeys, run: Run, lease: float) -> None:
    import json

    hosts = run.options.hosts_file.read_text("utf-8") if run.options.hosts_file else ""
    state = client.hget(keys.meta, "state")
    if state == b"complete":
        raise UsageError(f"run {keys.run_id} is already complete in Redis; its records were collected")
    options = run.options
    settings = {
        "timeout": options.timeout,
        "extra": dict(sorted(options.extra.items())),
        "dns_servers": list(options.dns_servers),
        "allow_private_networks": options.allow_private_networks,
        "archive": options.archive,
    }
    for stream, group in ((keys.sites, SITES_GROUP), (keys.results, RESULTS_GROUP)):
        try:  # before the run is said running: a worker joining at once finds its group
            client.xgroup_create(stream, group, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise
    pipe = client.pipeline(transaction=True)
    pipe.hset(
        keys.meta,
        mapping={
            "state": "running",
            "settings": json.dumps(settings),
            "hosts_file": hosts,
            "lease": str(lease),
            "max_deliveries": str(MAX_DELIVERIES),
            "run_record": json.dumps(run.record, ensure_ascii=False),
        },
    )
    pipe.set(CURRENT, keys.run_id)
    pipe.execute()


def _seed(client, keys: RunKeys, groups: list, skip: set[str] = frozenset()) -> None:
    """Add the groups not seeded yet; each batch and the count of seeded groups in one transaction.

    Sites in ``skip`` (already in audit.jsonl: a resume whose Redis lost the run) are left out.

    Group K is entry ``K+1-1``: a transaction replayed by a retry after it was applied (its reply
    lost) adds nothing, since Redis refuses an id at or below the stream's last one.
    """
    from redis.exceptions import ResponseError

    seeded = int(client.hget(keys.meta, "seeded") or 0)
    for first, batch in iter_batches(groups, SEED_BATCH, start=seeded):
        pipe = client.pipeline(transaction=True)
        for offset, (domain, targets) in enumerate(batch):
            todo = [target for target in targets if target.origin not in skip]
            if todo:
                pipe.xadd(keys.sites, encode_group(domain, todo), id=f"{first + offset + 1}-1")
        pipe.hset(keys.meta, "seeded", first + len(batch))
        for reply in pipe.execute(raise_on_error=False):
            if isinstance(reply, ResponseError) and "equal or smaller" not in str(reply):
                raise reply
    client.hset(keys.meta, "seeding_done", "1")


class _Collector:
    """Records from the results stream into audit.jsonl, each site once."""

    def __init__(self, client, keys: RunKeys, run: Run, done: set[str]) -> None:
        from optout_audit.archive.finish import ARCHIVE_DIR

        self.client, self.keys, self.run = client, keys, run
        self.seen = set(done)
        self.duplicates = 0  # second records of a site (a lease ran out and two workers finished it)
        self.pending_first = True  # after a restart: the records read but not acknowledged before
        self.handle = run.audit_path.open("ab")
        self.archive = ArchiveInbox(run.dir / ARCHIVE_DIR)

    def counts(self) -> dict[str, int]:
        """What run.json's ``distributed`` says of what was collected (added up over resumes)."""
        return {
            "duplicate_records": self.duplicates,
            "archive_pieces_repeated": self.archive.repeated,
            "archive_gaps": self.archive.gaps,
            "archive_pieces_refused": self.archive.refused,
        }

    def write_invalid(self, invalid) -> None:
        from optout_audit.downloader.outcomes import utc_now
        from optout_audit.record import invalid_record

        lines = []
        for entry in invalid:
            key = f"\0line:{entry.line}"
            if key not in self.seen:
                self.seen.add(key)
                lines.append(encode_record(invalid_record(entry.input, entry.line, entry.reason, utc_now())))
        self._write(lines)

    def _write(self, lines: list[bytes]) -> None:
        if lines:
            self.handle.write(b"".join(lines))
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def collect(self) -> int:
        """Read, write and acknowledge one batch; return how many records it held."""
        from optout_audit.auditfile import read_line

        start = "0" if self.pending_first else ">"
        reply = self.client.xreadgroup(
            RESULTS_GROUP,
            "coordinator",
            {self.keys.results: start},
            count=COLLECT_COUNT,
            block=None if self.pending_first else COLLECT_BLOCK_MS,
        )
        messages = reply[0][1] if reply else []
        if self.pending_first and not messages:
            self.pending_first = False
        lines, ids = [], []
        for message_id, fields in messages:
            ids.append(message_id)
            fields = fields or {}
            if b"file" in fields:  # evidence bytes, sent ahead of the records that name them
                offset = fields.get(b"offset") or b""
                self.archive.write(
                    fields[b"file"].decode("utf-8", "replace"),
                    int(offset) if offset.isdigit() else -1,
                    fields.get(b"data") or b"",
                )
                continue
            raw = fields.get(b"record")
            line = read_line(raw) if raw else None
            if line is None or not line.key or line.key in self.seen:
                self.duplicates += line is not None and bool(line.key)
                continue  # a second record of a site (a lease that ran out): the first one stays
            self.seen.add(line.key)
            lines.append(raw if raw.endswith(b"\n") else raw + b"\n")
        self.archive.sync()  # the evidence first: a record on disk never names bytes that are not
        self._write(lines)
        if ids:
            pipe = self.client.pipeline(transaction=True)
            pipe.xack(self.keys.results, RESULTS_GROUP, *ids)
            pipe.xdel(self.keys.results, *ids)
            pipe.execute()
        return len(messages)

    def close(self) -> None:
        self.handle.close()
        self.archive.close()


def _crawl_and_collect(client, keys: RunKeys, run: Run, collector: _Collector, entries: int) -> int | None:
    from optout_audit.app.run import signals_passed_on
    from optout_audit.extensions.progress import ProgressBar

    children: list[subprocess.Popen] = []
    start = len(collector.seen)
    env = {**os.environ, URL_ENV: run.options.redis}
    argv = [
        sys.executable,
        "-m",
        "optout_audit.distributed.worker",
        "--run",
        keys.run_id,
        "--concurrency",
        str(run.options.concurrency),
        "--log-level",
        run.options.log_level,
    ]
    progress = ProgressBar(max(entries - start, 0), interval=30.0)
    try:
        # The signal handlers are ours only while the worker runs and records are collected.
        with signals_passed_on(children) as received:
            worker = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
            children.append(worker)
            while len(collector.seen) < entries and not received:
                collector.collect()
                progress.update(len(collector.seen) - start)
                if worker.poll() is not None and worker.returncode != 0 and not received:
                    from optout_audit.app.run import RunFailed

                    raise RunFailed(
                        f"the coordinator's worker failed (exit {worker.returncode}); what was collected "
                        f"is kept: continue with --resume"
                    )
            if not received:
                client.hset(keys.meta, "state", "complete")
    finally:
        progress.close()
        collector.close()
        for child in children:
            _stop(child)
    if received:
        return received[0]
    _clean_up(client, keys)
    return None


def _stop(worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _clean_up(client, keys: RunKeys) -> None:
    """The run is in its folder now: drop the queue, keep its ``complete`` state for a day."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(keys.sites, keys.done, keys.results)
    pipe.hdel(keys.meta, "hosts_file", "settings", "run_record")
    pipe.expire(keys.meta, COMPLETE_TTL)
    pipe.execute()
