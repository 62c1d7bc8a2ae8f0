"""``optout-audit crawl --workers N``: one run crawled by N processes, so that every core works.

A crawl is bound by its own CPU once concurrency hides the network's latency, and one Python
process uses one core. The parent process (:func:`crawl_sharded`, called by
:meth:`optout_audit.app.run.Run.crawl`) splits the work and merges it:

1. Every child reads the whole input list, deduplicates it exactly as a one-process run does
   (first line per origin wins) and audits only the entries whose position in that list is
   ``K mod N`` (the spider's ``shard="K/N"``). Each record keeps its original input line and line
   number, and an invalid line belongs to exactly one shard: the records are those of a
   one-process run.
2. Child K writes ``RUN_DIR/shards/K/audit.jsonl`` and builds no report; the requests in flight
   (``--concurrency``) are divided between the children. The parent shows one progress bar for
   the whole list, counting the records the children write.
3. When all are done the parent merges the shards into ``RUN_DIR/audit.jsonl`` (written aside and
   renamed, a site never twice) and removes ``shards/``; the run then finishes as any other.
   A child that read the whole list (every child reads all of it) writes its count of the list's
   entries to ``shards/K/entries.txt``: the parent's run knows how many records a complete run has
   without parsing the list itself (:attr:`optout_audit.app.run.Run.entries`).

Children run in sessions of their own, so a Ctrl-C on the terminal reaches the parent only: it
passes SIGINT or SIGTERM on to each child once (Scrapy's graceful shutdown), waits for them, and
merges what they finished. ``--resume`` works as for one process: each child skips the sites
already in the merged audit and in its shard, and the merge drops duplicates.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from optout_audit.auditfile import AUDIT_FILE, audited_keys, read_line

if TYPE_CHECKING:
    from optout_audit.app.run import Run

SHARDS_DIR = "shards"
#: A child's count of the input's entries, once it has read the whole list.
ENTRIES_FILE = "entries.txt"
#: The file that hands the options of the run to the children.
_CHILD_FILE = "child.json"

__all__ = ["SHARDS_DIR", "crawl_sharded", "merge_shards"]


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def crawl_sharded(run: Run, done: set[str]) -> int | None:
    """Crawl ``run`` with its ``options.workers`` processes and merge them; return the signal that stopped it."""
    from optout_audit.app.run import SIGNAL_EXIT, signals_passed_on
    from optout_audit.extensions.progress import ProgressBar

    workers = run.options.workers
    shards = run.dir / SHARDS_DIR
    shards.mkdir(exist_ok=True)
    (shards / _CHILD_FILE).write_text(
        json.dumps(
            {
                "run_dir": str(run.dir),
                "record": run.record,
                "options": run.options.to_json(),
                "skip": sorted(done),
                "concurrency": [max(1, share) for share in _split(run.options.concurrency, workers)],
                "total": max(run.total_lines - len(done), 0) // workers + 1,
            }
        ),
        "utf-8",
    )
    children: list[subprocess.Popen[bytes]] = []
    progress = ProgressBar(max(run.total_lines - len(done), 0), interval=30.0)
    counter = _ShardCounter(shards, workers)
    with signals_passed_on(children) as received:
        try:
            for number in range(workers):
                (shards / str(number)).mkdir(exist_ok=True)
                (shards / str(number) / ENTRIES_FILE).unlink(missing_ok=True)  # an earlier attempt's
                argv = [
                    sys.executable,
                    "-m",
                    "optout_audit.app.shards",
                    str(shards / _CHILD_FILE),
                    f"{number}/{workers}",
                ]
                children.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True))
            while any(child.poll() is None for child in children):
                progress.update(counter.count())
                time.sleep(0.5)
            progress.update(counter.count())
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
                    child.wait()
            progress.close()
    counts = _entries_counted(shards, workers)
    if counts:
        run.entries = max(counts)  # all the same list; the larger, were it changed meanwhile: never too few
    merge_shards(run.dir)
    failed = [number for number, child in enumerate(children) if child.returncode not in (0, *SIGNAL_EXIT.values())]
    if received:
        return received[0]
    if failed:
        from optout_audit.app.run import RunFailed

        raise RunFailed(
            f"crawl worker(s) {failed} failed; what they audited is kept: continue with --resume --workers {workers}"
        )
    return None


def _entries_counted(shards: Path, workers: int) -> list[int]:
    """The entry counts the children that read the whole list wrote."""
    counts = []
    for number in range(workers):
        try:
            counts.append(int((shards / str(number) / ENTRIES_FILE).read_text("ascii")))
        except (OSError, ValueError):
            continue  # stopped before the end of the list: it counted nothing
    return counts


class _ShardCounter:
    """Records written so far by the children: new complete lines of each shard's audit.jsonl."""

    def __init__(self, shards: Path, workers: int) -> None:
        self.paths = [shards / str(number) / AUDIT_FILE for number in range(workers)]
        self.offsets = [path.stat().st_size if path.exists() else 0 for path in self.paths]
        self.lines = 0

    def count(self) -> int:
        for index, path in enumerate(self.paths):
            try:
                with path.open("rb") as handle:
                    handle.seek(self.offsets[index])
                    data = handle.read()
            except FileNotFoundError:
                continue
            complete = data.rfind(b"\n") + 1
            self.lines += data.count(b"\n", 0, complete)
            self.offsets[index] += complete
        return self.lines


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


def _child(child_file: str, shard: str) -> int:
    """One child: crawl shard ``K/N`` of the run into ``shards/K/audit.jsonl``; no reports."""
    from dataclasses import replace

    from optout_audit.app.process import crawl_here
    from optout_audit.app.run import SIGNAL_EXIT, CrawlOptions, Run

    spec = json.loads(Path(child_file).read_text("utf-8"))
    number = int(shard.split("/")[0])
    run_dir = Path(spec["run_dir"])
    options = replace(CrawlOptions.from_json(spec["options"]), resume=True, concurrency=spec["concurrency"][number])
    run = Run(run_dir, spec["record"], options)
    feed = run_dir / SHARDS_DIR / str(number) / AUDIT_FILE
    skip = audited_keys(feed) | set(spec["skip"])
    received = crawl_here(run, feed, skip, shard=shard, total=spec["total"], progress=False)
    if run.entries is not None:  # written aside and renamed: a count cut short would be too few
        aside = feed.parent / (ENTRIES_FILE + ".tmp")
        aside.write_text(str(run.entries), "ascii")
        os.replace(aside, feed.parent / ENTRIES_FILE)
    return SIGNAL_EXIT.get(received, 0) if received else 0


if __name__ == "__main__":
    code = _child(*sys.argv[1:])
    gc.freeze()  # as optout_audit.app.cli.entry: exit without collecting the crawl's heap again
    sys.exit(code)
