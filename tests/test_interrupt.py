"""A run stopped by SIGINT or SIGTERM never looks finished, and ``--resume`` completes it.

Real processes against the local web: the console script is started in a session of its own,
gets the signal once its audit has some records, and must exit 130 / 143 without a traceback,
say on stderr how far it got and the command that continues it, mark run.json ``interrupted``
and its summary.csv ``complete=false``. One and two workers alike.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import signal
import subprocess
from collections import Counter

import pytest
from crawling import BIN, optout_audit
from waiting import wait_for_records

from optout_audit.webfarm import SyntheticWeb, running_farm

SITES = 400


def _summary(run_dir) -> dict[str, str]:
    with (run_dir / "summary.csv").open(newline="", encoding="utf-8") as handle:
        return {row["metric"]: row["value"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize(
    ("sig", "code", "workers"),
    [
        (signal.SIGINT, 130, "1"),
        (signal.SIGTERM, 143, "1"),
        (signal.SIGINT, 130, "2"),
        (signal.SIGTERM, 143, "2"),
    ],
)
def test_a_signal_leaves_an_interrupted_run_that_resume_completes(tmp_path, sig, code, workers):
    web = SyntheticWeb(SITES, seed=9, mix={"robots_missing": 0.2, "noai_meta": 0.1})
    path = tmp_path / "sites.txt"
    path.write_text("\n".join(f"https://{host}/" for host in web.hosts()) + "\n", "utf-8")
    run_dir = tmp_path / "run"
    with running_farm(web, latency=(150, 250), log_requests=False) as farm:
        args = [
            str(BIN / "optout-audit"),
            "crawl",
            str(path),
            "--out",
            str(run_dir),
            "--hosts-file",
            str(farm.hosts_file),
            "--timeout",
            "5",
            "--concurrency",
            "16",
            "--workers",
            workers,
        ]
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            wait_for_records(run_dir, 30, process, limit=120)
            process.send_signal(sig)
            _, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        assert process.returncode == code, stderr[-2000:]
        assert "Traceback" not in stderr, stderr[-3000:]
        record = json.loads((run_dir / "run.json").read_text("utf-8"))
        assert record["state"] == "interrupted" and record["finished_at"] is None
        audited = record["interrupted"]["audited"]
        assert record["interrupted"]["reason"] == sig.name and record["interrupted"]["sites"] == SITES
        assert 30 <= audited < SITES
        assert f"{audited:,} of {SITES:,} sites audited" in stderr
        assert _summary(run_dir)["complete"] == "false"
        assert not (run_dir / "shards").exists()
        runs = optout_audit("runs", str(tmp_path))
        assert "interrupted" in runs.stdout
        # Every record written is a site audited whole: none cut short by the shutdown.
        records = [json.loads(line) for line in (run_dir / "audit.jsonl").read_text("utf-8").splitlines()]
        assert not [r for r in records if r["fault"] in ("error", "internal_error") or "Cancel" in r["robots"]["error"]]

        command = next(line for line in stderr.splitlines() if "continue it with:" in line)
        resume = shlex.split(command.split("continue it with:", 1)[1])
        assert resume[:2] == ["optout-audit", "crawl"] and "--resume" in resume
        completed = optout_audit(*resume[1:], timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"{audited:,} already audited" in completed.stderr
    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    assert record["state"] == "finished" and record["interrupted"] is None and record["sites"] == SITES
    keys = Counter(json.loads(line)["domain"] for line in (run_dir / "audit.jsonl").read_text("utf-8").splitlines())
    assert len(keys) == SITES and set(keys.values()) == {1}
    assert _summary(run_dir)["complete"] == "true"
