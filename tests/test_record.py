"""The record rules (optout_audit/record.py): a site's fetches in, its SiteAudit out, without a crawl."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from optout_audit.agents import ai_agents, training_agents
from optout_audit.items import Fetch, SiteAudit
from optout_audit.record import SiteRecord, first_delay, invalid_record, site_status

ROOT = "https://shop.test/"


def _record() -> SiteRecord:
    audit = SiteAudit(input="shop.test", line=1, domain="shop.test", url=ROOT)
    return SiteRecord(audit, ai_agents(), frozenset(agent.name for agent in training_agents()))


def _ok(path: str, **extra) -> Fetch:
    return Fetch(status="ok", url=ROOT + path, final_url=ROOT + path, http_status=200, **extra)


def test_a_site_replayed_from_its_documents():
    record = _record()
    record.read_robots(_ok("robots.txt"), b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nCrawl-delay: 2\n")
    assert record.documents_to_fetch() == ["home", "tdmrep", "aitxt", "llmstxt", "trusttxt"]
    home = b'<html><head><meta name="robots" content="noimageai"></head><body></body></html>'
    record.read_document("home", _ok(""), [("Content-Type", "text/html"), ("tdm-reservation", "1")], home, "utf-8")
    record.read_document("tdmrep", Fetch(status="missing", http_status=404))
    record.read_document("aitxt", Fetch(status="missing", http_status=404))
    audit = record.finish("2026-12-01T00:00:00Z")
    assert (audit.status, audit.own_access, audit.crawl_delay) == ("ok", True, 2.0)
    assert [(a.agent, a.verdict, a.rule, a.line) for a in audit.agents] == [("GPTBot", "full", "Disallow: /", 2)]
    assert audit.other_agents.verdict == "none"
    assert audit.page.noimageai is True and audit.page.tdm_reservation_header == "1"
    assert audit.verdict["reserves_ai_training"] == "yes"
    assert audit.verdict["tdm_reservation"] == 1 and audit.finished_at == "2026-12-01T00:00:00Z"


def test_robots_that_shuts_us_out_skips_the_home_page_only():
    record = _record()
    record.read_robots(_ok("robots.txt"), b"User-agent: optout-audit\nDisallow: /\n")
    assert record.documents_to_fetch() == ["tdmrep", "aitxt", "llmstxt", "trusttxt"]
    assert record.audit.home.status == "skipped" and "does not let optout-audit" in record.audit.home.error


@pytest.mark.parametrize("fault", ["dns_error", "connection_refused", "timeout"])
def test_unreachable_robots_skips_every_other_document(fault):
    record = _record()
    record.read_robots(Fetch(status="unreachable", fault=fault, error="x"))
    assert record.documents_to_fetch() == []
    audit = record.finish("t")
    assert audit.own_access is False and audit.other_agents.verdict == "unknown"
    assert {audit.home.status, audit.tdmrep.status, audit.aitxt.status} == {"skipped"}
    assert audit.verdict["reserves_ai_training"] == "unknown"


def test_server_error_robots_still_asks_for_the_protocol_files():
    record = _record()
    record.read_robots(Fetch(status="server_error", http_status=503))
    assert record.documents_to_fetch() == ["tdmrep", "aitxt", "llmstxt", "trusttxt"]
    assert record.finish("t").status == "ok"


def test_an_error_page_says_nothing_about_the_site():
    record = _record()
    record.read_robots(Fetch(status="missing", http_status=404))
    record.read_document("home", Fetch(status="server_error", http_status=500), [("X-Robots-Tag", "noai")], b"")
    assert record.finish("t").page.noai is None


def test_invalid_tdmrep_and_aitxt_are_marked_invalid():
    record = _record()
    record.read_robots(Fetch(status="missing", http_status=404))
    record.read_document("tdmrep", _ok(".well-known/tdmrep.json"), body=b'{"not": "an array"}')
    record.read_document("aitxt", _ok("ai.txt"), body=b"\x00\x01binary")
    audit = record.finish("t")
    assert audit.tdmrep.status == "invalid" and audit.tdmrep.error
    assert audit.aitxt.status == "invalid"


def test_a_bug_in_a_detector_is_a_row():
    record = _record()
    audit = record.fail(RuntimeError("boom"), "t")
    assert (audit.status, audit.fault, audit.error) == ("error", "internal_error", "internal error: RuntimeError: boom")
    assert audit.verdict["reserves_ai_training"] == "unknown"


@pytest.mark.parametrize(
    ("robots", "expected"),
    [
        (Fetch(status="missing", http_status=404), ("ok", "", "")),
        (Fetch(status="missing", fault="too_many_redirects"), ("ok", "", "")),
        (
            Fetch(status="unreachable", fault="dns_error", error="no such host"),
            ("unreachable", "dns_error", "no such host"),
        ),
        (Fetch(status="timeout", fault="timeout", error="t"), ("timeout", "timeout", "t")),
        (Fetch(status="error", fault="connection_dropped", error="d"), ("error", "connection_dropped", "d")),
    ],
)
def test_site_status_follows_the_first_contact(robots, expected):
    assert site_status(robots) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["2"], 2.0), (["nan", "3"], 3.0), (["-5"], None), (["inf"], None), (["x", "0.5"], 0.5), ([], None)],
)
def test_first_delay(values, expected):
    got = first_delay(values)
    assert got == expected and (got is None or math.isfinite(got))


def test_invalid_record():
    audit = invalid_record("ftp://x", 7, "not an http(s) URL", "t")
    assert (audit.status, audit.line, audit.error, audit.domain) == ("invalid_input", 7, "not an http(s) URL", "")
    assert audit.verdict["reserves_ai_training"] == "unknown"


def test_the_record_rules_load_no_crawler():
    code = "import sys, optout_audit.record; print(sorted(m for m in ('scrapy', 'twisted', 'aiohttp', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_followups_only_where_a_signal_points():
    record = _record()
    record.read_robots(_ok("robots.txt"), b"License: /license.xml\nUser-agent: *\nAllow: /\n")
    record.read_document("home", _ok(""), [("Link", '<https://cdn.test/l.rsl>; rel="license"; type="application/rsl+xml"'),
                                           ("tdm-reservation", "1"), ("tdm-policy", "/policy.json")], b"<p>x", "utf-8")  # fmt: skip
    assert record.followups() == [("rsl", ROOT + "license.xml"), ("rsl", "https://cdn.test/l.rsl"),
                                  ("tdm_policy", ROOT + "policy.json")]  # fmt: skip
    plain = _record()
    plain.read_robots(_ok("robots.txt"), b"User-agent: *\nAllow: /\n")
    plain.read_document("home", _ok(""), [("tdm-policy", "/policy.json")], b"<p>x", "utf-8")
    assert plain.followups() == []  # a policy without a reservation is not fetched


def test_unread_licence_file_keeps_no_from_being_said():
    record = _record()
    record.read_robots(_ok("robots.txt"), b"License: /license.xml\nUser-agent: *\nAllow: /\n")
    for name in ("home", "tdmrep", "aitxt", "llmstxt", "trusttxt"):
        record.read_document(name, Fetch(status="missing", http_status=404) if name != "home" else _ok(""),
                             body=b"<p>x")  # fmt: skip
    record.read_followup("rsl", Fetch(status="timeout", fault="timeout"))
    verdict = record.finish("t").verdict
    assert (verdict["reserves_ai_training"], verdict["unread_sources"]) == ("unknown", ["rsl"])
