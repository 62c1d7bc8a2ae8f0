"""Distributed runs on a real redis-server: a coordinator, workers, and the failures they must survive.

Every test crawls the local web (2,000 synthetic hosts with faults, plus invalid and duplicate
lines) with ``optout-audit crawl --redis`` and one or two ``optout-audit worker`` processes, all
real processes, Redis with a password. Each run must end with every input site exactly once in
audit.jsonl and domains.csv, run.json ``finished``, and the password nowhere in the run folder
or in anything the processes printed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from crawling import BIN
from redis_server import PASSWORD, RedisServer
from waiting import wait_for_records

from optout_audit.archive.verify import verify_run
from optout_audit.webfarm import SyntheticWeb, running_farm

pytestmark = pytest.mark.slow

HOSTS = 2000
MIX = {"nxdomain": 0.01, "refused": 0.01, "robots_server_error": 0.03, "robots_missing": 0.1}
INVALID = ["not a url", "ftp://files.example/", "exa mple.example"]
LATENCY = (20, 60)
COMMON = ["--timeout", "3", "--concurrency", "16"]
LEASE = "5"


def _lines(web: SyntheticWeb) -> list[str]:
    lines = [f"http://{host}/" for host in web.hosts()]
    for position, extra in zip((17, 700, 1500, 1900), [*INVALID, lines[3].upper()], strict=True):
        lines.insert(position, extra)
    return lines


class Crawl:
    """A coordinator and workers of one run; every process they start is stopped at the end."""

    def __init__(self, tmp_path: Path, farm, redis: RedisServer, web: SyntheticWeb) -> None:
        self.tmp, self.farm, self.redis = tmp_path, farm, redis
        self.input = tmp_path / "sites.txt"
        self.input.write_text("\n".join(_lines(web)) + "\n", "utf-8")
        self.run_dir = tmp_path / "run"
        self.audit = self.run_dir / "audit.jsonl"
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _popen(self, argv: list[str], name: str, env: dict | None = None) -> subprocess.Popen:
        log = self.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def coordinator(self, *extra: str) -> subprocess.Popen:
        argv = [
            str(BIN / "optout-audit"),
            "crawl",
            str(self.input),
            "--out",
            str(self.run_dir),
            "--hosts-file",
            str(self.farm.hosts_file),
            "--redis",
            self.redis.url,
            "--lease",
            LEASE,
            *COMMON,
            *extra,
        ]
        return self._popen(argv, "coordinator")

    def worker(self) -> subprocess.Popen:
        # the URL from the environment: no password on a command line
        argv = [str(BIN / "optout-audit"), "worker", "--concurrency", "16", "--wait", "60"]
        return self._popen(argv, "worker", {"OPTOUT_REDIS_URL": self.redis.url})

    def wait_for_records(self, count: int, process: subprocess.Popen, limit: float = 120) -> int:
        return wait_for_records(self.run_dir, count, process, limit, detail=self.output)

    def pending_of(self, process: subprocess.Popen) -> int:
        """Queue entries the worker process holds (XINFO CONSUMERS of the run's site stream)."""
        client = self.redis.client()
        current = client.get("optout-audit:current")
        if current is None or not client.exists(f"optout-audit:run:{current.decode()}:sites"):
            return 0  # not seeded yet
        run_id = current.decode()
        prefix = f"{socket.gethostname()}-{process.pid}-"
        consumers = client.xinfo_consumers(f"optout-audit:run:{run_id}:sites", "workers")
        return sum(c["pending"] for c in consumers if c["name"].decode().startswith(prefix))

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}" for log in self.logs)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def descendants(self, process: subprocess.Popen) -> list[int]:
        pids, todo = [], [process.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                with contextlib.suppress(OSError):
                    todo += [int(child) for child in (task / "children").read_text().split()]
        return pids


def _check_run(crawl: Crawl, web: SyntheticWeb) -> dict:
    """Every site and invalid line exactly once; run.json finished; the password nowhere."""
    records = [json.loads(line) for line in crawl.audit.read_text("utf-8").splitlines()]
    keys = Counter(record["origin"] or f"line:{record['line']}" for record in records)
    assert max(keys.values()) == 1, keys.most_common(3)
    hosts = {record["domain"] for record in records if record["status"] != "invalid_input"}
    assert hosts == set(web.hosts())
    assert sorted(r["input"] for r in records if r["status"] == "invalid_input") == sorted(INVALID)
    with (crawl.run_dir / "domains.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == web.count + len(INVALID)
    assert Counter(row["domain"] for row in rows if row["domain"]) == Counter(set(web.hosts()))
    run = json.loads((crawl.run_dir / "run.json").read_text("utf-8"))
    assert run["state"] == "finished" and run["sites"] == web.count + len(INVALID)
    scheme = crawl.redis.url.split(":")[0]
    assert run["distributed"]["redis"].split("?")[0] in (
        f"{scheme}://:***@127.0.0.1:{crawl.redis.port}/0",
        f"{scheme}://127.0.0.1:{crawl.redis.port}/0",
    )
    for path in [*crawl.run_dir.rglob("*"), *crawl.logs]:
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    # the evidence: the workers' WARC files gathered in archive/, every fetch that got an answer named there
    assert run["settings"]["archive"] is True
    assert verify_run(crawl.run_dir) == []
    answered = [
        fetch
        for record in records
        for fetch in (record.get(document) or {} for document in ("robots", "home", "tdmrep", "aitxt"))
        if fetch.get("http_status") is not None
    ]
    assert answered and all(fetch.get("warc_record_id") for fetch in answered)
    # the queue is gone from Redis; the run's state says complete (for workers that look late)
    client = crawl.redis.client()
    assert client.keys(f"optout-audit:run:{run['run_id']}:*") == [f"optout-audit:run:{run['run_id']}:meta".encode()]
    assert client.hget(f"optout-audit:run:{run['run_id']}:meta", "state") == b"complete"
    return run


@pytest.fixture
def web():
    return SyntheticWeb(HOSTS, seed=21, mix=MIX, slow_delay=30)


@pytest.fixture
def setting(tmp_path, web):
    def make(appendonly: bool = False, tls: dict | None = None, latency=LATENCY, sites: SyntheticWeb = web):
        redis = RedisServer(tmp_path / "redis", appendonly=appendonly, tls=tls).start()
        farm_context = running_farm(sites, latency=latency, log_requests=False)
        farm = farm_context.__enter__()
        crawl = Crawl(tmp_path, farm, redis, sites)
        made.append((crawl, farm_context, redis))
        return crawl

    made: list = []
    yield make
    for crawl, farm_context, redis in made:
        crawl.stop_all()
        farm_context.__exit__(None, None, None)
        redis.stop()


def test_a_worker_killed_with_sigkill_loses_nothing(setting, web):
    crawl = setting()
    coordinator = crawl.coordinator()
    crawl.wait_for_records(50, coordinator)
    doomed, survivor = crawl.worker(), crawl.worker()
    deadline = time.monotonic() + 60
    while crawl.pending_of(doomed) == 0:  # it holds sites: killing it loses them unless they come back
        assert time.monotonic() < deadline, crawl.output()
        time.sleep(0.05)
    written = crawl.wait_for_records(HOSTS // 2, coordinator)
    held = crawl.pending_of(doomed)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    assert coordinator.wait(240) == 0, crawl.output()
    assert survivor.wait(60) == 0, crawl.output()  # it stopped by itself: the run is complete
    _check_run(crawl, web)
    assert held > 0 and written < HOSTS
    # the records follow from the evidence: rebuilt from the gathered WARC files, byte for byte
    from optout_audit.archive.replay import rebuild_run

    same = rebuild_run(crawl.run_dir, crawl.run_dir.parent / "elsewhere" / "replayed")  # no trends: alone
    assert all(same.values()), same
    print(f"worker killed after {written} records, holding {held} queue entries")


def test_the_coordinator_killed_and_resumed(setting, web):
    crawl = setting()
    coordinator = crawl.coordinator()
    worker = crawl.worker()
    written = crawl.wait_for_records(HOSTS // 3, coordinator)
    for pid in crawl.descendants(coordinator):  # the coordinator and its own worker: a machine gone
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    coordinator.wait()
    assert not (crawl.run_dir / "domains.csv").exists()
    time.sleep(1)  # the other worker goes on meanwhile: its records wait in Redis
    resumed = crawl.coordinator("--resume")
    assert resumed.wait(240) == 0, crawl.output()
    assert worker.wait(60) == 0, crawl.output()
    run = _check_run(crawl, web)
    assert len(run["resumed_at"]) == 1
    print(f"coordinator killed after {written} records")


def test_redis_restarted_mid_run_loses_nothing(setting, web):
    crawl = setting(appendonly=True)
    coordinator = crawl.coordinator()
    worker = crawl.worker()
    written = crawl.wait_for_records(HOSTS // 3, coordinator)
    crawl.redis.restart(down_seconds=2.0)  # SIGKILL: only the append-only file (fsync always) survives
    assert coordinator.wait(240) == 0, crawl.output()
    assert worker.wait(60) == 0, crawl.output()
    _check_run(crawl, web)
    print(f"Redis killed and restarted after {written} records")


def test_a_frozen_worker_whose_lease_ran_out_is_kept_once(setting):
    """A worker stopped (SIGSTOP) past the lease: the others take its sites over; woken up, it
    finishes them too; each site is still in the run once, the first record kept."""
    small = SyntheticWeb(400, seed=4, mix=MIX, slow_delay=30)
    crawl = setting(latency=(100, 250), sites=small)
    coordinator = crawl.coordinator()
    frozen = crawl.worker()
    deadline = time.monotonic() + 60
    while crawl.pending_of(frozen) == 0:
        assert time.monotonic() < deadline, crawl.output()
        time.sleep(0.02)
    os.kill(frozen.pid, signal.SIGSTOP)
    held = crawl.pending_of(frozen)
    try:
        deadline = time.monotonic() + 60
        while crawl.pending_of(frozen) > 0:  # taken over by the coordinator's worker (XAUTOCLAIM)
            assert time.monotonic() < deadline, crawl.output()
            time.sleep(0.2)
        time.sleep(2.0)  # the sites it held are audited again meanwhile
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    assert coordinator.wait(240) == 0, crawl.output()
    assert frozen.wait(60) == 0, crawl.output()
    run = _check_run(crawl, small)
    assert held > 0
    assert run["distributed"]["duplicate_records"] > 0  # both finished some site: one record kept
    print(f"frozen holding {held} entries; {run['distributed']['duplicate_records']} second records dropped")


def test_tls_and_a_password(setting, tmp_path):
    """rediss:// with the server's CA given in the URL (ssl_ca_certs), the password masked everywhere."""
    from optout_audit.webfarm.tls import write_certificate

    (tmp_path / "tls").mkdir()
    cert, key = write_certificate(tmp_path / "tls", ["localhost"], ["127.0.0.1"])
    small = SyntheticWeb(150, seed=6, mix=MIX, slow_delay=30)
    crawl = setting(tls={"cert": str(cert), "key": str(key)}, sites=small)
    crawl.redis.url_suffix = f"?ssl_ca_certs={cert}"
    coordinator = crawl.coordinator()
    worker = crawl.worker()
    assert coordinator.wait(240) == 0, crawl.output()
    assert worker.wait(60) == 0, crawl.output()
    run = _check_run(crawl, small)
    assert run["distributed"]["redis"] == f"rediss://:***@127.0.0.1:{crawl.redis.port}/0?ssl_ca_certs={cert}"
    # a client that does not trust the certificate is refused: the connection is really TLS
    from crawling import optout_audit

    refused = optout_audit(
        "worker", "--redis", f"rediss://:{PASSWORD}@127.0.0.1:{crawl.redis.port}/0", "--wait", "1", timeout=120
    )
    assert refused.returncode == 2 and "certificate verify failed" in refused.stderr, refused.stderr
    assert PASSWORD not in refused.stderr


def test_a_coordinator_stopped_by_sigterm_says_how_to_continue(setting):
    """SIGTERM: run.json ``interrupted``, exit 143, the command that continues it (password masked),
    and that command (the password given in the environment) finishes the run."""
    small = SyntheticWeb(600, seed=8, mix=MIX, slow_delay=30)
    crawl = setting(latency=(50, 150), sites=small)
    coordinator = crawl.coordinator()
    crawl.wait_for_records(150, coordinator)
    coordinator.send_signal(signal.SIGTERM)
    assert coordinator.wait(120) == 143, crawl.output()
    said = crawl.logs[0].read_text()
    run = json.loads((crawl.run_dir / "run.json").read_text("utf-8"))
    assert run["state"] == "interrupted" and run["interrupted"]["reason"] == "SIGTERM"
    assert "--resume" in said and f"--redis redis://:***@127.0.0.1:{crawl.redis.port}/0" in said
    assert PASSWORD not in said
    resumed = crawl._popen(
        [
            str(BIN / "optout-audit"),
            "crawl",
            str(crawl.input),
            "--out",
            str(crawl.run_dir),
            "--resume",
            "--hosts-file",
            str(crawl.farm.hosts_file),
            "--redis",
            f"redis://127.0.0.1:{crawl.redis.port}/0",
            "--lease",
            LEASE,
            *COMMON,
        ],
        "resumed",
        {"OPTOUT_REDIS_PASSWORD": PASSWORD},
    )
    assert resumed.wait(240) == 0, crawl.output()
    _check_run(crawl, small)
