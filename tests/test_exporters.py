"""audit.jsonl lines: msgspec writes the JSON values Scrapy's jsonlines exporter writes, or Scrapy writes them."""

from __future__ import annotations

import io
import json

import pytest
from scrapy import Request
from scrapy.exporters import JsonLinesItemExporter

from optout_audit.extensions.exporters import AuditJsonLinesExporter
from optout_audit.items import AgentResult, Fetch, PageSignals, SiteAudit

SITES = [
    SiteAudit(
        input="https://bücher.test/",
        line=1,
        domain="xn--bcher-kva.test",
        registered_domain="xn--bcher-kva.test",
        url="https://xn--bcher-kva.test/",
        started_at="2026-11-28T00:00:00Z",
        robots=Fetch(
            status="ok",
            url="https://xn--bcher-kva.test/robots.txt",
            http_status=200,
            bytes=91,
            content_type="text/plain",
            fetched_at="2026-11-28T00:00:01Z",
            unchanged=None,
        ),
        own_access=True,
        crawl_delay=2.5,
        agents=[AgentResult("GPTBot", "full", True, "named", "Disallow: /", 3)],
        other_agents=AgentResult("*", "none", False, "default"),
        robots_evidence={"content_signal": [{"line": 4, "value": "ai-train=no"}], "comments": ["Ünïcödé ✓"]},
        page=PageSignals(
            noai=True,
            noai_sources=["meta:robots"],
            robots_meta=[{"name": "robots", "content": "noai"}],
            tdm_reservation_header="1",
            license_links=['https://x.test/l"q'],
        ),
        verdict={"reserves_ai_training": "yes", "signals": ["noai", "robots.txt"], "tdm_reservation": 1},
    ),
    SiteAudit(input="not a url", line=2, status="invalid_input", error="no host: \x00\u2028\ud7ff"),
]


def _export(exporter_class, item, **options) -> bytes:
    out = io.BytesIO()
    exporter = exporter_class(out, **options)
    exporter.start_exporting()
    exporter.export_item(item)
    exporter.finish_exporting()
    return out.getvalue()


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.input)
def test_same_values_as_scrapy_s_exporter(site):
    ours = _export(AuditJsonLinesExporter, site, encoding="utf-8")
    scrapy_s = _export(JsonLinesItemExporter, site, encoding="utf-8")
    assert ours.endswith(b"\n") and ours.count(b"\n") == 1
    assert json.loads(ours) == json.loads(scrapy_s) == json.loads(json.dumps(site.to_dict()))
    assert list(json.loads(ours)) == list(json.loads(scrapy_s))  # fields in the same order
    assert ours != scrapy_s  # msgspec wrote it (no blanks after the separators)


@pytest.mark.parametrize("encoding", ["UTF-8", "utf8", "utf_8"])
def test_utf8_written_as_is(encoding):
    line = _export(AuditJsonLinesExporter, SITES[0], encoding=encoding)
    assert "Ünïcödé ✓".encode() in line and b"\\u" not in line and b'{"input":' in line


@pytest.mark.parametrize(
    "options",
    [
        {"encoding": "latin-1"},
        {"encoding": None},
        {"fields_to_export": ["domain"]},
        {"encoding": "utf-8", "sort_keys": True},
    ],
)
def test_other_settings_go_scrapy_s_way(options):
    site = SiteAudit(input="https://café.test/", domain="xn--caf-dma.test", agents=[AgentResult("GPTBot", "none")])
    assert _export(AuditJsonLinesExporter, site, **options) == _export(JsonLinesItemExporter, site, **options)


@pytest.mark.parametrize("exporter_class", [AuditJsonLinesExporter, JsonLinesItemExporter])
def test_an_unknown_encoding_fails_as_in_scrapy(exporter_class):
    with pytest.raises(LookupError):
        _export(exporter_class, SITES[0], encoding="no-such-codec")


def test_a_value_msgspec_cannot_write_goes_scrapy_s_way():
    site = SiteAudit(input="odd.test", domain="odd.test", robots_evidence={"request": Request("https://odd.test/")})
    assert _export(AuditJsonLinesExporter, site, encoding="utf-8") == _export(
        JsonLinesItemExporter, site, encoding="utf-8"
    )
