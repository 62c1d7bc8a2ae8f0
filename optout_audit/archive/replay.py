"""``optout-audit report RUN_DIR --from-archive``: audit.jsonl and every report rebuilt from the stored bytes.

No network: each site's archived responses are handed to the same record rules the spider uses
(:class:`optout_audit.record.SiteRecord`) with the current detectors, through the same Scrapy
response classes and decompression the crawl used, so charset and header handling are the crawl's.
What the archive cannot hold is taken from the run's audit.jsonl as it was recorded: the input
line, the site's times, and the fetches that failed (a timeout, a refused connection: no bytes).

On an unchanged optout-audit the rebuilt files are byte for byte the run's own (a proof that the
reports follow from the evidence); a newer one re-reads the same evidence with its detectors.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import fields
from pathlib import Path

from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from optout_audit.agents import ai_agents, training_agents
from optout_audit.archive.reader import ArchiveReader
from optout_audit.downloader.outcomes import fetch_from_response, header_pairs, response_charset
from optout_audit.items import Fetch, SiteAudit
from optout_audit.record import SiteRecord

__all__ = ["default_out", "rebuild_audit", "rebuild_run"]

_FETCH_FIELDS = {f.name for f in fields(Fetch)}
_SITE_KEYS = ("input", "line", "domain", "origin", "registered_domain", "url", "started_at")


def default_out(run_dir: Path) -> Path:
    """Beside the run, never inside it (its manifest seals the run folder)."""
    return run_dir.parent / (run_dir.name + "-from-archive")


def _stored_fetch(data: dict | None) -> Fetch:
    return Fetch(**{key: value for key, value in (data or {}).items() if key in _FETCH_FIELDS})


class _Replayer:
    def __init__(self, run_dir: Path) -> None:
        from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware

        from optout_audit.middlewares import ROBOTS_DECOMPRESSED_MAX
        from optout_audit.settings import DOWNLOAD_MAXSIZE

        self.reader = ArchiveReader(run_dir)
        with warnings.catch_warnings():  # built without a crawler: its size limits are set below
            warnings.simplefilter("ignore")
            self.decompression = HttpCompressionMiddleware()
        self.maxsize = {"robots": ROBOTS_DECOMPRESSED_MAX}
        self.default_maxsize = DOWNLOAD_MAXSIZE
        self.agents = ai_agents()
        self.training = frozenset(agent.name for agent in training_agents())

    def response(self, document: str, stored: Fetch) -> tuple[Response, bool] | None:
        """The document's Scrapy response as the spider got it, and whether its download was cut."""
        found = self.reader.response(stored.warc_record_id, as_served=True) if stored.warc_record_id else None
        if found is None:
            return None
        raw = found.body
        headers = Headers([(name.encode("latin-1"), value.encode("latin-1")) for name, value in found.headers])
        url = stored.final_url or found.uri
        request = Request(url, meta={"download_maxsize": self.maxsize.get(document, self.default_maxsize)})
        cls = responsetypes.from_args(headers=headers, url=url, body=raw)
        response = cls(url=url, status=found.status, headers=headers, body=raw, request=request)
        response = self.decompression.process_response(request, response)
        return response, found.truncated == "length"

    def fetch(self, response: Response, stored: Fetch) -> Fetch:
        fetch = fetch_from_response(stored.url, response)
        # what the crawl knew besides the response: its redirects, its time, the cache, the archive
        fetch.redirects, fetch.fetched_at, fetch.unchanged = stored.redirects, stored.fetched_at, stored.unchanged
        fetch.warc_record_id, fetch.sha256 = stored.warc_record_id, stored.sha256
        return fetch

    def site(self, data: dict, timeout: float | None) -> SiteAudit | dict:
        if data.get("status") == "invalid_input" or data.get("fault") == "internal_error":
            return data  # nothing was fetched (or our bug stopped it): the record stands as written
        audit = SiteAudit(**{key: data.get(key) for key in _SITE_KEYS if key in data})
        record = SiteRecord(audit, self.agents, self.training, timeout)
        stored = _stored_fetch(data.get("robots"))
        replayed = self.response("robots", stored)
        if replayed is None:
            record.read_robots(stored)
        else:
            response, cut = replayed
            record.read_robots(self.fetch(response, stored), response.body, cut)
        for name in record.documents_to_fetch():
            stored = _stored_fetch(data.get(name))
            replayed = self.response(name, stored)
            if replayed is None:
                record.read_document(name, stored)
                continue
            response, _cut = replayed
            record.read_document(
                name, self.fetch(response, stored), header_pairs(response), response.body, response_charset(response)
            )
        # The licence files and TDM policy the signals point to, in the order the spider fetched them.
        licences = iter(data.get("rsl") or [])
        for kind, _url in record.followups():
            stored = _stored_fetch(next(licences, None) if kind == "rsl" else data.get(kind))
            replayed = self.response(kind, stored)
            if replayed is None:
                record.read_followup(kind, stored)
                continue
            response, _cut = replayed
            record.read_followup(kind, self.fetch(response, stored), response.body)
        return record.finish(data.get("finished_at") or "")


def rebuild_audit(run_dir: Path, out: Path) -> int:
    """Write ``out`` (an audit.jsonl) from the run's archive; return the number of records."""
    import msgspec

    try:
        record = json.loads((run_dir / "run.json").read_text("utf-8"))
        timeout = float(record["settings"]["timeout"])
    except (OSError, ValueError, KeyError, TypeError):
        timeout = None
    replayer = _Replayer(run_dir)
    encoder = msgspec.json.Encoder()
    count = 0
    with (run_dir / "audit.jsonl").open("rb") as source, out.open("wb") as target:
        for raw in source:
            try:
                data = json.loads(raw)
            except ValueError:
                continue  # an unreadable line of the run is not evidence of anything
            site = replayer.site(data, timeout)
            target.write(encoder.encode(site) + b"\n")
            count += 1
    replayer.reader.close()
    return count


def rebuild_run(run_dir: Path, out: Path) -> dict[str, bool]:
    """audit.jsonl and every report into ``out`` from the archive; {file: identical to the run's own}."""
    from optout_audit.archive.verify import generated_at_of
    from optout_audit.report import build_reports

    out.mkdir(parents=True, exist_ok=True)
    if (run_dir / "run.json").is_file():
        shutil.copyfile(run_dir / "run.json", out / "run.json")  # the report stage reads the run's state
    rebuild_audit(run_dir, out / "audit.jsonl")
    built = build_reports(out, generated_at=generated_at_of(run_dir))
    same = {}
    for name in ["audit.jsonl", *built]:
        original = run_dir / name
        same[name] = original.is_file() and original.read_bytes() == (out / name).read_bytes()
    return same
