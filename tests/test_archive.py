"""The evidence archive of a real crawl on the local web, read back with warcio's own reader."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json

import pytest
from crawling import crawl
from warcio.archiveiterator import ArchiveIterator

from optout_audit.archive.warc import WarcArchive, sha256_label
from optout_audit.webfarm import Resource, Site, running_farm

HTML = "<html><head><title>t</title></head><body>x</body></html>"
# Repeated headers interleaved with others: the archive keeps them as served, in order.
REPEATED = [
    ("X-Robots-Tag", "googlebot: nofollow"),
    ("Link", '<https://repeat.test/licence>; rel="license"'),
    ("X-Robots-Tag", "noai"),
    ("Content-Usage", "search=y"),
    ("Link", "</next>; rel=next"),
    ("Content-Usage", "train-ai=n"),
    ("X-Robots-Tag", "r\u00e9sum\u00e9"),  # a Latin-1 octet, as sent
]
GZIPPED_HOME = gzip.compress(HTML.encode(), mtime=0)
BIG_ROBOTS = "User-agent: *\nDisallow: /private\n" + "# filler line of a big robots.txt\n" * 20_000  # 680 KB

SITES = [
    Site(
        "repeat.test",
        {"/robots.txt": Resource.text("User-agent: *\nAllow: /\n"), "/": Resource.html(HTML, headers=REPEATED)},
    ),
    Site(
        "redirects.test",
        {
            "/robots.txt": Resource.redirect("/moved", 301),
            "/moved": Resource.redirect("https://www.redirects.test/robots.txt", 302),
            "/": Resource(200, GZIPPED_HOME, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]),
        },
    ),
    Site("www.redirects.test", {"/robots.txt": Resource.text("User-agent: *\nDisallow: /private\n")}),
    Site(
        "big-robots.test",
        {
            "/robots.txt": Resource.text(BIG_ROBOTS),
            "/.well-known/tdmrep.json": Resource.json([{"location": "/", "tdm-reservation": 1}]),
        },
    ),
    Site("refused.test", network="refused"),
]
HOSTS = ["repeat.test", "redirects.test", "big-robots.test", "refused.test"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with running_farm(SITES) as farm:
        return crawl(farm, [f"https://{host}/" for host in HOSTS], tmp_path_factory.mktemp("archive") / "run")


def _records(run_dir):
    """Every record of every WARC file: (file name, offset, record type, WARC headers, HTTP head, payload)."""
    found = []
    for path in sorted((run_dir / "archive").glob("*.warc.gz")):
        with path.open("rb") as handle:
            records = ArchiveIterator(handle, check_digests="raise")
            for record in records:
                payload = record.raw_stream.read()
                found.append(
                    (
                        path.name,
                        records.get_record_offset(),
                        record.rec_type,
                        record.rec_headers,
                        record.http_headers,
                        payload,
                    )
                )
    return found


def _evidence(run_dir):
    with (run_dir / "evidence.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_record_reads_back_with_its_digests(run):
    records = _records(run.run_dir)
    kinds = [kind for _name, _offset, kind, *_ in records]
    assert kinds[0] == "warcinfo"
    assert kinds.count("response") == kinds.count("request") > 0
    by_id = {headers.get_header("WARC-Record-ID"): (kind, headers) for _n, _o, kind, headers, _h, _p in records}
    for _name, _offset, kind, headers, _http, payload in records:
        assert headers.get_header("WARC-Block-Digest").startswith("sha256:")
        if kind == "response":
            assert headers.get_header("WARC-Payload-Digest") == sha256_label(hashlib.sha256(payload).hexdigest())
        if kind == "request":  # each request names its response
            assert by_id[headers.get_header("WARC-Concurrent-To")][0] == "response"
    info = next(payload for _n, _o, kind, _h, _http, payload in records if kind == "warcinfo").decode()
    run_record = json.loads((run.run_dir / "run.json").read_text())
    assert f"input-sha256: {run_record['input_sha256']}" in info
    assert "agent-list: ai.robots.txt@" in info and "software: optout-audit/" in info


def test_evidence_rows_point_at_their_records(run):
    records = {
        (name, offset): (headers, payload)
        for name, offset, kind, headers, _h, payload in _records(run.run_dir)
        if kind == "response"
    }
    rows = _evidence(run.run_dir)
    assert len(rows) == len(records)
    for row in rows:
        headers, payload = records[(row["warc_file"], int(row["offset"]))]
        assert headers.get_header("WARC-Record-ID") == row["record_id"]
        assert headers.get_header("WARC-Target-URI") == row["url"]
        if not row["truncated"]:
            assert hashlib.sha256(payload).hexdigest() == row["sha256"]
    # audit.jsonl names each document's last response record, with the same hash
    by_id = {row["record_id"]: row for row in rows}
    for host in ("repeat.test", "redirects.test", "big-robots.test"):
        for document in ("robots", "home", "tdmrep", "aitxt"):
            fetch = run.records[host][document]
            if fetch["http_status"] is None:
                assert fetch["warc_record_id"] == ""
                continue
            row = by_id[fetch["warc_record_id"]]
            assert (row["domain"], row["document"], row["sha256"]) == (host, document, fetch["sha256"])
    assert run.records["refused.test"]["robots"]["warc_record_id"] == ""


def test_repeated_headers_are_archived_as_served_and_reach_the_detectors(run):
    home = next(
        http
        for _n, _o, kind, headers, http, _p in _records(run.run_dir)
        if kind == "response" and headers.get_header("WARC-Target-URI") == "https://repeat.test/"
    )
    names = {name.lower() for name, _ in REPEATED}
    assert [(n, v) for n, v in home.headers if n.lower() in names] == REPEATED
    page = run.records["repeat.test"]["page"]
    assert page["x_robots_tag"] == ["googlebot: nofollow", "noai", "r\u00e9sum\u00e9"]
    assert page["content_usage_header"] == "search=y, train-ai=n"
    assert page["license_links"] == ["https://repeat.test/licence"]
    assert run.domains["repeat.test"]["noai"] == "true"


def test_a_redirect_chain_is_archived_hop_by_hop(run):
    hops = [row for row in _evidence(run.run_dir) if row["domain"] == "redirects.test" and row["document"] == "robots"]
    assert [(row["hop"], row["status"], row["url"]) for row in hops] == [
        ("0", "301", "https://redirects.test/robots.txt"),
        ("1", "302", "https://redirects.test/moved"),
        ("2", "200", "https://www.redirects.test/robots.txt"),
    ]
    heads = {
        headers.get_header("WARC-Target-URI"): http
        for _n, _o, kind, headers, http, _p in _records(run.run_dir)
        if kind == "response"
    }
    assert heads["https://redirects.test/robots.txt"].get_header("Location") == "/moved"
    first = heads["https://redirects.test/robots.txt"]
    assert (first.protocol, first.statusline) == ("HTTP/1.1", "301 Moved Permanently")
    assert heads["https://redirects.test/moved"].get_header("Location") == "https://www.redirects.test/robots.txt"
    assert run.records["redirects.test"]["robots"]["warc_record_id"] == hops[-1]["record_id"]


def test_bodies_are_kept_as_served_and_a_cut_robots_txt_is_marked(run):
    records = {
        headers.get_header("WARC-Target-URI"): (headers, payload)
        for _n, _o, kind, headers, _h, payload in _records(run.run_dir)
        if kind == "response"
    }
    _headers, payload = records["https://redirects.test/"]
    assert payload == GZIPPED_HOME  # still compressed, as served
    headers, payload = records["https://big-robots.test/robots.txt"]
    assert headers.get_header("WARC-Truncated") == "length"
    # what was read before the download was stopped (on loopback the first read may hold it all)
    assert BIG_ROBOTS.encode().startswith(payload) and len(payload) > 500 * 1024
    assert run.records["big-robots.test"]["robots"]["status"] == "too_large"
    _headers, payload = records["https://big-robots.test/.well-known/tdmrep.json"]
    assert json.loads(payload) == [{"location": "/", "tdm-reservation": 1}]


def test_the_manifest_lists_every_file_of_the_run(run):
    lines = (run.run_dir / "manifest.sha256").read_text().splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
    files = {p.relative_to(run.run_dir).as_posix() for p in run.run_dir.rglob("*") if p.is_file()}
    assert set(listed) == files - {"manifest.sha256"}
    assert listed["audit.jsonl"] == hashlib.sha256((run.run_dir / "audit.jsonl").read_bytes()).hexdigest()


def test_no_archive_keeps_no_warc(tmp_path):
    with running_farm(SITES[:1]) as farm:
        result = crawl(farm, ["https://repeat.test/"], tmp_path / "run", "--no-archive")
    assert not (result.run_dir / "archive").exists() and not (result.run_dir / "evidence.csv").exists()
    assert result.records["repeat.test"]["home"]["warc_record_id"] == ""
    assert result.records["repeat.test"]["page"]["x_robots_tag"][1] == "noai"
    assert (result.run_dir / "manifest.sha256").is_file()


def test_a_home_page_beyond_the_limit_is_cut_and_marked(tmp_path):
    archive = WarcArchive(tmp_path, {"software": "test"})
    body = b"<html><head>" + b"x" * 5000
    record = archive.write_exchange(
        uri="https://cut.test/",
        status_line="HTTP/1.1 200 OK",
        headers=((b"Content-Type", b"text/html"),),
        body=body,
        request_line="GET / HTTP/1.1",
        request_headers=(("Host", "cut.test"),),
        peer="127.0.0.1",
        keep=1000,
        document="home",
    )
    archive.close()
    assert record.sha256 == hashlib.sha256(body).hexdigest()  # of the body as received
    with (tmp_path / archive.name).open("rb") as handle:
        response = [r for r in ArchiveIterator(handle, check_digests="raise") if r.rec_type == "response"]
    # warcio's reader checked the digests over the stored bytes; the mark says they are a head
    assert response[0].rec_headers.get_header("WARC-Truncated") == "length"
    row = (tmp_path / (archive.name + ".evidence.csv")).read_text().splitlines()[1].split(",")
    assert row[7:9] == ["5012", "length"]


def test_two_workers_archive_into_one_run_that_verifies(tmp_path):
    from crawling import optout_audit

    with running_farm(SITES) as farm:
        result = crawl(farm, [f"https://{host}/" for host in HOSTS], tmp_path / "run", "--workers", "2")
    files = sorted((result.run_dir / "archive").glob("*.warc.gz"))
    assert len(files) == 2  # one per crawler process, side by side
    rows = _evidence(result.run_dir)
    assert {row["warc_file"] for row in rows} == {path.name for path in files}
    assert result.records["repeat.test"]["home"]["warc_record_id"] in {row["record_id"] for row in rows}
    completed = optout_audit("verify", str(result.run_dir))
    assert completed.returncode == 0, completed.stdout


def test_a_redirected_home_page_names_its_last_hop_and_every_hop_is_the_home_pages(tmp_path):
    """The spider follows the home page's redirects itself (each target checked against robots.txt):
    the chain is still archived as the home page's, and its record names the page it ended on."""
    from optout_audit.archive.replay import rebuild_run
    from optout_audit.archive.verify import verify_run

    sites = [
        Site(
            "moves.test",
            {
                "/robots.txt": Resource.text("User-agent: *\nAllow: /\n"),
                "/": Resource.redirect("/start", 301),
                "/start": Resource.redirect("https://moves.test/home", 302),
                "/home": Resource.html("<html><head><meta name=robots content=noai></head></html>"),
            },
        )
    ]
    with running_farm(sites) as farm:
        done = crawl(farm, ["https://moves.test/"], tmp_path / "run")
    home = done.records["moves.test"]["home"]
    assert (home["url"], home["final_url"], home["redirects"]) == ("https://moves.test/", "https://moves.test/home", 2)
    hops = [row for row in _evidence(done.run_dir) if row["document"] == "home"]
    assert [(row["hop"], row["status"], row["url"]) for row in hops] == [
        ("0", "301", "https://moves.test/"),
        ("1", "302", "https://moves.test/start"),
        ("2", "200", "https://moves.test/home"),
    ]
    assert (home["warc_record_id"], home["sha256"]) == (hops[-1]["record_id"], hops[-1]["sha256"])
    assert verify_run(done.run_dir) == []
    same = rebuild_run(done.run_dir, tmp_path / "elsewhere" / "replayed")
    assert all(same.values()), same
