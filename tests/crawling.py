"""Run the real ``optout-audit crawl`` command against a local web and read what it wrote.

Every crawl test goes through here: a farm of real sockets on loopback (``running_farm``), the
console script in its own process (a Twisted reactor cannot be restarted inside pytest), and the
run folder's files read back with the csv module.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass
class Run:
    run_dir: Path
    records: dict[str, dict]  # audit.jsonl by domain (invalid inputs by their input line)
    domains: dict[str, dict]  # domains.csv rows keyed the same way
    completed: subprocess.CompletedProcess

    def agent_rows(self, domain: str) -> dict[str, dict]:
        """Every listed agent's domain_agents.csv row for ``domain``, expanded from the compact file, as text."""
        from optout_audit.report.csvsafe import csv_cells
        from optout_audit.report.load import domain_agents

        rows = domain_agents(self.run_dir, expand=True)
        cells = csv_cells(rows[rows["domain"] == domain]).fillna("")
        return {row["agent"]: row for row in cells.to_dict("records")}


def optout_audit(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [str(BIN / "optout-audit"), *args], capture_output=True, text=True, timeout=timeout, env=env, **kwargs
    )


def read_run(run_dir: Path, completed: subprocess.CompletedProcess | None = None) -> Run:
    records = {}
    for line in (run_dir / "audit.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        records[record["domain"] or record["input"]] = record
    with (run_dir / "domains.csv").open(newline="", encoding="utf-8") as handle:
        domains = {row["domain"] or row["input"]: row for row in csv.DictReader(handle)}
    return Run(run_dir, records, domains, completed)


def crawl(farm, lines: list[str], run_dir: Path, *extra: str, timeout: str = "3") -> Run:
    run_dir.mkdir(parents=True, exist_ok=True)
    input_path = run_dir.parent / (run_dir.name + "-input.txt")
    input_path.write_text("\n".join(lines) + "\n", "utf-8")
    completed = optout_audit(
        "crawl",
        str(input_path),
        "--out",
        str(run_dir),
        "--hosts-file",
        str(farm.hosts_file),
        "--timeout",
        timeout,
        *extra,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return read_run(run_dir, completed)
