"""Scheduled audits on scrapyd: deploy the project with scrapyd-client, schedule ``optout`` over
scrapyd's HTTP API against a local web, and find the finished job's audit.

Everything stays on loopback: scrapyd binds 127.0.0.1 on a free port (its config in a temporary
folder, HOME pointed there too so no ~/.scrapyd.conf is read), HTTP clients ignore proxy
settings, and the crawl resolves names through the farm's hosts file only.

The project is copied to a temporary folder first: scrapyd-deploy runs ``setup.py bdist_egg`` in
the project folder, leaving build files behind. The copy's version is changed to ``0.1.0+egg``,
and the farm's request log must show that user agent: the job ran the deployed egg, not the
working tree, and read the agent list and purposes from inside the egg (importlib.resources).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from optout_audit import __version__
from optout_audit.webfarm import Resource, Site, running_farm

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
EGG_VERSION = f"{__version__}+egg"
PROJECT_FILES = ["scrapy.cfg", "setup.py", "pyproject.toml", "README.md", "LICENSE"]
SITES = [
    Site("blocks-gptbot.test", {"/robots.txt": Resource.text("User-agent: GPTBot\nDisallow: /\n"),
                                "/": Resource.html("<html><head><title>t</title></head></html>")}),
    Site("open.test", {"/robots.txt": Resource.text("User-agent: *\nAllow: /\n"),
                       "/": Resource.html("<html><head><meta name='robots' content='noai'></head></html>")}),
    Site("down.test", network="refused"),
]  # fmt: skip
#: No proxy for anything: every request of this test goes to 127.0.0.1 directly.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    return env | {"HOME": str(home), "NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}


def _api(port: int, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict:
    url = f"http://127.0.0.1:{port}/{endpoint}"
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with _DIRECT.open(url, data=body, timeout=10) as response:
        return json.loads(response.read())


def _copy_project(target: Path, port: int) -> Path:
    target.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "optout_audit", target / "optout_audit", ignore=shutil.ignore_patterns("__pycache__"))
    init = target / "optout_audit" / "__init__.py"
    text = init.read_text("utf-8")
    assert f'__version__ = "{__version__}"' in text
    init.write_text(text.replace(f'__version__ = "{__version__}"', f'__version__ = "{EGG_VERSION}"'), "utf-8")
    with (target / "scrapy.cfg").open("a", encoding="utf-8") as cfg:
        cfg.write(f"\n[deploy:test]\nurl = http://127.0.0.1:{port}/\nproject = optout_audit\n")
    return target


@pytest.fixture
def scrapyd(tmp_path):
    """A scrapyd on 127.0.0.1:<free port>, all its files under tmp_path; yields the port."""
    port, home, workdir = _free_port(), tmp_path / "home", tmp_path / "scrapyd"
    home.mkdir()
    workdir.mkdir()
    (workdir / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {workdir / 'eggs'}\nlogs_dir = {workdir / 'logs'}\ndbs_dir = {workdir / 'dbs'}\n"
        "items_dir =\njobs_dir =\npoll_interval = 0.2\nmax_proc = 2\n",
        "utf-8",
    )
    log = (tmp_path / "scrapyd.out").open("wb")
    process = subprocess.Popen([str(BIN / "scrapyd")], cwd=workdir, env=_env(home), stdout=log,
                               stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _api(port, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("scrapyd did not start: " + (tmp_path / "scrapyd.out").read_text(errors="replace"))
            time.sleep(0.2)
        # Bound to 127.0.0.1 only: another loopback address of this machine gets no answer.
        with socket.socket() as other, pytest.raises(OSError):
            other.settimeout(2)
            other.connect(("127.0.0.2", port))
        yield port, home, tmp_path
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_deploy_schedule_and_find_the_audit(scrapyd):
    port, home, tmp_path = scrapyd
    project = _copy_project(tmp_path / "project", port)
    deployed = subprocess.run([str(BIN / "scrapyd-deploy"), "test", "--version", "r1"], cwd=project, env=_env(home),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    answer = json.loads(deployed.stdout)
    assert (answer["status"], answer["project"], answer["spiders"]) == ("ok", "optout_audit", 1)
    assert _api(port, "listspiders.json?project=optout_audit")["spiders"] == ["optout"]

    reports = tmp_path / "reports"
    with running_farm(SITES) as farm:
        sites = tmp_path / "sites.txt"
        sites.write_text("".join(f"https://{site.host}/\n" for site in SITES) + "not a url\n", "utf-8")
        common = [("project", "optout_audit"), ("spider", "optout"), ("input", str(sites)),
                  ("setting", f"HOSTS_FILE={farm.hosts_file}"), ("setting", "DOWNLOAD_TIMEOUT=3")]  # fmt: skip
        # The spider alone, its feed in a folder of its own (Scrapy's %(time)s placeholder) ...
        feeds = json.dumps({str(reports / "feed-%(time)s" / "audit.jsonl"): {"format": "jsonlines"}})
        feed_job = _api(port, "schedule.json", [*common, ("setting", f"FEEDS={feeds}")])
        # ... and the README's recipe: a whole run folder (audit.jsonl, run.json, reports) per job.
        run_job = _api(port, "schedule.json", [*common, ("setting", f"OPTOUT_RUNS_DIR={reports}")])
        assert feed_job["status"] == run_job["status"] == "ok", (feed_job, run_job)
        deadline = time.monotonic() + 45
        while {feed_job["jobid"], run_job["jobid"]} - _finished(port):
            assert time.monotonic() < deadline, "the scrapyd jobs did not finish in time"
            time.sleep(0.3)
        requests = farm.request_records()

    (feed_run,) = reports.glob("feed-*")
    (run,) = [path for path in reports.iterdir() if path != feed_run]
    for folder in (feed_run, run):
        records = {
            r["domain"] or r["input"]: r
            for r in map(json.loads, (folder / "audit.jsonl").read_text("utf-8").splitlines())
        }
        assert sorted(records) == ["blocks-gptbot.test", "down.test", "not a url", "open.test"]
        blocks, opened, down = records["blocks-gptbot.test"], records["open.test"], records["down.test"]
        assert (blocks["status"], blocks["verdict"]["reserves_ai_training"]) == ("ok", "yes")
        assert blocks["verdict"]["reservation_signals"] == ["robots_training_agent_full"]  # purposes.json, in the egg
        assert [(a["agent"], a["verdict"]) for a in blocks["agents"]] == [("GPTBot", "full")]  # robots.json, in the egg
        assert (opened["verdict"]["reserves_ai_training"], opened["page"]["noai"]) == ("yes", True)
        assert (down["status"], down["robots"]["fault"]) == ("unreachable", "connection_refused")
        assert records["not a url"]["status"] == "invalid_input"
    agents = {r.get("user_agent") for r in requests if r.get("event") == "request"}
    assert agents == {f"optout-audit/{EGG_VERSION} (+https://github.com/optout-audit/optout-audit)"}

    # The OPTOUT_RUNS_DIR job left a finished run folder, like `optout-audit crawl`.
    record = json.loads((run / "run.json").read_text("utf-8"))
    assert (
        record["finished_at"] and record["tool_version"] == EGG_VERSION and record["scheduled_job"] == run_job["jobid"]
    )
    assert record["counts_by_status"] == {"invalid_input": 1, "ok": 2, "unreachable": 1}
    assert record["input_sha256"] == hashlib.sha256(sites.read_bytes()).hexdigest()
    assert all((run / name).is_file() for name in ("domains.csv", "domain_agents.csv", "summary.csv"))

    # Both folders are runs for the other commands.
    assert _cli("report", str(feed_run)).returncode == 0
    listed = _cli("runs", str(reports)).stdout.splitlines()
    assert [line.split()[0] for line in listed] == ["run", feed_run.name, run.name] or [
        line.split()[0] for line in listed
    ] == ["run", run.name, feed_run.name]
    assert _cli("diff", str(feed_run), str(run)).stdout.splitlines()[1:] == ["  no changes"]
    assert _cli("history", str(reports)).returncode == 0
    assert len((reports / "trends.csv").read_text("utf-8").splitlines()) == 3


def _finished(port: int) -> set[str]:
    return {entry["id"] for entry in _api(port, "listjobs.json?project=optout_audit")["finished"]}


def _cli(*args: str) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(BIN / "optout-audit"), *args], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return completed
