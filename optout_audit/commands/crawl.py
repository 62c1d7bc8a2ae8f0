"""``scrapy crawl``, checking the optout spider's input before the crawl starts.

Scrapy builds a spider once its crawl has begun, so a missing ``-a input=FILE`` (or a file that is
not a URL list) would end in a traceback. Here the same checks as ``optout-audit crawl`` run first
and a mistake ends as Scrapy's own usage error: one message, exit code 2.
"""

from __future__ import annotations

from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from optout_audit.app.errors import UsageError as InputUsageError
from optout_audit.app.inputs import check_input


class Command(ScrapyCrawl):
    def process_options(self, args, opts) -> None:
        super().process_options(args, opts)  # parses -a into opts.spargs
        if args[:1] == ["optout"]:  # before Scrapy's process (and its event loop) exists
            _check_spider_input(opts.spargs.get("input"))


def _check_spider_input(value: str | None) -> None:
    if not value:
        raise UsageError("the optout spider needs an input file: -a input=FILE", print_help=False)
    try:
        check_input(Path(value))
    except InputUsageError as exc:
        raise UsageError(str(exc), print_help=False) from None
