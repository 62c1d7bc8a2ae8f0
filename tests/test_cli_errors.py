"""Every mistake a user can make on the command line: one line on stderr, exit 2, never a traceback.

And the outcomes of inputs that used to surprise: a comments-only list, a one-column CSV, duplicate
lines, a port, a resume with another list or other settings. Real processes; crawls on the local web.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from crawling import BIN, crawl, optout_audit, read_run

from optout_audit.webfarm import Resource, Site, running_farm

SITES = [
    Site(
        "plain.test",
        {"/robots.txt": Resource.text("User-agent: GPTBot\nDisallow: /\n"), "/": Resource.html("<html></html>")},
    ),
    Site(
        "other.test", {"/robots.txt": Resource.text("User-agent: *\nAllow: /\n"), "/": Resource.html("<html></html>")}
    ),
]


def one_line_error(completed: subprocess.CompletedProcess, message: str, code: int = 2) -> None:
    assert completed.returncode == code, (completed.returncode, completed.stderr)
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], completed.stderr


@pytest.fixture
def sites_file(tmp_path):
    path = tmp_path / "sites.txt"
    path.write_text("plain.test\n", "utf-8")
    return path


def test_out_is_a_file(tmp_path, sites_file):
    (tmp_path / "taken").write_text("x")
    one_line_error(optout_audit("crawl", str(sites_file), "--out", str(tmp_path / "taken")), "--out is a file")


def test_out_cannot_be_created(tmp_path, sites_file):
    (tmp_path / "file").write_text("x")
    one_line_error(
        optout_audit("crawl", str(sites_file), "--out", str(tmp_path / "file" / "run")), "cannot create the run folder"
    )


def test_demo_out_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    one_line_error(optout_audit("demo", "--out", str(tmp_path / "taken")), "--out is a file")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-level", "LOUD"], "must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG, not 'LOUD'"),
        (["--timeout", "abc"], "argument --timeout: must be a number > 0, not 'abc'"),
        (["--timeout", "-1"], "argument --timeout: must be a number > 0, not '-1'"),
        (["--concurrency", "1.5"], "argument --concurrency: must be a whole number > 0, not '1.5'"),
        (["--workers", "0"], "argument --workers: must be a whole number > 0, not '0'"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_options(sites_file, args, message):
    completed = optout_audit("crawl", str(sites_file), *args)
    one_line_error(completed, message)
    assert "_positive" not in completed.stderr


def test_no_command_and_unknown_command():
    one_line_error(optout_audit(), "the following arguments are required: command")
    one_line_error(optout_audit("crawls"), "invalid choice: 'crawls'")


def test_a_folder_as_input(tmp_path):
    one_line_error(optout_audit("crawl", str(tmp_path)), "the input is a folder, not a URL list")


def test_a_url_as_input_is_shown_as_typed():
    one_line_error(
        optout_audit("crawl", "https://site.example/page"),
        "must be a file listing URLs, not a URL: 'https://site.example/page'",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the input file is empty"),
        ("# only a comment\n\n   \n# another\n", "no URL or domain lines"),
    ],
)
def test_lists_without_sites_are_refused_alike(tmp_path, content, message):
    path = tmp_path / "list.txt"
    path.write_text(content)
    one_line_error(optout_audit("crawl", str(path), "--out", str(tmp_path / "run")), message)


def test_report_of_a_missing_or_empty_folder(tmp_path):
    one_line_error(optout_audit("report", str(tmp_path / "nope")), "run folder not found")
    one_line_error(optout_audit("report", str(tmp_path)), "has no audit.jsonl")


def test_report_into_a_closed_pipe_has_no_traceback(tmp_path):
    with running_farm(SITES) as farm:
        run = crawl(farm, ["plain.test"], tmp_path / "run")
    shell = f"'{BIN / 'optout-audit'}' report '{run.run_dir}' | head -1"
    completed = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    assert completed.stdout.startswith("reports written to")
    assert "Traceback" not in completed.stderr and "BrokenPipe" not in completed.stderr, completed.stderr


def _scrapy(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "scrapy"), "crawl", "optout", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the optout spider needs an input file: -a input=FILE"),
        (("-a", "input=/no/such/list.txt"), "input file not found: /no/such/list.txt"),
    ],
)
def test_scrapy_crawl_without_a_usable_input(args, message):
    from pathlib import Path

    project = Path(__file__).resolve().parents[1]  # scrapy.cfg
    completed = _scrapy(*args, cwd=project)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert f"error: {message}" in completed.stderr.splitlines()[-1]


def test_resume_with_another_input_or_timeout_is_refused(tmp_path):
    with running_farm(SITES) as farm:
        run = crawl(farm, ["plain.test"], tmp_path / "run")
        before = (run.run_dir / "run.json").read_text()
        other = tmp_path / "other.txt"
        other.write_text("other.test\n")
        hosts = str(farm.hosts_file)
        one_line_error(
            optout_audit(
                "crawl", str(other), "--out", str(run.run_dir), "--resume", "--hosts-file", hosts, "--timeout", "3"
            ),
            "--resume with another input",
        )
        same = tmp_path / "run-input.txt"
        one_line_error(
            optout_audit(
                "crawl", str(same), "--out", str(run.run_dir), "--resume", "--hosts-file", hosts, "--timeout", "9"
            ),
            "--resume with changed settings that change results: timeout",
        )
        assert (run.run_dir / "run.json").read_text() == before  # the record is untouched
        again = optout_audit(
            "crawl", str(same), "--out", str(run.run_dir), "--resume", "--hosts-file", hosts, "--timeout", "3"
        )
        assert again.returncode == 0, again.stderr


def test_the_record_reproduces_the_run(tmp_path):
    with running_farm(SITES) as farm:
        run = crawl(farm, ["plain.test", "other.test"], tmp_path / "run")
    record = json.loads((run.run_dir / "run.json").read_text())
    assert record["input"] == str((tmp_path / "run-input.txt").resolve())
    assert (run.run_dir / record["input_copy"]).read_bytes() == (tmp_path / "run-input.txt").read_bytes()
    hosts = run.run_dir / record["settings"]["hosts_file_copy"]
    assert "plain.test" in hosts.read_text()


def test_one_column_csv_duplicates_and_ports(tmp_path):
    lines = [
        "url",
        "https://plain.test/",
        "PLAIN.test/deep/page",
        "https://plain.test:8443/",
        "other.test",
        "http://other.test/",
        "https://Other.test/x",
    ]
    with running_farm(SITES) as farm:
        path = tmp_path / "list.csv"
        path.write_text("\n".join(lines) + "\n")
        completed = optout_audit(
            "crawl", str(path), "--out", str(tmp_path / "run"), "--hosts-file", str(farm.hosts_file), "--timeout", "3"
        )
    assert completed.returncode == 0, completed.stderr
    run = read_run(tmp_path / "run", completed)
    with (run.run_dir / "domains.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    inputs = [row["input"] for row in rows]
    assert "url" not in inputs  # the header of a one-column CSV is no site
    # origins: plain.test, plain.test:8443, other.test (https), other.test (http)
    assert sorted(inputs) == sorted(
        ["https://plain.test/", "https://plain.test:8443/", "other.test", "http://other.test/"]
    )
    port_row = next(row for row in rows if row["input"] == "https://plain.test:8443/")
    plain_row = next(row for row in rows if row["input"] == "https://plain.test/")
    assert plain_row["status"] == "ok" and port_row["status"] == "unreachable"  # nothing listens on :8443
    record = json.loads((run.run_dir / "run.json").read_text())
    assert record["duplicate_lines"] == 2
    with (run.run_dir / "summary.csv").open(newline="", encoding="utf-8") as handle:
        summary = {row["metric"]: row["value"] for row in csv.DictReader(handle)}
    assert summary["duplicate_lines"] == "2" and summary["complete"] == "true"


def test_quiet_by_default(tmp_path):
    with running_farm(SITES) as farm:
        run = crawl(farm, ["plain.test", "other.test", "nxdomain.invalid"], tmp_path / "run")
    stderr = run.completed.stderr.strip().splitlines()
    assert stderr[0].startswith("auditing 3 input lines into")
    assert not [line for line in stderr if "WARNING" in line or "INFO" in line or "Overridden settings" in line]


def test_version():
    completed = subprocess.run(
        [sys.executable, "-m", "optout_audit.app.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0 and completed.stdout.startswith("optout-audit ")
