"""``optout-audit history RUNS_DIR``: trends.csv, one row per run with its headline shares.

Three small hand-written runs with shares worked out by hand, and a synthetic run of 1,500
records whose trend figures must agree with what the report stage wrote (agents.csv,
summary.csv, domain_agents.csv), whatever the chunk size.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from crawling import optout_audit

from optout_audit.agents import training_agents
from optout_audit.items import AgentResult, Fetch, SiteAudit
from optout_audit.report import build_reports
from optout_audit.report.history import MAIN_AGENTS, TREND_COLUMNS, run_trends
from optout_audit.report.load import domain_agents
from optout_audit.report.synthetic import write_synthetic_audit


def site(domain, *, status="ok", other="none", named=None, reserves="no", blocks_all=False, tdm=None, noai=False):
    named = named or {}
    robots = Fetch("ok", http_status=200) if status == "ok" else Fetch(status, fault="connection_refused")
    verdict = {"reserves_ai_training": reserves, "reservation_signals": [], "signals": [],
               "blocks_all_crawlers": blocks_all, "noai": noai, "noimageai": noai, "tdm_reservation": tdm,
               "tdm_source": "header" if tdm is not None else "", "tdm_policy": "", "content_signal": "",
               "content_usage": ""}  # fmt: skip
    return SiteAudit(
        input=domain, domain=domain, status=status, robots=robots,
        agents=[AgentResult(agent, value, True, "named") for agent, value in named.items()],
        other_agents=AgentResult("*", other, False, "wildcard" if other != "unknown" else ""),
        verdict=verdict,
    ).to_dict()  # fmt: skip


DOWN = {"status": "unreachable", "other": "unknown", "reserves": "unknown", "blocks_all": None, "noai": None}
INVALID = SiteAudit(input="not a url", status="invalid_input", error="not a host name").to_dict()
EVERY_TRAINING_AGENT_ALLOWED = {agent.name: "none" for agent in training_agents()}

RUNS = {
    # folder: (started_at, records)
    "z-first": ("2026-09-01T06:00:00Z", [
        site("a1.test", named={"GPTBot": "full"}, reserves="yes"),
        site("a2.test", other="full", blocks_all=True, reserves="yes"),
        site("a3.test"),
        site("a4.test", **DOWN),
        INVALID,
    ]),
    "m-third": ("2026-10-01T06:00:00Z", [
        site("b1.test", named={"GPTBot": "full", "ClaudeBot": "partial"}, reserves="yes"),
        site("b2.test", named={"PerplexityBot": "full"}),
        site("b3.test", tdm=1, noai=True, reserves="yes"),
        site("b4.test", named={"GPTBot": "none"}, other="full", blocks_all=True, reserves="yes"),
        # names every training agent (allowed), blocks all others: not "blocking training".
        site("b5.test", named=EVERY_TRAINING_AGENT_ALLOWED, other="full", blocks_all=True, reserves="yes"),
    ]),
    "a-second": ("2026-09-15T06:00:00Z", [site("c1.test", **DOWN)]),  # nothing answered: shares empty
}  # fmt: skip

EXPECTED = {
    "z-first": {"sites": "5", "ok": "3", "robots_read": "3", "share_reserving": "0.666667", "share_partial": "0.0",
                "share_blocks_all_crawlers": "0.333333", "share_tdm_reservation": "0.0", "share_noai": "0.0",
                "share_blocking_training": "0.666667", "share_blocking_search": "0.333333",
                "share_blocking_user_triggered": "0.333333", "share_blocking_other": "0.333333",
                "full_share_GPTBot": "0.666667", "full_share_ClaudeBot": "0.333333",
                "full_share_PerplexityBot": "0.333333", "full_share_CCBot": "0.333333"},
    "a-second": {"sites": "1", "ok": "0", "robots_read": "0", "share_reserving": "", "share_blocking_training": "",
                 "full_share_GPTBot": ""},
    "m-third": {"sites": "5", "ok": "5", "robots_read": "5", "share_reserving": "0.8", "share_partial": "0.0",
                "share_blocks_all_crawlers": "0.4", "share_tdm_reservation": "0.2", "share_noai": "0.2",
                "share_blocking_training": "0.4", "share_blocking_search": "0.6",
                "share_blocking_user_triggered": "0.4", "share_blocking_other": "0.4",
                "full_share_GPTBot": "0.2", "full_share_ClaudeBot": "0.2", "full_share_PerplexityBot": "0.6",
                "full_share_CCBot": "0.2", "full_share_ChatGPT-User": "0.4"},
}  # fmt: skip


def write_run(folder: Path, started_at: str, records: list[dict]) -> Path:
    folder.mkdir(parents=True)
    with (folder / "audit.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    run = {"run_id": f"id-{folder.name}", "started_at": started_at, "finished_at": started_at.replace("06", "07"),
           "agent_list": "test-list", "counts_by_status": {}}  # fmt: skip
    (folder / "run.json").write_text(json.dumps(run), "utf-8")
    return folder


@pytest.fixture
def runs_dir(tmp_path):
    for name, (started_at, records) in RUNS.items():
        write_run(tmp_path / "reports" / name, started_at, records)
    (tmp_path / "reports" / "not-a-run").mkdir()
    return tmp_path / "reports"


def test_trends_csv_has_one_row_per_run_oldest_first_with_exact_shares(runs_dir):
    completed = optout_audit("history", str(runs_dir))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"trends of 3 runs written to {runs_dir / 'trends.csv'}\n"
    with (runs_dir / "trends.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == TREND_COLUMNS
        rows = list(reader)
    assert [row["run"] for row in rows] == ["z-first", "a-second", "m-third"]  # by started_at
    for row in rows:
        assert row["run_id"] == f"id-{row['run']}" and row["agent_list"] == "test-list"
        for column, value in EXPECTED[row["run"]].items():
            assert row[column] == value, (row["run"], column)


def test_out_option(runs_dir, tmp_path):
    out = tmp_path / "elsewhere.csv"
    completed = optout_audit("history", str(runs_dir), "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    assert out.is_file() and not (runs_dir / "trends.csv").exists()


def test_trends_read_into_pandas_for_plotting(runs_dir):
    trends = run_trends(sorted(path for path in runs_dir.iterdir() if (path / "audit.jsonl").exists()))
    frame = pd.read_csv(io.StringIO(trends.to_csv(index=False)), parse_dates=["started_at"])
    assert frame["share_reserving"].tolist()[::2] == [0.666667, 0.8]
    assert frame["started_at"].is_monotonic_increasing


def test_a_folder_without_runs_is_a_usage_error(tmp_path):
    completed = optout_audit("history", str(tmp_path))
    assert completed.returncode == 2
    assert completed.stderr == f"optout-audit: error: no runs with an audit.jsonl in {tmp_path}\n"


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("synthetic") / "run"
    run_dir.mkdir()
    write_synthetic_audit(run_dir / "audit.jsonl", 1_500, seed=7)
    build_reports(run_dir)
    return run_dir


def test_trend_figures_agree_with_the_run_reports(synthetic_run):
    (trend,) = run_trends([synthetic_run]).to_dict("records")
    agents = pd.read_csv(synthetic_run / "agents.csv").set_index("agent")
    summary = pd.read_csv(synthetic_run / "summary.csv").set_index("metric")["value"]
    assert trend["share_reserving"] == float(summary["share_reserving"])
    assert trend["ok"] == int(summary["ok"])
    for agent in MAIN_AGENTS:
        assert trend[f"full_share_{agent}"] == agents.loc[agent, "full_share"], agent
    rows = domain_agents(synthetic_run, expand=True)
    read = rows[rows["verdict"] != "unknown"]
    for purpose in ("training", "search", "user-triggered", "other"):
        blocking = read[read["purpose"] == purpose].groupby("domain")["verdict"].agg(lambda v: (v == "full").any())
        assert trend["share_blocking_" + purpose.replace("-", "_")] == round(blocking.mean(), 6), purpose
    assert trend["robots_read"] == read["domain"].nunique()


def test_trend_figures_do_not_depend_on_the_chunk_size(synthetic_run):
    pd.testing.assert_frame_equal(run_trends([synthetic_run], chunksize=97), run_trends([synthetic_run]))
