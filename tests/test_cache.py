"""Cheap re-audits: with ``--cache DIR`` a second run asks with If-None-Match / If-Modified-Since,
the farm answers 304, and the stored documents are read and recorded ``unchanged``. The home page
is always fetched whole (its signals are also headers, see optout_audit/downloader/cachepolicy.py).

Three real crawls of one local web: a first run filling the cache, a second run revalidating it,
and a run without the cache (``unchanged`` is then unknown, and nothing is conditional).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from crawling import crawl, optout_audit

from optout_audit.webfarm import Resource, Site, running_farm

ROBOTS = "User-agent: GPTBot\nDisallow: /\n"
HOME = "<html><head><meta name='robots' content='noai'><title>t</title></head><body>x</body></html>"
LAST_MODIFIED = "Thu, 15 Jan 2026 08:00:00 GMT"

SITES = [
    Site("validators.test", {
        "/robots.txt": Resource.text(ROBOTS).with_validators(),
        "/": Resource.html(HOME).with_validators(),
        "/ai.txt": Resource.text("User-agent: *\nDisallow: /\n").with_validators(),
        # no /.well-known/tdmrep.json: a 404, never stored
    }),
    Site("last-modified-only.test", {
        "/robots.txt": Resource.text(ROBOTS, headers=[("Last-Modified", LAST_MODIFIED)]),
        "/": Resource.html(HOME),
    }),
    Site("no-validators.test", {"/robots.txt": Resource.text(ROBOTS), "/": Resource.html(HOME)}),
]  # fmt: skip
INPUT = [f"https://{site.host}/" for site in SITES]
DOCUMENTS = {"robots": "/robots.txt", "home": "/", "tdmrep": "/.well-known/tdmrep.json", "aitxt": "/ai.txt"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cache")
    cache = base / "httpcache"
    with running_farm(SITES) as farm:
        first = crawl(farm, INPUT, base / "first", "--cache", str(cache))
        first.requests = farm.request_records()
        farm.clear_request_log()
        second = crawl(farm, INPUT, base / "second", "--cache", str(cache))
        second.requests = farm.request_records()
        farm.clear_request_log()
        plain = crawl(farm, INPUT, base / "plain")
        plain.requests = farm.request_records()
    return first, second, plain


def _unchanged(run, host):
    return {name: run.records[host][name]["unchanged"] for name in DOCUMENTS}


def _request(run, host, path):
    (found,) = [r for r in run.requests if r.get("event") == "request" and (r["host"], r["path"]) == (host, path)]
    return found


def test_first_run_fetches_everything_anew(runs):
    first, _, _ = runs
    for host in ("validators.test", "last-modified-only.test", "no-validators.test"):
        assert set(_unchanged(first, host).values()) == {False}, host
    assert not any(r.get("if_none_match") or r.get("if_modified_since") for r in first.requests)


def test_second_run_sends_conditional_requests_and_gets_304(runs):
    first, second, _ = runs
    for path in ("/robots.txt", "/ai.txt"):
        sent = _request(first, "validators.test", path)
        request = _request(second, "validators.test", path)
        assert (sent["status"], sent["if_none_match"]) == (200, None), path
        assert request["if_none_match"].startswith('"') and request["if_modified_since"] == LAST_MODIFIED, path
        assert request["status"] == 304, path
    robots = _request(second, "last-modified-only.test", "/robots.txt")
    assert (robots["if_none_match"], robots["if_modified_since"], robots["status"]) == (None, LAST_MODIFIED, 304)
    # Nothing to revalidate with: a 404, and documents without validators; the home page is never
    # taken from the cache (its signals are also headers, which a 304 need not repeat).
    for host, path in [("validators.test", "/.well-known/tdmrep.json"), ("no-validators.test", "/robots.txt"),
                       ("no-validators.test", "/"), ("last-modified-only.test", "/"), ("validators.test", "/")]:  # fmt: skip
        request = _request(second, host, path)
        assert (request["if_none_match"], request["if_modified_since"]) == (None, None), (host, path)


def test_second_run_records_documents_unchanged(runs):
    _, second, _ = runs
    assert _unchanged(second, "validators.test") == {"robots": True, "home": False, "tdmrep": False, "aitxt": True}
    assert _unchanged(second, "last-modified-only.test") == {"robots": True, "home": False, "tdmrep": False,
                                                             "aitxt": False}  # fmt: skip
    assert set(_unchanged(second, "no-validators.test").values()) == {False}
    robots = second.records["validators.test"]["robots"]
    assert (robots["status"], robots["http_status"], robots["bytes"]) == ("ok", 200, len(ROBOTS))
    record = json.loads((second.run_dir / "run.json").read_text("utf-8"))
    # 3 sites x 6 documents (llms.txt and trust.txt too, 404s fetched anew); no licence or policy pointed to
    assert (record["documents_unchanged"], record["documents_refetched"]) == (3, 15)
    assert record["settings"]["cache"]


def test_stored_documents_give_the_same_audit(runs):
    first, second, _ = runs
    volatile = {"started_at", "finished_at"}
    for host in first.domains:
        old = {k: v for k, v in first.domains[host].items() if k not in volatile}
        new = {k: v for k, v in second.domains[host].items() if k not in volatile}
        assert old == new, host
    assert first.domains["validators.test"]["reserves_ai_training"] == "yes"
    assert first.domains["validators.test"]["noai"] == "true"
    completed = optout_audit("diff", str(first.run_dir), str(second.run_dir))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[1:] == ["  no changes"]


def test_without_cache_nothing_is_conditional_and_unchanged_is_unknown(runs):
    _, _, plain = runs
    assert not any(r.get("if_none_match") or r.get("if_modified_since") for r in plain.requests)
    for host in plain.records:
        assert set(_unchanged(plain, host).values()) == {None}, host
    record = json.loads((plain.run_dir / "run.json").read_text("utf-8"))
    assert record["documents_unchanged"] is None and record["settings"]["cache"] is None


# -- why AuditCachePolicy / AuditCacheMiddleware and not Scrapy's stock classes ---------------------


def _stored(**headers):
    from email.utils import formatdate

    from scrapy.http import Response

    base = {"Date": formatdate(usegmt=True), "ETag": '"abc"', "Last-Modified": LAST_MODIFIED}
    return Response("https://site.test/robots.txt", status=200, headers={**base, **headers}, body=b"x")


def test_stock_policy_would_reuse_a_document_unasked_and_ours_revalidates():
    from scrapy.extensions.httpcache import RFC2616Policy
    from scrapy.http import Request
    from scrapy.settings import Settings

    from optout_audit.downloader.cachepolicy import AuditCachePolicy

    # A tenth of the ~300 days since Last-Modified: "fresh" for a month, so no request at all.
    stock_request, our_request = Request("https://site.test/robots.txt"), Request("https://site.test/robots.txt")
    assert RFC2616Policy(Settings()).is_cached_response_fresh(_stored(), stock_request) is True
    assert b"If-None-Match" not in stock_request.headers
    assert AuditCachePolicy(Settings()).is_cached_response_fresh(_stored(), our_request) is False
    assert our_request.headers[b"If-None-Match"] == b'"abc"'
    assert our_request.headers[b"If-Modified-Since"] == LAST_MODIFIED.encode()


def test_stock_policy_would_hide_a_server_error_and_ours_does_not():
    from scrapy.extensions.httpcache import RFC2616Policy
    from scrapy.http import Request, Response
    from scrapy.settings import Settings

    from optout_audit.downloader.cachepolicy import AuditCachePolicy

    request = Request("https://site.test/robots.txt")
    down = Response(request.url, status=503)
    assert RFC2616Policy(Settings()).is_cached_response_valid(_stored(), down, request) is True
    assert AuditCachePolicy(Settings()).is_cached_response_valid(_stored(), down, request) is False
    assert AuditCachePolicy(Settings()).is_cached_response_valid(_stored(), Response(request.url, status=304), request)


def test_stock_middleware_would_answer_a_failure_with_the_stored_document_and_ours_does_not():
    from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
    from scrapy.http import Request
    from scrapy.settings import Settings
    from twisted.internet.error import ConnectionRefusedError

    from optout_audit.downloader.cachepolicy import AuditCacheMiddleware

    settings = Settings({"HTTPCACHE_ENABLED": True})
    for cls, expected in ((HttpCacheMiddleware, True), (AuditCacheMiddleware, False)):
        middleware = cls(settings, SimpleNamespace(inc_value=lambda *args, **kwargs: None))
        request = Request("https://site.test/robots.txt", meta={"cached_response": _stored()})
        answer = middleware.process_exception(request, ConnectionRefusedError())
        assert (answer is not None) is expected, cls
