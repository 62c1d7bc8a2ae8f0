"""``crawl --workers 2``: the same records as a one-process run, apart from times; resume refuses clearly."""

from __future__ import annotations

import json

from crawling import crawl, optout_audit

from optout_audit.webfarm import SyntheticWeb, running_farm

_TIMES = ("started_at", "finished_at", "fetched_at", "warc_record_id")  # and record ids, new per run
MIX = {
    "nxdomain": 0.05,
    "refused": 0.05,
    "robots_server_error": 0.05,
    "robots_missing": 0.15,
    "noai_meta": 0.1,
    "tdmrep": 0.1,
    "aitxt": 0.1,
}


def _without_times(value):
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k not in _TIMES}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def _lines(web: SyntheticWeb) -> list[str]:
    lines = [f"https://{host}/" for host in web.hosts()]
    lines.insert(3, "not a url")  # invalid lines: each must appear exactly once
    lines.insert(10, lines[0].upper())  # a duplicate host: the first line wins
    lines.insert(20, "ftp://files.example/")
    lines.insert(25, "# a comment")
    return lines


def test_two_workers_write_the_records_of_one(tmp_path):
    web = SyntheticWeb(40, seed=3, mix=MIX)
    with running_farm(web, log_requests=False) as farm:
        one = crawl(farm, _lines(web), tmp_path / "one")
        two = crawl(farm, _lines(web), tmp_path / "two", "--workers", "2")
    assert not (two.run_dir / "shards").exists()
    raw_lines = (two.run_dir / "audit.jsonl").read_text("utf-8").splitlines()
    assert len(raw_lines) == len(two.records) == len(one.records) == 42  # 40 sites + 2 invalid lines
    assert _without_times(two.records) == _without_times(one.records)
    assert two.domains.keys() == one.domains.keys()
    run = json.loads((two.run_dir / "run.json").read_text("utf-8"))
    assert run["sites"] == 42


def test_a_sharded_run_is_resumed_with_workers(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "shards").mkdir(parents=True)
    sites = tmp_path / "sites.txt"
    sites.write_text("https://a.example/\n", "utf-8")
    completed = optout_audit("crawl", str(sites), "--out", str(run_dir), "--resume", "--hosts-file", str(sites))
    assert completed.returncode == 2
    assert "--workers" in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
