"""The report's fast paths write exactly what the pandas path writes.

build_reports computes a chunk of records in plain Python when every record fits the typed schema
(optout_audit/report/fastpath.py) and through pandas otherwise (report/chunk.py), in worker
processes for a large file (report/parallel.py), and writes with O_DIRECT (report/write.py).
tests/test_report.py checks the files themselves; this file checks that each shortcut changes
nothing: hypothesis records full of formula starts, quotes, line breaks, nulls, duplicate and
unlisted agents go through both paths and must give the same bytes and counts.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_audit.report import REPORT_COLUMNS, build_reports, parallel
from optout_audit.report.chunk import ChunkResult, pandas_chunk
from optout_audit.report.csvsafe import cell_texts, text_cell
from optout_audit.report.expand import Irregular, agent_text
from optout_audit.report.fastpath import fast_chunk
from optout_audit.report.read import AuditReader
from optout_audit.report.synthetic import write_synthetic_audit
from optout_audit.report.write import DirectFile

SMALL = Path(__file__).parent / "fixtures" / "audit" / "small"
STAMP = "2026-09-01T12:00:00Z"

_TEXT = st.text(alphabet=st.sampled_from("=+-@\t\r\n,\"'aé; "), max_size=5)
_MAYBE_TEXT = st.none() | _TEXT
_MAYBE_BOOL = st.none() | st.booleans()
_MAYBE_INT = st.none() | st.integers(-5, 10**12)
_VERDICT = st.none() | st.sampled_from(["full", "partial", "none", "unknown", "", "=x"])
_AGENT = st.none() | st.sampled_from(["GPTBot", "CCBot", "ClaudeBot", "ChatGPT-User", "NotListedBot", "*"])
_RESULT = st.fixed_dictionaries(
    {}, optional={"agent": _AGENT, "verdict": _VERDICT, "named": _MAYBE_BOOL, "via": _MAYBE_TEXT,
                  "rule": _MAYBE_TEXT, "line": _MAYBE_INT},
)  # fmt: skip
_FETCH = st.none() | st.fixed_dictionaries(
    {}, optional={"status": st.none() | st.sampled_from(["ok", "missing", "-x"]), "http_status": _MAYBE_INT,
                  "url": st.integers()},  # a field no report reads, of any type
)  # fmt: skip
_SIGNALS = st.none() | st.lists(st.sampled_from(["noai", "tdm_reservation", "robots_blocks_all", "=evil", ""]))
_VERDICT_DICT = st.none() | st.fixed_dictionaries(
    {}, optional={"reserves_ai_training": st.none() | st.sampled_from(["yes", "no", "partial", "unknown", "+1"]),
                  "reservation_signals": _SIGNALS, "blocks_all_crawlers": _MAYBE_BOOL, "noai": _MAYBE_BOOL,
                  "noimageai": _MAYBE_BOOL, "tdm_reservation": st.none() | st.integers(-1, 2),
                  "tdm_source": _MAYBE_TEXT, "tdm_policy": _MAYBE_TEXT, "content_signal": _MAYBE_TEXT,
                  "content_usage": _MAYBE_TEXT, "signals": _SIGNALS},
)  # fmt: skip
_RECORD = st.fixed_dictionaries(
    {"domain": st.none() | st.sampled_from(["a.test", "b.test", "", "=c.test", "d,e", 'q"t']),
     "status": st.none() | st.sampled_from(["ok", "invalid_input", "timeout", "@x"])},
    optional={"input": _MAYBE_TEXT, "line": _MAYBE_INT, "registered_domain": _MAYBE_TEXT, "url": _MAYBE_TEXT,
              "fault": _MAYBE_TEXT, "error": _MAYBE_TEXT, "started_at": _MAYBE_TEXT, "finished_at": _MAYBE_TEXT,
              "robots": _FETCH, "home": _FETCH, "tdmrep": _FETCH, "aitxt": _FETCH, "own_access": _MAYBE_BOOL,
              "crawl_delay": st.none() | st.floats(0, 10), "agents": st.none() | st.lists(_RESULT, max_size=4),
              "other_agents": st.none() | _RESULT, "verdict": _VERDICT_DICT, "page": st.just({"noai": "x"})},
)  # fmt: skip


def agent_rows(chunk: ChunkResult) -> bytes:
    """The chunk's domain_agents.csv rows, as build_reports writes them."""
    pieces = [agent_text(key) for key in chunk.keys]
    return chunk.agent_text + b"".join(cell.join(pieces[key]) for cell, key in zip(chunk.cells, chunk.site_keys))


def assert_same(fast: ChunkResult, slow: ChunkResult) -> None:
    assert fast.domains.decode() == slow.domains.decode()
    assert agent_rows(fast).decode() == agent_rows(slow).decode()
    np.testing.assert_array_equal(fast.verdicts, slow.verdicts)
    assert +Counter(fast.signals) == +Counter(slow.signals)
    assert +Counter(fast.sites) == +Counter(slow.sites)
    assert (fast.lines, fast.unreadable) == (slow.lines, slow.unreadable)


@settings(deadline=None, max_examples=300)
@given(st.lists(_RECORD | st.sampled_from(["", "  ", "[1]", '{"cut', "\ufeff{}", "NaN"]), max_size=8))
def test_fast_chunk_is_the_pandas_chunk(records: list) -> None:
    lines = [(json.dumps(r) if isinstance(r, dict) else r).encode() + b"\n" for r in records]
    try:
        fast = fast_chunk(lines)
    except Irregular:
        return  # the pandas path computes this chunk
    assert_same(fast, pandas_chunk(lines))


