"""Scheduled jobs (scrapyd, ``scrapy crawl``) that write a whole run folder, as ``optout-audit crawl`` does.

``optout-audit crawl`` makes the run folder itself: ``audit.jsonl`` through FEEDS, ``run.json``
and the CSV reports (:mod:`optout_audit.app.run`). A job started by scrapyd runs only the spider. With
the setting ``OPTOUT_RUNS_DIR`` (a folder of runs, e.g. ``/srv/optout-audit/reports``) the
:class:`ScheduledRun` add-on (enabled in ``settings.ADDONS``) does the same for it: a new folder
``OPTOUT_RUNS_DIR/<UTC timestamp>/`` (``-2``, ``-3`` ... when a job of the same second has it), the
feed ``audit.jsonl`` in it, ``run.json`` written when the spider opens and completed when it
closes, after the reports are built, by the run lifecycle of :mod:`optout_audit.app.run`. ``optout-audit runs``, ``diff`` and ``history`` then treat
scheduled jobs and command-line runs alike::

    curl http://127.0.0.1:6800/schedule.json -d project=optout_audit -d spider=optout \\
         -d input=/srv/optout-audit/sites.txt -d setting=OPTOUT_RUNS_DIR=/srv/optout-audit/reports

Without ``OPTOUT_RUNS_DIR`` the add-on does nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals

logger = logging.getLogger(__name__)

__all__ = ["ScheduledRun", "new_run_dir"]


def new_run_dir(runs_dir: Path) -> Path:
    """Create and return ``runs_dir/<UTC timestamp>/`` (with ``-2``, ``-3`` ... if taken)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runs_dir.mkdir(parents=True, exist_ok=True)
    for number in range(1, 1000):
        candidate = runs_dir / (stamp if number == 1 else f"{stamp}-{number}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free run folder for {stamp} in {runs_dir}")


class ScheduledRun:
    """Scrapy add-on: with ``OPTOUT_RUNS_DIR`` set, the job writes a run folder (see the module doc)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.run_dir: Path | None = None
        self.run: Any = None  # optout_audit.app.run.Run once the spider opened
        self.reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScheduledRun:
        return cls(crawler)

    def update_settings(self, settings: Any) -> None:
        runs_dir = settings.get("OPTOUT_RUNS_DIR")
        if not runs_dir:
            return
        from optout_audit.auditfile import AUDIT_FILE

        self.run_dir = new_run_dir(Path(runs_dir).resolve())
        feeds = dict(settings.getdict("FEEDS"))
        feeds[str(self.run_dir / AUDIT_FILE)] = {"format": "jsonlines", "overwrite": False}
        settings.set("FEEDS", feeds, priority="cmdline")
        settings.set("OPTOUT_ARCHIVE_DIR", str(self.run_dir / "archive"), priority="cmdline")  # the evidence
        self.crawler.signals.connect(self.opened, signal=signals.spider_opened)
        self.crawler.signals.connect(self.closing, signal=signals.spider_closed)
        # Reports are built once the feed exporter has closed audit.jsonl, not at spider_closed:
        # this add-on's spider_closed handler runs before the exporter's.
        self.crawler.signals.connect(self.closed, signal=signals.feed_exporter_closed)

    def opened(self, spider: Any) -> None:
        from optout_audit.app.run import CrawlOptions, Run

        settings = self.crawler.settings
        cache = settings.get("HTTPCACHE_DIR") if settings.getbool("HTTPCACHE_ENABLED") else None
        options = CrawlOptions(
            input=Path(spider.input_path),
            out=self.run_dir,
            hosts_file=Path(settings["HOSTS_FILE"]) if settings.get("HOSTS_FILE") else None,
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT"),
            concurrency=settings.getint("CONCURRENT_REQUESTS"),
            cache=Path(cache) if cache else None,
        )
        self.run = Run.open(options, scheduled_job=getattr(spider, "_job", None))  # scrapyd's job id

    def closing(self, spider: Any, reason: str) -> None:
        self.reason = reason

    def closed(self) -> None:
        from optout_audit.app.run import RunInterrupted

        if self.run is None:
            return
        self.run.entries = getattr(self.crawler.spider, "entries", None)  # counted by the spider as it read the list
        try:
            self.run.finish(stopped_by=None if self.reason in (None, "finished") else self.reason)
        except RunInterrupted as exc:  # recorded in run.json; the job's log says so
            logger.warning("%s", exc)
