"""A bug in a detector must not lose a site: its row says status=error, fault=internal_error."""

from __future__ import annotations

import asyncio

from scrapy.http import Request, TextResponse

from optout_audit import record as record_module
from optout_audit.app.inputs import parse_line
from optout_audit.items import SiteAudit
from optout_audit.record import SiteRecord
from optout_audit.spiders.optout import OptoutSpider, SiteState


def test_callback_bug_becomes_an_error_row(tmp_path, monkeypatch):
    (tmp_path / "list.txt").write_text("bug.test\n")
    spider = OptoutSpider(input=str(tmp_path / "list.txt"))
    target = parse_line("bug.test", 1)
    audit = SiteAudit(input="bug.test", line=1, domain="bug.test", url=target.url)
    state = SiteState(target, SiteRecord(audit, spider.agents, spider.training), target.url)
    spider.gate.opened()

    def broken(body):
        raise RuntimeError("detector bug")

    monkeypatch.setattr(record_module.RobotsTxt, "parse", staticmethod(broken))
    response = TextResponse(
        "https://bug.test/robots.txt",
        body=b"User-agent: *\n",
        encoding="utf-8",
        request=Request("https://bug.test/robots.txt"),
    )
    row = asyncio.run(spider.on_robots(response, state=state))
    assert (row.status, row.fault, row.error) == (
        "error",
        "internal_error",
        "internal error: RuntimeError: detector bug",
    )
    assert row.verdict["reserves_ai_training"] == "unknown"
    assert spider.gate.open == 0 and state.finished
