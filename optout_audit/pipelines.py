"""Item pipelines: validate each SiteAudit and keep the one-row-per-site invariant."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from optout_audit.auditfile import site_key
from optout_audit.items import SITE_STATUSES, SiteAudit


class OneRowPerSitePipeline:
    """Drops a second item for the same site (a resumed run may re-fetch a site in flight)."""

    def __init__(self) -> None:
        self.written: set[str] = set()
        self.crawler = None

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        self.written = set(getattr(self.crawler.spider, "skip_hosts", ()) or ())

    def process_item(self, item: SiteAudit, spider=None) -> SiteAudit:
        if item.status not in SITE_STATUSES:
            raise ValueError(f"invalid status {item.status!r} for {item.domain}")
        key = site_key(item.status, item.domain, item.line, item.origin)
        if key in self.written:
            raise DropItem(f"duplicate audit of {key.lstrip(chr(0))}")
        self.written.add(key)
        return item
