"""``optout-audit runs [DIR]``: the run folders under DIR, one line each, oldest first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crawling import optout_audit

from optout_audit.report.runs import RUN_COLUMNS, find_runs, run_records, run_table

SHA = "ab" * 32
HEADER = ("run          run_id  state        started_at            finished_at           sites  ok  unreachable  "
          "timeout  error  invalid_input  input_sha256  input")  # fmt: skip
LINES = [
    HEADER,
    "2026-11-01   aaa111  finished     2026-11-01T03:00:00Z  2026-11-01T03:20:00Z      4   2            1  "
    "      0      0              1  abababababab  sites.txt",
    "scrapyd-job          no run.json  2026-11-05T03:00:00Z                            3",
    "2026-11-08   bbb222  incomplete   2026-11-08T03:00:00Z                                                   "
    "                            abababababab  sites.txt",
]


def _run(base: Path, name: str, record: dict | None, records: list[dict]) -> None:
    folder = base / name
    folder.mkdir(parents=True)
    if record is not None:
        (folder / "run.json").write_text(json.dumps(record), "utf-8")
    (folder / "audit.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")


@pytest.fixture
def workdir(tmp_path):
    reports = tmp_path / "reports"
    _run(
        reports,
        "2026-11-08",
        {
            "run_id": "bbb222",
            "started_at": "2026-11-08T03:00:00Z",
            "finished_at": None,
            "input": "sites.txt",
            "input_sha256": SHA,
        },
        [{}, {}],
    )  # interrupted
    _run(
        reports,
        "2026-11-01",
        {
            "run_id": "aaa111",
            "started_at": "2026-11-01T03:00:00Z",
            "finished_at": "2026-11-01T03:20:00Z",
            "input": "sites.txt",
            "input_sha256": SHA,
            "tool_version": "0.1.0",
            "agent_list": "list",
            "sites": 4,
            "counts_by_status": {"ok": 2, "unreachable": 1, "invalid_input": 1},
        },
        [{}] * 4,
    )
    # a scrapyd job's feed: an audit.jsonl without run.json
    _run(reports, "scrapyd-job", None, [{"started_at": "2026-11-05T03:00:00Z", "status": "ok"}] * 3)
    (reports / "notes").mkdir()
    (reports / "trends.csv").write_text("run\n", "utf-8")
    return tmp_path  # fmt: skip


def test_runs_lists_every_run_folder_oldest_first(workdir):
    completed = optout_audit("runs", cwd=workdir)  # DIR defaults to reports/
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == LINES


def test_runs_of_one_run_folder(workdir):
    completed = optout_audit("runs", "reports/2026-11-01", cwd=workdir)
    header, *rows = completed.stdout.splitlines()
    assert (header.split(), [row.split() for row in rows]) == (HEADER.split(), [LINES[1].split()])


def test_runs_of_a_folder_without_runs(tmp_path):
    completed = optout_audit("runs", str(tmp_path))
    assert (completed.returncode, completed.stdout) == (
        0,
        f"no runs in {tmp_path}/ (a run folder holds run.json or audit.jsonl)\n",
    )


def test_run_table_as_a_dataframe(workdir):
    table = run_records(find_runs(workdir / "reports")).pipe(run_table)
    assert list(table.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    assert table["run"].tolist() == ["2026-11-01", "scrapyd-job", "2026-11-08"]
    assert table["sites"].isna().tolist() == [False, False, True]
    assert table["sites"].iloc[:2].tolist() == [4, 3]
    assert table.loc[0, "ok"] == 2 and table.loc[0, "timeout"] == 0
