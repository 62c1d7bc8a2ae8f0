"""optout_audit.load_run: a run's reports read back with pandas' nullable dtypes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import optout_audit
from optout_audit.report import build_reports
from optout_audit.report.signals import KNOWN_SIGNALS

SMALL = Path(__file__).parent / "fixtures" / "audit" / "small"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("small")
    shutil.copy(SMALL / "audit.jsonl", run / "audit.jsonl")
    build_reports(run, generated_at="2026-09-01T12:00:00Z")
    return run


def test_importing_the_package_does_not_load_pandas():
    code = "import sys, optout_audit; assert callable(optout_audit.load_run); print('pandas' in sys.modules)"
    lazy = "import sys, optout_audit; print('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", lazy], capture_output=True, text=True, check=True).stdout == "False\n"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "True\n"


def test_domains_are_typed(run):
    domains = optout_audit.load_run(run).domains
    dtypes = domains.dtypes.astype(str)
    assert dtypes["blocks_all_crawlers"] == dtypes["noai"] == dtypes["own_access"] == "boolean"
    assert dtypes["tdm_reservation"] == dtypes["training_agents_full"] == dtypes["robots_http_status"] == "Int64"
    assert dtypes["status"] == dtypes["reserves_ai_training"] == dtypes["gptbot_verdict"] == "category"
    assert dtypes["llmstxt_status"] == dtypes["trusttxt_status"] == dtypes["tdm_policy_status"] == "category"
    assert dtypes["rsl_status"] == "str" and set(domains["rsl_status"]) == {"skipped"}  # (no licence fetched)
    assert dtypes["started_at"] == "datetime64[us, UTC]"
    # empty cells stay unknown, not False or 0
    assert domains["blocks_all_crawlers"].tolist()[:3] == [False, False, pd.NA]
    assert domains["tdm_reservation"].tolist()[:3] == [0, pd.NA, 1]
    assert list(domains["reserves_ai_training"].cat.categories) == ["yes", "partial", "no", "unknown"]
    assert domains["started_at"].iloc[0] == pd.Timestamp("2026-09-01T10:00:00Z")
    assert domains["tdm_policy"].iloc[0] == '\'=HYPERLINK("http://evil.example","click")'  # as written


def test_other_tables_are_typed(run):
    tables = optout_audit.load_run(run)
    assert tables.agents.dtypes.astype(str)[["full", "full_share", "named"]].tolist() == ["Int64", "Float64", "Int64"]
    assert tables.signals["signal"].astype(str).tolist() == list(KNOWN_SIGNALS)
    assert tables.signals["reserving"].dtype == "boolean"
    assert tables.summary["sites"] == 9 and tables.summary["share_reserving"] == 0.75
    assert tables.summary["generated_at"] == pd.Timestamp("2026-09-01T12:00:00Z")
    assert len(tables.domain_agents) == 11
    assert len(optout_audit.load_run(run, expand_agents=True).domain_agents) == 7 * 166


def test_a_run_without_reports(tmp_path):
    (tmp_path / "audit.jsonl").write_text("", "utf-8")
    with pytest.raises(FileNotFoundError, match="optout-audit report"):
        optout_audit.load_run(tmp_path)
