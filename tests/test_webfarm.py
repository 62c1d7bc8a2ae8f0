"""The web farm on real loopback sockets: every behaviour a crawler test relies on.

One farm (a subprocess, as the crawler tests use it) serves the demo web, the sites below and a
small synthetic web for the whole module; a few tests start farms of their own.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import brotli
import pytest

from optout_audit.webfarm import (
    Bomb,
    Drop,
    Garbage,
    Huge,
    Reset,
    Resource,
    Site,
    SlowDrip,
    SyntheticWeb,
    raw_exchange,
    running_farm,
)
from optout_audit.webfarm.demo import demo_expectations, demo_input_lines, demo_sites
from optout_audit.webfarm.model import StaticWeb, site_from_json, site_to_json
from optout_audit.webfarm.spec import web_from_json
from optout_audit.webfarm.tls import client_context

KiB = 1024
PAGE = "<!DOCTYPE html><html><head><title>Plain</title></head><body>plain</body></html>"

SITES = [
    Site(
        "plain.farm.test",
        {
            "/": Resource.html(PAGE).with_validators(),
            "/robots.txt": Resource.text("User-agent: *\nDisallow: /private/\n"),
            "/headers": Resource.html(
                PAGE, headers=[("X-Robots-Tag", "noai"), ("X-Robots-Tag", "noimageai"), ("tdm-reservation", "1")]
            ),
            "/search?q=1": Resource.text("exact target with query"),
            "/r1": Resource.redirect("/r2", 302),
            "/r2": Resource.redirect("https://other.farm.test/landed", 301),
            "/loop-a": Resource.redirect("/loop-b", 302),
            "/loop-b": Resource.redirect("/loop-a", 302),
            "/delay": Resource.text("late", delay=0.6),
            "/drop": Resource.text(b"x" * 10_000, fault=Drop(after=1000)),
            "/garbage": Resource.text("never sent", fault=Garbage()),
            "/reset": Resource.text("never sent", fault=Reset()),
            "/drip": Resource.text("abcde", fault=SlowDrip(interval_ms=60)),
            "/gzip-bomb": Resource.text("", fault=Bomb("gzip", size=8 << 20, prefix=b"User-agent: *\n")),
            "/deflate-bomb": Resource.text("", fault="deflate_bomb"),
            "/br-bomb": Resource.text("", fault=Bomb("br", size=8 << 20)),
            "/huge": Resource.text("", fault=Huge(mib=3, prefix=b"User-agent: GPTBot\n")),
            "/huge-chunked": Resource.text("", fault=Huge(mib=1.5, chunked=True)),
        },
    ),
    Site("other.farm.test", {"/landed": Resource.text("landed")}),
    Site("catchall.farm.test", {}, default=Resource.html(PAGE)),
    Site("refused.farm.test", network="refused"),
    Site("tlsfail.farm.test", {"/": Resource.text("plain http works")}, network="tls_fail"),
    Site("tlsabort.farm.test", {"/": Resource.text("x")}, network="tls_abort", http=False),
    Site("httponly.farm.test", {"/": Resource.text("http only")}, https=False),
    Site("httpsonly.farm.test", {"/": Resource.text("https only")}, http=False),
    Site("nxdomain.farm.test", network="nxdomain"),
]
SYNTHETIC = SyntheticWeb(300, seed=7, mix={"refused": 0.05, "nxdomain": 0.05})


@pytest.fixture(scope="module")
def farm():
    with running_farm([*demo_sites(), *SITES, SYNTHETIC]) as running:
        yield running


def get(farm, host, path="/", scheme="https", **kwargs):
    return farm.fetch(host, path, scheme=scheme, **kwargs)


# --- plain serving ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_fetch_by_host_name_over_http_and_https(farm, scheme):
    response = get(farm, "plain.farm.test", "/robots.txt", scheme)
    assert response.status == 200
    assert response.body == b"User-agent: *\nDisallow: /private/\n"
    assert response.header("Content-Type") == "text/plain; charset=utf-8"
    assert response.header("Content-Length") == str(len(response.body))
    assert farm.url("plain.farm.test", "/robots.txt", scheme) == f"{scheme}://plain.farm.test/robots.txt"


def test_certificate_verifies_for_named_hosts_and_sni_is_logged(farm):
    assert get(farm, "plain.farm.test", cafile=farm.cert_file).status == 200
    assert get(farm, "xn--bcher-kva.test", "/robots.txt", cafile=farm.cert_file).status == 200
    record = [r for r in farm.request_records() if r["host"] == "xn--bcher-kva.test"][-1]
    assert record["sni"] == "xn--bcher-kva.test"


def test_per_path_headers_are_sent_as_given_repeats_included(farm):
    response = get(farm, "plain.farm.test", "/headers")
    assert [v for k, v in response.headers if k == "X-Robots-Tag"] == ["noai", "noimageai"]
    assert response.header("tdm-reservation") == "1"


def test_unknown_path_is_404_unknown_host_421_and_default_catches_all(farm):
    missing = get(farm, "plain.farm.test", "/no/such/page")
    assert missing.status == 404 and b"<h1>404 Not Found</h1>" in missing.body
    assert get(farm, "nobody.farm.test").status == 421
    assert get(farm, "catchall.farm.test", "/.well-known/tdmrep.json").body.decode() == PAGE
    assert get(farm, "plain.farm.test", "/search?q=1").body == b"exact target with query"
    assert get(farm, "plain.farm.test", "/?utm=x").status == 200  # the query falls back to the path


def test_head_and_other_methods(farm):
    head = get(farm, "plain.farm.test", "/robots.txt", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.header("Content-Length") == "34"
    assert get(farm, "plain.farm.test", "/", method="POST").status == 405


def test_malformed_requests_get_400_and_http_1_0_closes(farm):
    assert raw_exchange(farm.address, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request\r\n")
    answer = raw_exchange(farm.address, b"GET /robots.txt HTTP/1.0\r\nHost: plain.farm.test\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close\r\n" in answer


def test_keep_alive_and_connection_close(farm):
    conn = http.client.HTTPConnection(farm.address, 80, timeout=5)
    for path in ("/robots.txt", "/", "/robots.txt"):
        conn.request("GET", path, headers={"Host": "plain.farm.test"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200 and response.getheader("Connection") is None
    conn.request("GET", "/", headers={"Host": "plain.farm.test", "Connection": "close"})
    response = conn.getresponse()
    response.read()
    assert response.getheader("Connection") == "close"
    assert conn.sock is None  # http.client closed it because the server said so
    conn.close()


# --- conditional requests -----------------------------------------------------------------------


def test_conditional_requests_answer_304(farm):
    first = get(farm, "plain.farm.test")
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and modified
    again = get(farm, "plain.farm.test", headers={"If-None-Match": etag})
    assert (again.status, again.body, again.header("ETag")) == (304, b"", etag)
    assert get(farm, "plain.farm.test", headers={"If-None-Match": f'"other", W/{etag}'}).status == 304
    assert get(farm, "plain.farm.test", headers={"If-Modified-Since": modified}).status == 304
    assert get(farm, "plain.farm.test", headers={"If-None-Match": '"stale"'}).status == 200
    assert get(farm, "plain.farm.test", headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}).status == 200
    # No validators on the resource: never 304.
    assert get(farm, "plain.farm.test", "/robots.txt", headers={"If-None-Match": "*"}).status == 200


# --- faults -------------------------------------------------------------------------------------


def test_redirect_chain_across_hosts_and_loops(farm):
    first = get(farm, "plain.farm.test", "/r1")
    assert (first.status, first.header("Location")) == (302, "/r2")
    second = get(farm, "plain.farm.test", "/r2")
    assert (second.status, second.header("Location")) == (301, "https://other.farm.test/landed")
    assert get(farm, "other.farm.test", "/landed").body == b"landed"
    assert get(farm, "plain.farm.test", "/loop-b").header("Location") == "/loop-a"


def test_delay_holds_the_answer(farm):
    started = time.monotonic()
    assert get(farm, "plain.farm.test", "/delay").body == b"late"
    assert time.monotonic() - started >= 0.6
    with pytest.raises(TimeoutError):
        get(farm, "plain.farm.test", "/delay", timeout=0.2)


def test_drop_sends_part_of_the_body_then_closes(farm):
    with pytest.raises(http.client.IncompleteRead) as caught:
        get(farm, "plain.farm.test", "/drop")
    assert len(caught.value.partial) == 1000 and caught.value.expected == 9000
    raw = raw_exchange(farm.address, b"GET /drop HTTP/1.1\r\nHost: plain.farm.test\r\n\r\n")
    assert b"Content-Length: 10000\r\n" in raw and raw.endswith(b"\r\n\r\n" + b"x" * 1000)


def test_garbage_is_not_http(farm):
    raw = raw_exchange(farm.address, b"GET /garbage HTTP/1.1\r\nHost: plain.farm.test\r\n\r\n")
    assert raw == Garbage().data
    with pytest.raises(http.client.HTTPException):
        get(farm, "plain.farm.test", "/garbage")


def test_reset_closes_without_a_response(farm):
    with pytest.raises(ConnectionResetError):
        raw_exchange(farm.address, b"GET /reset HTTP/1.1\r\nHost: plain.farm.test\r\n\r\n")
    with pytest.raises((ConnectionError, ssl.SSLError, http.client.HTTPException)):
        get(farm, "plain.farm.test", "/reset")


def test_slow_drip_sends_one_byte_at_a_time(farm):
    started = time.monotonic()
    assert get(farm, "plain.farm.test", "/drip").body == b"abcde"
    assert time.monotonic() - started >= 5 * 0.06


@pytest.mark.parametrize(
    ("path", "encoding", "size", "decompress"),
    [
        ("/gzip-bomb", "gzip", 8 << 20, gzip.decompress),
        ("/br-bomb", "br", 8 << 20, brotli.decompress),
    ],
)
def test_compression_bombs_expand(farm, path, encoding, size, decompress):
    response = get(farm, "plain.farm.test", path)
    assert response.header("Content-Encoding") == encoding
    assert len(response.body) < size // 500
    assert len(decompress(response.body)) == size


def test_default_deflate_bomb_is_small_on_the_wire_and_1_gib_expanded(farm):
    response = get(farm, "plain.farm.test", "/deflate-bomb")
    assert response.header("Content-Encoding") == "deflate" and len(response.body) < 1_200_000
    inflater, total = zlib.decompressobj(), 0
    total += len(inflater.decompress(response.body[:300_000], 64 << 20))  # a capped client's view
    assert total == 64 << 20


def test_huge_body_streams_announced_or_chunked(farm):
    huge = get(farm, "plain.farm.test", "/huge")
    assert huge.header("Content-Length") == str(3 << 20) and len(huge.body) == 3 << 20
    assert huge.body.startswith(b"User-agent: GPTBot\n# padding")
    chunked = get(farm, "plain.farm.test", "/huge-chunked")
    assert chunked.header("Transfer-Encoding") == "chunked" and chunked.header("Content-Length") is None
    assert len(chunked.body) == int(1.5 * (1 << 20))


# --- network modes ------------------------------------------------------------------------------


def test_refused_host_has_its_own_address_where_nothing_listens(farm):
    address = farm.address_of("refused.farm.test")
    assert address and address != farm.address and address.startswith("127.")
    for port in (80, 443):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, port), timeout=2).close()


def test_tls_fail_breaks_https_while_http_works(farm):
    with pytest.raises(ssl.SSLError):
        get(farm, "tlsfail.farm.test")
    assert get(farm, "tlsfail.farm.test", scheme="http").body == b"plain http works"
    with pytest.raises(ssl.SSLError):
        get(farm, "tlsabort.farm.test")
    with pytest.raises(ConnectionRefusedError):
        get(farm, "tlsabort.farm.test", scheme="http")
    assert {"tls_fail", "tls_abort"} <= {r["event"] for r in farm.request_records()}


def test_one_scheme_hosts(farm):
    assert get(farm, "httponly.farm.test", scheme="http").body == b"http only"
    with pytest.raises(ConnectionRefusedError):
        get(farm, "httponly.farm.test")
    assert get(farm, "httpsonly.farm.test").body == b"https only"
    with pytest.raises(ConnectionRefusedError):
        get(farm, "httpsonly.farm.test", scheme="http")


def test_hosts_file_lists_resolvable_names_only(farm):
    lines = [line.split() for line in farm.hosts_file.read_text().splitlines() if not line.startswith("#")]
    names = {fields[1]: fields[0] for fields in lines}
    assert all(len(fields) == 2 for fields in lines)
    assert names["plain.farm.test"] == names["gptbot-blocker.example"] == farm.address
    assert "nxdomain.farm.test" not in names and "no-such-host.example" not in names
    assert names["down.example"] not in (farm.address, names["refused.farm.test"])
    dns_failures = [h for h in SYNTHETIC.hosts() if "nxdomain" in SYNTHETIC.traits(h)]
    assert dns_failures and not set(dns_failures) & set(names)


# --- request log --------------------------------------------------------------------------------


def test_request_log_records_what_the_server_received(farm):
    get(farm, "other.farm.test", "/landed", scheme="http", headers={"User-Agent": "optout-audit/test"})
    get(farm, "other.farm.test", "/landed", method="HEAD")
    log = farm.request_log()
    assert log[-2:] == [("other.farm.test", "GET", "/landed", "http"), ("other.farm.test", "HEAD", "/landed", "https")]
    record = farm.request_records()[-2]
    assert record["user_agent"] == "optout-audit/test" and record["status"] == 200
    assert ("wildcard-block.example", "GET", "/", "https") not in log


# --- scale --------------------------------------------------------------------------------------


def test_150_concurrent_tls_connections(farm):
    hosts = [h for h in list(SYNTHETIC.hosts()) if not SYNTHETIC.traits(h) & {"refused", "nxdomain"}][:150]

    async def one(host):
        reader, writer = await asyncio.open_connection(farm.address, 443, ssl=client_context(), server_hostname=host)
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = await reader.read()
        writer.close()
        return data

    async def all_at_once():
        return await asyncio.gather(*(one(h) for h in hosts))

    answers = asyncio.run(all_at_once())
    assert len(answers) == 150 and all(a.startswith(b"HTTP/1.1 200 OK\r\n") for a in answers)
    assert all(f"https://{h}/".encode() in a for h, a in zip(hosts, answers, strict=False))


def test_synthetic_web_is_deterministic_and_lazy():
    web = SyntheticWeb(100_000, seed=7, mix={"refused": 0.05, "nxdomain": 0.05})
    assert web.host(0) == "site000000.example" and web.index("site099999.example") == 99_999
    assert web.site("site100000.example") is None and web.site("news.example") is None
    assert web.traits("site000042.example") == SYNTHETIC.traits("site000042.example")
    first, again = web.site("site012345.example"), SyntheticWeb(100_000, seed=7).site("site012345.example")
    assert first.resources["/"].body == again.resources["/"].body
    assert web.site.cache_info().currsize == 3  # the three lookups above, nothing else built


def test_synthetic_hosts_are_served(farm):
    host = next(
        h
        for h in SYNTHETIC.hosts()
        if not SYNTHETIC.traits(h) & {"refused", "nxdomain", "robots_missing", "robots_server_error"}
    )
    assert get(farm, host, "/robots.txt").body == SYNTHETIC.site(host).resources["/robots.txt"].body
    refused = next(h for h in SYNTHETIC.hosts() if "refused" in SYNTHETIC.traits(h))
    with pytest.raises(ConnectionRefusedError):
        get(farm, refused)


# --- the demo web -------------------------------------------------------------------------------


def test_demo_web_serves_its_signals(farm):
    assert get(farm, "wildcard-block.example", "/robots.txt").body == b"User-agent: *\nDisallow: /\n"
    ai_list = get(farm, "ai-robots-list.example", "/robots.txt").body.decode()
    assert ai_list.startswith("# source: ai-robots-txt/ai.robots.txt") and ai_list.count("User-agent:") == 166
    assert b'content="noai, noimageai"' in get(farm, "noai-meta.example").body
    assert get(farm, "noai-header.example").header("X-Robots-Tag") == "noai"
    assert json.loads(get(farm, "tdmrep-file.example", "/.well-known/tdmrep.json").body)[0]["tdm-reservation"] == 1
    assert b"Content-Signal: search=yes, ai-train=no" in get(farm, "content-signal.example", "/robots.txt").body
    assert get(farm, "server-error.example", "/robots.txt").status == 503
    assert (
        get(farm, "redirects.example", "/robots.txt").header("Location") == "https://www.redirects.example/robots.txt"
    )
    assert get(farm, "www.redirects.example", "/robots.txt").header("Location").startswith("https://static.")
    assert farm.address_of("no-such-host.example") is None
    with pytest.raises(ConnectionRefusedError):
        get(farm, "down.example")
    home = get(farm, "open.example").body
    assert 3 * KiB < len(home) < 20 * KiB and b'<meta name="description"' in home


def test_demo_catalogue_is_complete():
    hosts = {s.host for s in demo_sites()}
    expectations = demo_expectations()
    assert len(expectations) >= 14 and set(expectations) <= hosts
    assert {e["reserves_ai_training"] for e in expectations.values()} == {"yes", "partial", "no", "unknown"}
    lines = demo_input_lines()
    assert {"not a url", "ftp://x", "https://bücher.test/"} <= set(lines)


# --- the JSON form and the farm's life cycle ----------------------------------------------------


def test_sites_round_trip_through_json():
    for site in [*SITES, *demo_sites()]:
        assert site_to_json(site_from_json(json.loads(json.dumps(site_to_json(site))))) == site_to_json(site)
    web = web_from_json({"sites": [{"host": "Bücher.TEST", "resources": {"/": {"text": "hi", "fault": "reset"}}}]})
    assert isinstance(web, StaticWeb) and isinstance(web.site("xn--bcher-kva.test").resources["/"].fault, Reset)


def test_latency_farms_in_parallel_and_clean_stop():
    site = Site("latency.farm.test", {"/": Resource.text("ok")})
    with running_farm([site], latency=(150, 200)) as slow, running_farm([site], workers=2) as fast:
        assert slow.address != fast.address
        started = time.monotonic()
        assert slow.fetch("latency.farm.test", scheme="http").body == b"ok"
        assert time.monotonic() - started >= 0.15
        for _ in range(10):
            assert fast.fetch("latency.farm.test").body == b"ok"
        assert len(fast.request_log()) == 10  # both workers append to the one log
        pid = slow.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_farm_exits_when_its_parent_dies(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
        from optout_audit.webfarm import Site, running_farm
        farm = running_farm([Site("orphan.farm.test")], workdir=sys.argv[1]).__enter__()
        print(farm.pid, flush=True)
        os._exit(0)  # no clean-up: the farm must notice on its own
    """)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(done.stdout.strip())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.1)
    if _running(pid):
        os.kill(pid, 9)
        pytest.fail("the orphaned farm kept running")


def test_farm_starts_in_a_workdir_a_killed_farm_left(tmp_path):
    stale = {
        "address": "127.0.0.1",
        "http_port": 9,
        "https_port": 9,
        "hosts_file": "x",
        "cert_file": "x",
        "request_log": None,
        "pid": 1,
    }
    (tmp_path / "ready.json").write_text(json.dumps(stale))  # what a SIGKILLed farm leaves behind
    site = Site("reused.farm.test", {"/": Resource.text("fresh")})
    with running_farm([site], workdir=tmp_path, startup_timeout=10) as farm:
        assert farm.http_port != 9
        assert farm.fetch("reused.farm.test", scheme="http").body == b"fresh"


def _running(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited, whoever reaps it
