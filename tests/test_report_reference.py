"""The report stage against a reference written by the code it replaced (tests/fixtures/report-reference).

Every column the old reports had must come out byte for byte: domains.csv rows are the old rows
with the new columns after them; domain_agents.csv keeps the old rows of named agents, and its
expansion gives the old file back; agents.csv is the same file; signals.csv and summary.csv keep
every old row (signals.csv adds the zero-count signals).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from optout_audit.report import REPORT_COLUMNS, build_reports
from optout_audit.report.agents import OTHER_AGENTS
from optout_audit.report.load import domain_agents
from optout_audit.report.write import csv_text

REFERENCE = Path(__file__).parent / "fixtures" / "report-reference"
OLD = REFERENCE / "old"
STAMP = "2026-09-01T12:00:00Z"


def rows(data: bytes) -> list[bytes]:
    """A CSV file's rows as bytes (a quoted line feed kept inside its row), header first."""
    out, part = [], None
    for line in data.split(b"\n")[:-1]:
        part = line if part is None else part + b"\n" + line
        if part.count(b'"') % 2 == 0:
            out.append(part)
            part = None
    assert part is None
    return out


@pytest.fixture(scope="module", params=[7, 20_000], ids=["chunks-of-7", "one-chunk"])
def new(request, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("reference")
    shutil.copy(REFERENCE / "audit.jsonl", run / "audit.jsonl")
    build_reports(run, chunksize=request.param, generated_at=STAMP)
    return run


def test_domains_rows_are_the_old_rows_then_the_new_columns(new: Path) -> None:
    old, now = rows((OLD / "domains.csv").read_bytes()), rows((new / "domains.csv").read_bytes())
    assert len(old) == len(now) == 74 + 1
    added = len(REPORT_COLUMNS["domains.csv"]) - old[0].count(b",") - 1
    assert added == 13  # the 8 headline agents, unread_sources and the four later documents' statuses
    for before, after in zip(old, now, strict=True):
        assert after.startswith(before + b","), before
        assert after.count(b",") - before.count(b",") == added or b'"' in after


def test_domain_agents_keeps_the_old_rows_of_named_agents(new: Path) -> None:
    old = set(rows((OLD / "domain_agents.csv").read_bytes()))
    now = rows((new / "domain_agents.csv").read_bytes())
    named = [row for row in now[1:] if row.split(b",")[1] != OTHER_AGENTS.encode()]
    assert len(named) == 241 and len(now) - 1 - len(named) == 68
    assert all(row in old for row in named)


def test_expanded_domain_agents_is_the_old_file(new: Path) -> None:
    expanded = domain_agents(new, expand=True)
    written = ",".join(expanded.columns) + "\n" + csv_text(expanded)
    assert written.encode("utf-8") == (OLD / "domain_agents.csv").read_bytes()


def test_agents_csv_is_the_old_file(new: Path) -> None:
    assert (new / "agents.csv").read_bytes() == (OLD / "agents.csv").read_bytes()


@pytest.mark.parametrize("name", ["signals.csv", "summary.csv"])
def test_every_old_row_is_kept(new: Path, name: str) -> None:
    now = set(rows((new / name).read_bytes()))
    assert all(row in now for row in rows((OLD / name).read_bytes()))
