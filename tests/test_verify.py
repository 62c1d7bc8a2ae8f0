"""``optout-audit verify``: a run as written holds; a changed byte anywhere is found and named."""

from __future__ import annotations

import csv
import shutil

import pytest
from crawling import crawl, optout_audit

from optout_audit.archive.verify import verify_run
from optout_audit.webfarm import Resource, Site, running_farm

SITES = [
    Site(
        "one.test",
        {
            "/robots.txt": Resource.text("User-agent: GPTBot\nDisallow: /\n"),
            "/llms.txt": Resource.text("# One\n\n> A site for tests.\n"),
            "/": Resource.html(
                "<html><head><meta name=robots content=noai></head></html>",
                headers=[("X-Robots-Tag", "noimageai"), ("X-Robots-Tag", "noarchive")],
            ),
        },
    ),
    Site(
        "two.test",
        {
            "/robots.txt": Resource.redirect("https://www.two.test/robots.txt"),
            "/.well-known/tdmrep.json": Resource.json([{"location": "/", "tdm-reservation": 1}]),
        },
    ),
    Site("www.two.test", {"/robots.txt": Resource.text("User-agent: *\nAllow: /\n")}),
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    with running_farm(SITES) as farm:
        return crawl(
            farm, ["https://one.test/", "https://two.test/"], tmp_path_factory.mktemp("verify") / "run"
        ).run_dir


def _copy(run_dir, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target


def _flip(path, position):
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_run_as_written_holds(run_dir):
    completed = optout_audit("verify", str(run_dir))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "holds" in completed.stdout


def test_usage_errors_exit_2(tmp_path):
    completed = optout_audit("verify", str(tmp_path / "nothing"))
    assert completed.returncode == 2 and completed.stderr.startswith("optout-audit: error:")
    assert "Traceback" not in completed.stderr


def test_every_byte_of_a_warc_file_is_covered_and_named(run_dir, tmp_path):
    warc = next((run_dir / "archive").glob("*.warc.gz"))
    size = warc.stat().st_size
    rows = list(csv.DictReader((run_dir / "evidence.csv").open(newline="")))
    for position in range(0, size, max(1, size // 150)):
        copy = tmp_path / f"at{position}"
        shutil.copytree(run_dir, copy)
        _flip(copy / "archive" / warc.name, position)
        problems = verify_run(copy)
        where = [p for p in problems if p.file == f"archive/{warc.name}" and "offset" in p.record]
        assert where, (position, [str(p) for p in problems])
        shutil.rmtree(copy)
    # a record in the middle is named by its id
    row = rows[len(rows) // 2]
    copy = _copy(run_dir, tmp_path)
    _flip(copy / "archive" / warc.name, int(row["offset"]) + int(row["length"]) // 2)
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert f"archive/{warc.name}: record {row['record_id']} at offset {row['offset']}:" in completed.stdout


@pytest.mark.parametrize("column", ["sha256", "url", "status", "offset"])
def test_a_changed_evidence_row_is_named(run_dir, tmp_path, column):
    copy = _copy(run_dir, tmp_path)
    path = copy / "evidence.csv"
    text = path.read_text()
    rows = list(csv.DictReader(text.splitlines()))
    row = rows[2]
    changed = {
        "sha256": row["sha256"][:-1] + ("0" if row["sha256"][-1] != "0" else "1"),
        "url": row["url"] + "x",
        "status": "299",
        "offset": str(int(row["offset"]) + 1),
    }[column]
    line = text.splitlines()[3]
    path.write_text(text.replace(line, line.replace(row[column], changed, 1)))
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert f"evidence.csv: line 4 ({row['record_id']}): differs from the WARC file's own index" in completed.stdout
    assert "evidence.csv: SHA-256 differs from manifest.sha256" in completed.stdout


def test_a_changed_audit_line_is_named(run_dir, tmp_path):
    copy = _copy(run_dir, tmp_path)
    path = copy / "audit.jsonl"
    lines = path.read_bytes().split(b"\n")
    number = next(i for i, line in enumerate(lines) if b'"domain":"one.test"' in line)
    assert b'"reserves_ai_training":"yes"' in lines[number]
    lines[number] = lines[number].replace(b'"reserves_ai_training":"yes"', b'"reserves_ai_training":"no"')
    path.write_bytes(b"\n".join(lines))
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert f"audit.jsonl: line {number + 1} (one.test): differs from the line written" in completed.stdout
    # the reports no longer follow from it either
    assert "domains.csv: line" in completed.stdout and "(one.test): differs from the report rebuilt" in completed.stdout


def test_a_changed_record_id_in_the_audit_is_named(run_dir, tmp_path):
    copy = _copy(run_dir, tmp_path)
    path = copy / "audit.jsonl"
    text = path.read_text()
    rows = list(csv.DictReader((copy / "evidence.csv").open(newline="")))
    home = next(r for r in rows if r["domain"] == "one.test" and r["document"] == "home")
    robots = next(r for r in rows if r["domain"] == "one.test" and r["document"] == "robots")
    path.write_text(text.replace(home["record_id"], robots["record_id"], 1))
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert f"(one.test home): names {robots['record_id']}, the robots of one.test" in completed.stdout


@pytest.mark.parametrize("report", ["domains.csv", "domain_agents.csv", "agents.csv", "signals.csv", "summary.csv"])
def test_a_changed_byte_in_a_report_is_named(run_dir, tmp_path, report):
    copy = _copy(run_dir, tmp_path)
    path = copy / report
    data = path.read_bytes()
    position = data.index(b"\n") + 3  # in the first data row
    _flip(path, position)
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert f"{report}: SHA-256 differs from manifest.sha256" in completed.stdout
    assert f"{report}: line 2 (" in completed.stdout


def test_added_and_removed_files_are_named(run_dir, tmp_path):
    copy = _copy(run_dir, tmp_path)
    (copy / "extra.txt").write_text("x")
    (copy / "signals.csv").unlink()
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert "extra.txt: not listed in manifest.sha256" in completed.stdout
    assert "signals.csv: listed in manifest.sha256 but missing" in completed.stdout


def test_a_fetch_beyond_the_four_documents_is_checked_too(run_dir, tmp_path):
    """llms.txt (evidence.csv calls it "other"): its record must exist and its SHA-256 match."""
    import json

    copy = _copy(run_dir, tmp_path)
    path = copy / "audit.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    one = next(record for record in records if record["domain"] == "one.test")
    fetch = one["llmstxt"]
    assert fetch["http_status"] == 200 and fetch["warc_record_id"]
    rows = {row["record_id"]: row for row in csv.DictReader((copy / "evidence.csv").open(newline=""))}
    assert rows[fetch["warc_record_id"]]["sha256"] == fetch["sha256"]
    text = path.read_text()
    path.write_text(text.replace(fetch["sha256"], "0" * 64, 1))
    completed = optout_audit("verify", str(copy))
    assert completed.returncode == 1
    assert f"(one.test llmstxt): sha256 differs from evidence.csv's for {fetch['warc_record_id']}" in completed.stdout
