"""``optout-audit report RUN_DIR --from-archive``: the demo web's run rebuilt from its stored bytes alone."""

from __future__ import annotations

import json
import shutil

import pytest
from crawling import optout_audit

from optout_audit.archive.replay import rebuild_audit

DERIVED = (
    "agents",
    "other_agents",
    "robots_evidence",
    "page",
    "tdmrep_evidence",
    "aitxt_evidence",
    "verdict",
    "own_access",
    "crawl_delay",
    "status",
    "fault",
    "error",
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("replay") / "demo"
    completed = optout_audit("demo", "--out", str(run_dir))
    assert completed.returncode == 0, completed.stderr[-3000:]
    return run_dir


def test_the_rebuilt_audit_and_reports_are_the_runs_byte_for_byte(run_dir, tmp_path):
    out = tmp_path / "rebuilt"
    completed = optout_audit("report", str(run_dir), "--from-archive", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    names = ["audit.jsonl", "domains.csv", "domain_agents.csv", "agents.csv", "signals.csv", "summary.csv"]
    for name in names:
        assert (out / name).read_bytes() == (run_dir / name).read_bytes(), name
        assert f"{name:<24} identical to the run" in completed.stdout
    # the run folder itself is untouched: it still verifies
    assert optout_audit("verify", str(run_dir)).returncode == 0


def test_what_the_detectors_found_comes_from_the_archive_not_the_old_audit(run_dir, tmp_path):
    hollow = tmp_path / "hollow"
    shutil.copytree(run_dir, hollow)
    lines = []
    for raw in (run_dir / "audit.jsonl").read_text("utf-8").splitlines():
        record = json.loads(raw)
        if record["status"] != "invalid_input":
            for key in DERIVED:
                record[key] = None
            for document in ("robots", "home", "tdmrep", "aitxt"):
                if record[document]["warc_record_id"]:  # what the archive holds is read again
                    record[document].update(status="", fault="", error="", bytes=0, content_type="")
        lines.append(json.dumps(record))
    (hollow / "audit.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    rebuild_audit(hollow, tmp_path / "audit.jsonl")
    assert (tmp_path / "audit.jsonl").read_bytes() == (run_dir / "audit.jsonl").read_bytes()


def test_from_archive_usage_errors(run_dir, tmp_path):
    completed = optout_audit("report", str(run_dir), "--from-archive", "--out", str(run_dir))
    assert completed.returncode == 2 and "must not be the run folder" in completed.stderr
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copyfile(run_dir / "audit.jsonl", bare / "audit.jsonl")
    completed = optout_audit("report", str(bare), "--from-archive")
    assert completed.returncode == 2 and "no evidence archive" in completed.stderr