@pytest.mark.parametrize(
    "change",
    [{"domain": 5}, {"line": "3"}, {"tdm": 2**60 + 1}, {"agent_line": 2**60 + 1}, {"nan": True}],
)
def test_records_outside_the_schema_take_the_pandas_path(change: dict, tmp_path: Path) -> None:
    record = json.loads((SMALL / "audit.jsonl").read_text("utf-8").splitlines()[0])
    if "domain" in change or "line" in change:
        record.update(change)
    elif "tdm" in change:
        record["verdict"]["tdm_reservation"] = change["tdm"]
    elif "agent_line" in change:
        record["agents"][0]["line"] = change["agent_line"]
    text = json.dumps(record)
    if "nan" in change:
        text = text.replace('"crawl_delay": null', '"crawl_delay": NaN')  # json reads it, msgspec does not
    lines = [text.encode() + b"\n"]
    with pytest.raises(Irregular):
        fast_chunk(lines)
    (tmp_path / "audit.jsonl").write_bytes(lines[0])
    build_reports(tmp_path, generated_at=STAMP)
    header = ",".join(REPORT_COLUMNS["domains.csv"]).encode() + b"\n"
    assert (tmp_path / "domains.csv").read_bytes() == header + pandas_chunk(lines).domains


@settings(deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("=+-@\t\r\nab,\"'é "), max_size=6), max_size=8))
def test_text_cell_is_cell_texts(values: list[str]) -> None:
    codes, texts = cell_texts(pd.Series(values, dtype="str"))
    assert [text_cell(value) for value in values] == [texts[code] for code in codes]


def test_line_numbers_of_unreadable_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = (SMALL / "audit.jsonl").read_bytes().splitlines()
    text = b"\r\n".join(good[:2]) + b"\r\n\rnot json\r" + good[2] + b"\n[1]\n\n" + b"\n".join(good[3:]) + b"\n{\"cut"
    (tmp_path / "audit.jsonl").write_bytes(text)
    reader = AuditReader(tmp_path / "audit.jsonl", 3)
    records = [record for chunk in reader for record in chunk]
    for chunksize in (1, 3, 100):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="optout_audit.report.read"):
            build_reports(tmp_path, chunksize=chunksize, generated_at=STAMP)
        logged = [record.args["line"] for record in caplog.records]
        assert logged == reader.unreadable_lines == [4, 6, 14]
    domains = pd.read_csv(tmp_path / "domains.csv", dtype=str, keep_default_na=False)
    assert len(domains) == len(records) == 9


def test_worker_processes_write_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        write_synthetic_audit(tmp_path / name / "audit.jsonl", 3_000, seed=3)
    lines = (tmp_path / "two" / "audit.jsonl").read_text("utf-8").splitlines(keepends=True)
    lines[1500] = lines[1500].replace('"line": 1501', '"line": "1501"')  # one chunk through pandas
    for name in ("one", "two"):
        (tmp_path / name / "audit.jsonl").write_text("".join(lines), "utf-8")
    build_reports(tmp_path / "one", chunksize=250, generated_at=STAMP, workers=1)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    build_reports(tmp_path / "two", chunksize=250, generated_at=STAMP, workers=2)
    for path in (tmp_path / "one").glob("*.csv"):
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes(), path.name


@pytest.mark.parametrize("direct", [True, False])
def test_direct_file_writes_every_byte_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool) -> None:
    monkeypatch.setattr(DirectFile, "BLOCK", 8192)
    if not direct:
        monkeypatch.setattr("optout_audit.report.write._set_direct", lambda fd, on: False)
    pieces = [bytes([65 + i % 26]) * (i * 37 % 9000) for i in range(300)]
    out = DirectFile(tmp_path / "out")
    out.write_all(pieces)
    out.close()
    assert (tmp_path / "out").read_bytes() == b"".join(pieces)


def test_fixture_run_domain_agents_is_the_pandas_paths(tmp_path: Path) -> None:
    shutil.copytree(SMALL, tmp_path / "run")
    build_reports(tmp_path / "run", generated_at=STAMP)
    lines = (tmp_path / "run" / "audit.jsonl").read_bytes().splitlines(keepends=True)
    assert (tmp_path / "run" / "domain_agents.csv").read_bytes().split(b"\n", 1)[1] == pandas_chunk(lines).agent_text


@pytest.mark.skipif(sys.platform != "linux", reason="fork and forkserver are chosen on Linux only")
def test_workers_start_from_a_fork_server_beside_other_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A crawl or a scrapyd job builds its reports in a process with threads: no plain fork then.
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        write_synthetic_audit(tmp_path / name / "audit.jsonl", 1_000, seed=5)
    build_reports(tmp_path / "one", chunksize=100, generated_at=STAMP, workers=1)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait)
    waiting.start()
    try:
        assert parallel._context().get_start_method() == "forkserver"
        build_reports(tmp_path / "two", chunksize=100, generated_at=STAMP, workers=2)
    finally:
        stop.set()
        waiting.join()
    for path in (tmp_path / "one").glob("*.csv"):
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes(), path.name
