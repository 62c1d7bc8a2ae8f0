"""Reading audit.jsonl lines back (resume, shard merge, run.json counts): msgspec or, failing that, any JSON."""

from __future__ import annotations

import json

import pytest

from optout_audit.auditfile import read_line, site_key
from optout_audit.items import Fetch, SiteAudit


def _line(audit: SiteAudit) -> bytes:
    return json.dumps(audit.to_dict()).encode() + b"\n"


def test_a_crawled_site():
    audit = SiteAudit(input="example.com", line=3, domain="example.com", status="ok",
                      robots=Fetch(status="ok", unchanged=True), home=Fetch(status="ok", unchanged=False))
    assert read_line(_line(audit)) == ("example.com", "ok", (True, False, None, None))


def test_an_invalid_input_is_keyed_by_its_line():
    line = read_line(_line(SiteAudit(input="not a url", line=7, status="invalid_input")))
    assert line.key == "\0line:7" and line.status == "invalid_input"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # NaN and a document of another shape: msgspec refuses them, json.loads reads them
        (b'{"domain": "a.test", "status": "ok", "crawl_delay": NaN, "home": {"unchanged": true}}',
         ("a.test", "ok", (None, True, None, None))),
        (b'{"domain": "a.test", "status": "ok", "robots": "odd", "home": [1]}', ("a.test", "ok", (None,) * 4)),
        (b'{"domain": 5, "status": null}', ("", "?", (None,) * 4)),
        (b'{}', ("", "?", (None,) * 4)),
        (b'{"status": "invalid_input", "line": 12}\r\n', ("\0line:12", "invalid_input", (None,) * 4)),
    ],
)
def test_odd_but_json_objects(raw, expected):
    assert read_line(raw) == expected


@pytest.mark.parametrize("raw", [b"", b"[1, 2]", b'"text"', b'{"domain": "cut.test", "sta', b"\xff\xfe"])
def test_not_a_json_object(raw):
    assert read_line(raw) is None


def test_site_key():
    assert site_key("ok", "example.com", 1) == "example.com"
    assert site_key("invalid_input", "", 4) == "\0line:4"
    assert site_key("ok", None, 1) == ""
