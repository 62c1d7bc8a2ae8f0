"""Run.open records its list from one read; Run.finish calls a run missing one record never ``finished``.

The list holds only invalid lines (one of them twice: invalid lines are not deduplicated), a
comment and a blank line, so its records are real ones made without a crawl:
:func:`optout_audit.record.invalid_record` for each entry, as the spider writes them. The entries
are counted by the crawl (``run.entries``, as the spider reports them) or, when the crawl stopped
before reading the list whole, by finish itself.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from optout_audit.app import run as run_module
from optout_audit.app.inputs import InputEntries, InvalidLine
from optout_audit.app.run import CrawlOptions, Run, RunInterrupted
from optout_audit.record import invalid_record

LIST = b"\xef\xbb\xbfnot a url\r\n# a comment\r\n\r\nftp://files.example/\r\nnot a url\r\n"
ENTRIES = 3  # lines 1, 4 and 5


def _open(tmp_path) -> Run:
    path = tmp_path / "sites.txt"
    path.write_bytes(LIST)
    return Run.open(CrawlOptions(input=path, out=tmp_path / "run", archive=False))


def _write_records(run: Run, leave_out: int = 0) -> int:
    """The records of the run's entries as the spider writes them, but the last ``leave_out``; returns the count."""
    entries = InputEntries(run.options.input)
    lines = []
    for entry in entries:
        assert isinstance(entry, InvalidLine)
        record = invalid_record(entry.input, entry.line, entry.reason, "2026-12-01T00:00:00Z")
        lines.append(json.dumps(record.to_dict()) + "\n")
    kept = lines[: len(lines) - leave_out]
    run.audit_path.write_text("".join(kept), "utf-8")
    return entries.count


def _record(run: Run) -> dict:
    return json.loads((run.dir / "run.json").read_text("utf-8"))


def test_open_records_the_list_from_one_read(tmp_path):
    run = _open(tmp_path)
    record = _record(run)
    assert record["state"] == "running"
    assert record["input_sha256"] == hashlib.sha256(LIST).hexdigest()
    assert record["input_lines"] == 3 == run.total_lines
    assert (run.dir / record["input_copy"]).read_bytes() == LIST
    assert run.entries is None  # no crawl has read the list yet


def test_complete_run_finishes_on_the_crawls_count(tmp_path, monkeypatch):
    run = _open(tmp_path)
    run.entries = _write_records(run)
    assert run.entries == ENTRIES

    def no_second_parse(path):
        raise AssertionError("finish parsed the list again")

    monkeypatch.setattr(run_module, "count_entries", no_second_parse)
    run.finish()
    record = _record(run)
    assert record["state"] == "finished" and record["interrupted"] is None
    assert record["sites"] == ENTRIES and record["duplicate_lines"] == 0


@pytest.mark.parametrize("counted_by_the_crawl", [True, False])
def test_one_record_missing_is_incomplete(tmp_path, counted_by_the_crawl):
    run = _open(tmp_path)
    count = _write_records(run, leave_out=1)
    run.entries = count if counted_by_the_crawl else None
    with pytest.raises(RunInterrupted) as stopped:
        run.finish()
    assert (stopped.value.reason, stopped.value.audited, stopped.value.total) == ("incomplete", ENTRIES - 1, ENTRIES)
    record = _record(run)
    assert record["state"] == "interrupted" and record["finished_at"] is None
    assert record["interrupted"]["reason"] == "incomplete"
    assert (record["interrupted"]["audited"], record["interrupted"]["sites"]) == (ENTRIES - 1, ENTRIES)


def test_a_stopped_crawl_is_interrupted_with_the_count_of_finish(tmp_path):
    run = _open(tmp_path)
    _write_records(run, leave_out=2)
    with pytest.raises(RunInterrupted) as stopped:
        run.finish(stopped_by="closespider_timeout")
    assert (stopped.value.reason, stopped.value.audited, stopped.value.total) == ("closespider_timeout", 1, ENTRIES)
    assert _record(run)["interrupted"]["sites"] == ENTRIES
