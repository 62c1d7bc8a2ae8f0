"""The floor: a bare Scrapy spider with Scrapy's default settings, fetching the planned documents.

    python -m bench.floor PLAN HOSTS_FILE OUT.jsonl [--concurrency 128] [--timeout 20]

No project settings are loaded: the only settings are the concurrency, the timeout, the feed
(one tiny item per host) and the hosts-file resolver that keeps every name on loopback. It
extracts nothing. Per request it sets ``dont_retry`` and ``handle_httpstatus_all`` so that it
fetches exactly the planned documents (a 404 reaches the callback instead of raising).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import scrapy
from scrapy.crawler import CrawlerProcess


class FloorSpider(scrapy.Spider):
    name = "floor"

    def __init__(self, plan: str, **kwargs):
        super().__init__(**kwargs)
        self.plan_path = plan

    async def start(self):
        from bench.web import read_plan

        for root, paths in read_plan(Path(self.plan_path)):
            yield self._request(root, paths, 0)

    def _request(self, root: str, paths: list[str], step: int) -> scrapy.Request:
        return scrapy.Request(
            root + paths[step],
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            cb_kwargs={"root": root, "paths": paths, "step": step},
            meta={"dont_retry": True, "handle_httpstatus_all": True},
        )

    def parse(self, response, root: str, paths: list[str], step: int):
        if step + 1 < len(paths):
            yield self._request(root, paths, step + 1)
        else:
            yield {"host": root}

    def failed(self, failure):
        yield from self.parse(None, **failure.request.cb_kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("plan", type=Path)
    parser.add_argument("hosts_file", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": args.concurrency,
            "DOWNLOAD_TIMEOUT": args.timeout,
            "FEEDS": {str(args.out): {"format": "jsonlines"}},
            "TWISTED_DNS_RESOLVER": "optout_audit.downloader.resolver.HostsFileResolver",
            "HOSTS_FILE": str(args.hosts_file),
        }
    )
    process.crawl(FloorSpider, plan=str(args.plan))
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
