"""The command line as a user meets it: a crawl writes every report, mistakes are one line and exit 2."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from contract import DESIGN_REQUIRED
from crawling import BIN, crawl, optout_audit

from optout_audit.report import REPORT_COLUMNS
from optout_audit.webfarm import Resource, Site, running_farm

ROOT = Path(__file__).resolve().parent.parent

SITES = [
    Site(
        "blocker.test", {"/robots.txt": Resource.text("User-agent: GPTBot\nDisallow: /\n"), "/": Resource.html("<p>")}
    ),
    Site("open.test", {"/robots.txt": Resource.text("User-agent: *\nAllow: /\n"), "/": Resource.html("<p>")}),
]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    with running_farm(SITES) as farm:
        return crawl(
            farm, ["blocker.test", "https://open.test/x?y=1", "not a url"], tmp_path_factory.mktemp("cli") / "run"
        )


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


@pytest.mark.parametrize("name", sorted(DESIGN_REQUIRED))
def test_crawl_writes_every_report_with_the_contract_columns(small_run, name):
    header = _header(small_run.run_dir / name)
    assert header[: len(DESIGN_REQUIRED[name])] == DESIGN_REQUIRED[name]
    assert header == REPORT_COLUMNS[name]


def test_crawl_rows(small_run):
    assert {d: r["reserves_ai_training"] for d, r in small_run.domains.items()} == {
        "blocker.test": "yes",
        "open.test": "no",
        "not a url": "unknown",
    }
    rows = list(csv.DictReader((small_run.run_dir / "domain_agents.csv").open(encoding="utf-8")))
    # compact: each domain's "*" row, then its named listed agents (expanded: tests/crawling.py agent_rows)
    assert sorted((row["domain"], row["agent"]) for row in rows) == [
        ("blocker.test", "*"),
        ("blocker.test", "GPTBot"),
        ("open.test", "*"),
    ]
    assert small_run.agent_rows("blocker.test")["GPTBot"] == {
        "domain": "blocker.test",
        "agent": "GPTBot",
        "purpose": "training",
        "verdict": "full",
        "named": "true",
        "via": "named",
        "rule": "Disallow: /",
        "line": "2",
    }
    assert "reports written to" in small_run.completed.stdout


def test_run_json(small_run):
    import json

    record = json.loads((small_run.run_dir / "run.json").read_text())
    assert record["counts_by_status"] == {"invalid_input": 1, "ok": 2}
    assert record["agent_list"].startswith("ai.robots.txt@")
    assert len(record["input_sha256"]) == 64


def test_report_rebuilds_the_csvs(small_run):
    before = (small_run.run_dir / "domains.csv").read_bytes()
    (small_run.run_dir / "domains.csv").unlink()
    completed = optout_audit("report", str(small_run.run_dir))
    assert completed.returncode == 0, completed.stderr
    assert (small_run.run_dir / "domains.csv").read_bytes() == before


def _usage_error(completed: subprocess.CompletedProcess, message: str) -> None:
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], completed.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "input file not found"),
        (b"", "the input file is empty"),
        (bytes(range(256)) * 64, "binary"),
        (b"rank,name\n1,x\n", "no 'url' or 'domain' column"),
        (b"\xff\xfe\x00\xd8" * 1000, "not"),  # broken UTF-16
    ],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "list.txt"
    if content is not None:
        path.write_bytes(content)
    _usage_error(optout_audit("crawl", str(path), "--out", str(tmp_path / "run")), message)


def test_existing_run_folder_needs_resume(small_run):
    _usage_error(
        optout_audit("crawl", str(small_run.run_dir.parent / "run-input.txt"), "--out", str(small_run.run_dir)),
        "use --resume",
    )


def test_report_without_audit(tmp_path):
    _usage_error(optout_audit("report", str(tmp_path)), "has no audit.jsonl")


def test_bad_option_value(tmp_path):
    completed = optout_audit("crawl", "x.txt", "--timeout", "-1")
    assert completed.returncode == 2 and "Traceback" not in completed.stderr


def test_million_lines_and_very_long_lines(tmp_path):
    """A million-line list with a 1 MB line: deduplicated to a few sites, the long line reported."""
    lines = ["a.test", "b.test", "c.test", "# comment", ""] * 200_000 + ["x" * 1_000_000]
    path = tmp_path / "big.txt"
    path.write_text("\n".join(lines) + "\n")
    with running_farm([Site("a.test"), Site("b.test"), Site("c.test")]) as farm:
        completed = optout_audit(
            "crawl", str(path), "--out", str(tmp_path / "run"), "--hosts-file", str(farm.hosts_file), "--timeout", "3"
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "run" / "domains.csv").open(encoding="utf-8")))
    assert [(r["domain"], r["status"]) for r in rows if r["domain"]] and len(rows) == 4
    long_row = next(r for r in rows if r["status"] == "invalid_input")
    assert long_row["error"] == "line longer than 2048 characters" and len(long_row["input"]) < 300


def test_utf16_list_is_read(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes("blocker.test\r\nopen.test\r\n".encode("utf-16"))
    with running_farm(SITES) as farm:
        completed = optout_audit(
            "crawl", str(path), "--out", str(tmp_path / "run"), "--hosts-file", str(farm.hosts_file), "--timeout", "3"
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "blocker.test" in (tmp_path / "run" / "domains.csv").read_text()


def test_scrapy_crawl_command_works(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("blocker.test\n")
    with running_farm(SITES) as farm:
        completed = subprocess.run(
            [
                str(BIN / "scrapy"),
                "crawl",
                "optout",
                "-a",
                f"input={path}",
                "-O",
                str(tmp_path / "out.jsonl"),
                "-s",
                f"HOSTS_FILE={farm.hosts_file}",
                "-s",
                "LOG_LEVEL=WARNING",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    import json

    (record,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert (record["domain"], record["verdict"]["reserves_ai_training"]) == ("blocker.test", "yes")


def test_version():
    completed = subprocess.run(
        [sys.executable, "-m", "optout_audit.app.cli", "--version"], capture_output=True, text=True
    )
    assert completed.stdout.startswith("optout-audit ")
