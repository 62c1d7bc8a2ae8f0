"""The distributed queue's parts on a real redis-server: seeding once, grouping by domain, masking, URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis_server import PASSWORD, RedisServer

from optout_audit.app.errors import UsageError
from optout_audit.app.inputs import Target, read_targets
from optout_audit.distributed.connection import check_url, mask_url, sync_client
from optout_audit.distributed.coordinator import _seed
from optout_audit.distributed.keys import SITES_GROUP, RunKeys, decode_group, encode_group, group_targets


@pytest.fixture
def server(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    yield redis
    redis.stop()


def _targets(tmp_path: Path, lines: list[str]):
    path = tmp_path / "sites.txt"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return list(read_targets(path))


def test_sites_of_one_registered_domain_share_one_entry(tmp_path):
    lines = [
        "https://a.news.co.uk/",
        "not a url",
        "shop.example.com",
        "https://b.news.co.uk/",
        "http://news.co.uk:8080/",
        "https://other.org/",
        "https://www.example.com/",
    ]
    groups, invalid = group_targets(_targets(tmp_path, lines))
    assert [(domain, [t.host for t in targets]) for domain, targets in groups] == [
        ("news.co.uk", ["a.news.co.uk", "b.news.co.uk", "news.co.uk"]),
        ("example.com", ["shop.example.com", "www.example.com"]),
        ("other.org", ["other.org"]),
    ]
    assert [entry.line for entry in invalid] == [2]


def test_an_entry_holds_the_parsed_targets(tmp_path):
    targets = _targets(
        tmp_path, ["https://a.news.co.uk/", "b.news.co.uk", "http://news.co.uk:8080/x?y=1", "bücher.news.co.uk"]
    )
    fields = {key.encode(): value.encode() for key, value in encode_group("news.co.uk", targets).items()}
    domain, decoded = decode_group(fields)
    assert domain == "news.co.uk" and decoded == targets
    assert [t.scheme_given for t in decoded] == [True, False, True, False]
    assert decoded[3].host == "xn--bcher-kva.news.co.uk"


def test_seeding_twice_or_after_a_kill_adds_each_group_once(server, tmp_path, monkeypatch):
    client = sync_client(server.url)
    keys = RunKeys("seedtest")
    client.xgroup_create(keys.sites, SITES_GROUP, id="0", mkstream=True)
    groups = [
        (
            f"d{n}.example",
            [Target(f"d{n}.example", n + 1, f"d{n}.example", f"https://d{n}.example/", False, f"https://d{n}.example")],
        )
        for n in range(1234)
    ]
    monkeypatch.setattr("optout_audit.distributed.coordinator.SEED_BATCH", 100)
    # a coordinator killed after the third batch: its count says so
    first = groups[:300]
    _seed(client, keys, first)
    assert client.xlen(keys.sites) == 300 and int(client.hget(keys.meta, "seeded")) == 300
    _seed(client, keys, groups)  # resumed: the rest
    _seed(client, keys, groups)  # run again: nothing
    assert client.xlen(keys.sites) == 1234
    domains = [fields[b"domain"].decode() for _, fields in client.xrange(keys.sites)]
    assert domains == [domain for domain, _ in groups]
    # a batch replayed after it was applied (a retry whose first reply was lost) adds nothing
    client.hset(keys.meta, "seeded", 1100)
    _seed(client, keys, groups)
    assert client.xlen(keys.sites) == 1234 and int(client.hget(keys.meta, "seeded")) == 1234
    # sites already in audit.jsonl (a resume whose Redis lost the run) are not queued again
    other = RunKeys("seedtest2")
    _seed(client, other, groups[:10], skip={"https://d3.example", "https://d7.example"})
    assert [fields[b"domain"] for _, fields in client.xrange(other.sites)] == [
        f"d{n}.example".encode() for n in range(10) if n not in (3, 7)
    ]
    assert client.hget(keys.meta, "seeding_done") == b"1"


def test_a_password_is_needed_and_taken_from_the_environment(server, monkeypatch):
    """A refused password fails at once (no retries), and OPTOUT_REDIS_PASSWORD supplies one."""
    import redis

    url = f"redis://127.0.0.1:{server.port}/0"
    monkeypatch.delenv("OPTOUT_REDIS_PASSWORD", raising=False)
    with pytest.raises(redis.AuthenticationError):
        sync_client(url).ping()
    monkeypatch.setenv("OPTOUT_REDIS_PASSWORD", PASSWORD)
    assert sync_client(url).ping() is True


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:hunter2@queue.internal:6379/0", "redis://:***@queue.internal:6379/0"),
        (
            "rediss://audit:hunter2@10.0.0.5:6380/1?ssl_ca_certs=/etc/ca.pem",
            "rediss://audit:***@10.0.0.5:6380/1?ssl_ca_certs=/etc/ca.pem",
        ),
        ("redis://hunter2@queue.internal/0", "redis://***@queue.internal/0"),
        ("redis://queue.internal:6379/0?password=hunter2", "redis://queue.internal:6379/0?password=***"),
        ("redis://:p%40ss@w0rd@host:6379", "redis://:***@host:6379"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_passwords_are_masked(url, masked):
    assert mask_url(url) == masked
    assert "hunter2" not in mask_url(url) and "w0rd" not in mask_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "redis://host:notaport/0", "127.0.0.1:6379"])
def test_bad_redis_urls_are_refused_without_their_password(url):
    with pytest.raises(UsageError):
        check_url(url)


def test_the_cli_refuses_bad_combinations(tmp_path):
    from crawling import optout_audit

    sites = tmp_path / "sites.txt"
    sites.write_text("https://a.example/\n", "utf-8")
    cases = [
        (["--redis", "http://:topsecret@127.0.0.1:1/0"], "redis://"),
        (["--redis", "redis://127.0.0.1:1/0", "--workers", "2"], "--workers"),
        (["--lease", "5"], "--lease needs --redis"),
    ]
    for extra, said in cases:
        completed = optout_audit("crawl", str(sites), "--out", str(tmp_path / "run"), *extra)
        assert completed.returncode == 2, completed.stderr
        assert said in completed.stderr and "topsecret" not in completed.stderr
        assert len(completed.stderr.strip().splitlines()) == 1


def test_an_unreachable_redis_is_one_line_and_exit_2(tmp_path):
    from crawling import optout_audit
    from redis_server import free_port

    completed = optout_audit(
        "worker", "--redis", f"redis://:topsecret@127.0.0.1:{free_port()}/0", "--wait", "1", timeout=200
    )
    assert completed.returncode == 2, completed.stderr
    assert "topsecret" not in completed.stderr and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("optout-audit: error: Redis at redis://:***@127.0.0.1:")


def test_a_worker_without_a_run_stops_after_wait(server):
    from crawling import optout_audit

    completed = optout_audit("worker", "--redis", server.url, "--wait", "1", timeout=60)
    assert completed.returncode == 0 and "no run in progress" in completed.stderr
    assert PASSWORD not in completed.stderr
    assert json.dumps(completed.stderr)  # one line, no traceback
    assert "Traceback" not in completed.stderr


def _running_run(server, tmp_path, run_id: str, lines: list[str]) -> tuple:
    client = sync_client(server.url)
    keys = RunKeys(run_id)
    client.xgroup_create(keys.sites, SITES_GROUP, id="0", mkstream=True)
    client.hset(keys.meta, "state", "running")
    groups, _invalid = group_targets(_targets(tmp_path, lines))
    _seed(client, keys, groups)
    return client, keys


async def _take_one(url: str, run_id: str, consumer: str, lease: float, seconds: float, **options):
    """A worker that takes what it can in ``seconds`` (at most one site), sends what it stored, and
    is then killed: its entries are neither finished nor handed back."""
    import asyncio

    from optout_audit.distributed.source import QueueSource

    source = QueueSource(url, run_id, consumer, lease, **options)
    targets = source.targets()
    try:
        taken = [await asyncio.wait_for(targets.__anext__(), seconds)]
    except TimeoutError:
        taken = []
    await targets.aclose()
    await source.flush()
    await source.redis.aclose()
    return taken


def test_an_entry_no_worker_finishes_is_abandoned_not_handed_on_forever(server, tmp_path):
    """Taken by one worker, then by two more after their leases ran out, none finishing it: the next
    worker takes it no more, and its sites get an ``abandoned`` record each (status error)."""
    import asyncio
    import time

    client, keys = _running_run(server, tmp_path, "poison", ["https://a.poison.example/", "https://b.poison.example/"])
    for number in range(3):
        taken = asyncio.run(_take_one(server.url, "poison", f"w{number}", 0.05, 5, max_deliveries=3))
        assert [t.host for t in taken] == ["a.poison.example"], number  # taken over each time
        time.sleep(0.1)  # past the lease
    assert client.xlen(keys.results) == 0
    taken = asyncio.run(_take_one(server.url, "poison", "w3", 0.05, 2.5, max_deliveries=3))
    assert taken == []
    records = [json.loads(fields[b"record"]) for _, fields in client.xrange(keys.results)]
    assert [(r["domain"], r["status"], r["fault"]) for r in records] == [
        ("a.poison.example", "error", "abandoned"),
        ("b.poison.example", "error", "abandoned"),
    ]
    assert "3 workers" in records[0]["error"]
    assert client.xpending(keys.sites, SITES_GROUP)["pending"] == 0 and client.xlen(keys.sites) == 0
    assert client.smembers(keys.done) == {b"https://a.poison.example", b"https://b.poison.example"}


def test_workers_take_no_sites_while_results_wait_for_the_coordinator(server, tmp_path, monkeypatch):
    """Redis must not fill up with records and evidence while the coordinator is stopped."""
    import asyncio

    monkeypatch.setattr("optout_audit.distributed.source.MAX_UNCOLLECTED", 3)
    client, keys = _running_run(server, tmp_path, "full", ["https://a.full.example/"])
    for number in range(3):
        client.xadd(keys.results, {"record": f"{number}"})
    assert asyncio.run(_take_one(server.url, "full", "w0", 60, 2.5)) == []
    assert client.xpending(keys.sites, SITES_GROUP)["pending"] == 0  # not even read
    client.xtrim(keys.results, maxlen=2, approximate=False)  # the coordinator collects
    taken = asyncio.run(_take_one(server.url, "full", "w1", 60, 5))
    assert [t.host for t in taken] == ["a.full.example"]
