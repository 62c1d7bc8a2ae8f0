"""Runs of thousands of sites with mixed faults: exactly one row per input site, even across a kill.

* 10,000+ sites (synthetic web with DNS failures, refused hosts, 404/503/slow/dropped robots.txt,
  every page signal) plus invalid and duplicate lines: every input appears exactly once.
* A real process killed with SIGKILL mid-crawl, then ``--resume``: every site audited exactly
  once, no gaps, no duplicates in audit.jsonl or the CSVs.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
from collections import Counter

import pytest
from crawling import BIN, optout_audit
from waiting import audit_lines, wait_for_records

from optout_audit.webfarm import SyntheticWeb, running_farm

MIX = {
    "robots_timeout": 0.003,
    "robots_drop": 0.01,
    "nxdomain": 0.01,
    "refused": 0.01,
    "robots_server_error": 0.03,
    "robots_missing": 0.1,
}
INVALID = ["not a url", "ftp://files.example/", "http://", "exa mple.example"]


def _input(web: SyntheticWeb, count: int) -> list[str]:
    lines = [f"http://{host}/" for host in list(web.hosts())[:count]]
    # duplicates in other spellings, and bad lines, spread through the list
    extras = [lines[0].upper(), lines[5].rstrip("/") + "/deep/page?x=1", *INVALID]
    for position, extra in zip(range(97, len(lines), max(1, len(lines) // 8)), extras, strict=False):
        lines.insert(position, extra)
    return lines


def _domains_rows(run_dir):
    with (run_dir / "domains.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _audit_keys(run_dir):
    keys = []
    for line in (run_dir / "audit.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        keys.append(record["domain"] or f"line:{record['line']}")
    return keys


@pytest.mark.slow
def test_ten_thousand_sites_one_row_each(tmp_path):
    web = SyntheticWeb(10_000, seed=11, mix=MIX, slow_delay=30)
    lines = _input(web, 10_000)
    path = tmp_path / "sites.txt"
    path.write_text("\n".join(lines) + "\n")
    with running_farm(web) as farm:
        completed = optout_audit(
            "crawl",
            str(path),
            "--out",
            str(tmp_path / "run"),
            "--hosts-file",
            str(farm.hosts_file),
            "--timeout",
            "3",
            "--concurrency",
            "256",
            "--log-level",
            "WARNING",
            timeout=1800,
        )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = _domains_rows(tmp_path / "run")
    domains = Counter(row["domain"] for row in rows if row["status"] != "invalid_input")
    assert len(domains) == 10_000 and set(domains.values()) == {1}
    assert domains.keys() == set(web.hosts())
    invalid = sorted(row["input"] for row in rows if row["status"] == "invalid_input")
    assert invalid == sorted(INVALID)
    statuses = Counter(row["status"] for row in rows)
    assert statuses["unreachable"] > 100 and statuses["timeout"] > 10 and statuses["error"] > 50
    keys = _audit_keys(tmp_path / "run")
    assert len(keys) == len(set(keys)) == 10_000 + len(INVALID)


def test_resume_after_sigkill(tmp_path):
    web = SyntheticWeb(1500, seed=5, mix=MIX, slow_delay=30)
    lines = _input(web, 1500)
    path = tmp_path / "sites.txt"
    path.write_text("\n".join(lines) + "\n")
    run_dir = tmp_path / "run"
    with running_farm(web, latency=(50, 150)) as farm:
        args = [
            str(BIN / "optout-audit"),
            "crawl",
            str(path),
            "--out",
            str(run_dir),
            "--hosts-file",
            str(farm.hosts_file),
            "--timeout",
            "3",
            "--concurrency",
            "32",
            "--log-level",
            "WARNING",
        ]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_records(run_dir, 400, process, limit=300)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        written_before = audit_lines(run_dir)
        assert 400 <= written_before < len(lines) - 100, written_before
        assert not (run_dir / "domains.csv").exists()  # killed before the report stage

        completed = optout_audit(*args[1:], "--resume", timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    keys = _audit_keys(run_dir)
    assert len(keys) == len(set(keys)) == 1500 + len(INVALID), Counter(keys).most_common(3)
    rows = _domains_rows(run_dir)
    assert len(rows) == 1500 + len(INVALID)
    assert {row["domain"] for row in rows if row["domain"]} == set(web.hosts())
    record = json.loads((run_dir / "run.json").read_text())
    assert len(record["resumed_at"]) == 1 and record["sites"] == 1500 + len(INVALID)
    print(
        f"resume: {len(lines)} input lines, killed after {written_before} rows, "
        f"{len(rows)} rows after resume, {len(keys) - len(set(keys))} duplicates"
    )
