"""The report stage's worker processes (report/build.py chunk_reports): never a fork of the process
building the reports, which may be the crawl with its event loop's threads still alive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optout_audit.auditfile import Span, line_spans
from optout_audit.report import build_reports
from optout_audit.report.build import WORKERS, chunk_report, chunk_reports
from optout_audit.report.synthetic import write_synthetic_audit

STAMP = "2026-09-01T12:00:00Z"
REPORT_FILES = ("domains.csv", "domain_agents.csv", "agents.csv", "signals.csv", "summary.csv", "conflicts.csv",
                "report.html")  # fmt: skip

# Run in a process of its own: an extra thread stays alive (as libuv's do in the crawl process), and
# an audit hook records every fork (os.fork) of this process; the thread counts the worker processes
# (new interpreters: multiprocessing's spawn_main).
BUILD_WITH_A_LIVE_THREAD = textwrap.dedent(
    """
    import json, sys, threading
    events = []
    sys.addaudithook(lambda event, args: events.append([event]) if event == "os.fork" else None)
    import os, pathlib
    workers = set()
    def watch():  # a thread alive while the reports are built, noting the worker processes it sees
        while not stop.is_set():
            for task in os.listdir("/proc/self/task"):
                for pid in pathlib.Path(f"/proc/self/task/{task}/children").read_text().split():
                    try:
                        if b"spawn_main" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes():
                            workers.add(pid)
                    except OSError:
                        pass
            stop.wait(0.01)
    stop = threading.Event()
    threading.Thread(target=watch, name="still-alive", daemon=True).start()
    from optout_audit.report import build_reports
    build_reports(sys.argv[1], chunksize=int(sys.argv[2]), generated_at=sys.argv[3])
    stop.set()
    events.append(["workers", len(workers)])
    print(json.dumps([event for event in events if event]))
    """
)


@pytest.fixture(scope="module")
def synthetic_audit(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "audit.jsonl"
    write_synthetic_audit(path, 600, seed=5)
    return path


def _run_folder(base: Path, name: str, audit: Path) -> Path:
    run = base / name / "run"  # (report.html names the folder: the same name everywhere)
    run.mkdir(parents=True)
    (run / "audit.jsonl").write_bytes(audit.read_bytes())
    return run


def _build_in_a_process(run: Path, chunksize: int, cwd: Path) -> list[list[str]]:
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", BUILD_WITH_A_LIVE_THREAD, str(run), str(chunksize),
         STAMP],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_a_threaded_process_builds_its_reports_without_forking(synthetic_audit: Path, tmp_path: Path) -> None:
    run = _run_folder(tmp_path, "workers", synthetic_audit)
    events = _build_in_a_process(run, chunksize=50, cwd=tmp_path)
    assert ["os.fork"] not in events  # a fork here would copy the live thread's locks into the worker
    assert events == [["workers", WORKERS]]
    here = _run_folder(tmp_path, "here", synthetic_audit)
    build_reports(here, chunksize=10_000, generated_at=STAMP)  # one chunk: no worker
    for name in REPORT_FILES:
        assert (run / name).read_bytes() == (here / name).read_bytes(), name


def test_workers_run_this_code_whatever_the_working_directory(synthetic_audit: Path, tmp_path: Path) -> None:
    # Another optout_audit in the working directory: the workers must not import it (python -P).
    decoy = tmp_path / "elsewhere" / "optout_audit"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the working directory was imported')\n")
    run = _run_folder(tmp_path, "cwd", synthetic_audit)
    env = {**os.environ, "PYTHONPATH": ""}
    code = f"from optout_audit.report import build_reports; build_reports({str(run)!r}, chunksize=100)"
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], cwd=decoy.parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len((run / "domains.csv").read_bytes().splitlines()) == 600 + 1


def test_results_come_in_file_order(synthetic_audit: Path) -> None:
    spans = list(line_spans(synthetic_audit, 70))
    assert len(spans) == 9
    computed = list(chunk_reports(synthetic_audit, 70))
    assert [report.rows for report in computed] == [chunk_report(synthetic_audit, span).rows for span in spans]


def test_an_exception_in_a_worker_is_raised_here(tmp_path: Path, monkeypatch) -> None:
    import optout_audit.report.build as build

    missing = tmp_path / "gone.jsonl"
    monkeypatch.setattr(build, "line_spans", lambda path, size: iter([Span(0, 10, 0)] * 3))
    with pytest.raises(FileNotFoundError):
        list(chunk_reports(missing, 10))


def _workers() -> list[int]:
    """This process's children that are the pool's workers."""
    workers = []
    for task in os.listdir("/proc/self/task"):
        for pid in Path(f"/proc/self/task/{task}/children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(int(pid))
    return workers


def test_a_worker_that_dies_is_an_error_not_a_hang(synthetic_audit: Path) -> None:
    from concurrent.futures.process import BrokenProcessPool

    results = chunk_reports(synthetic_audit, 50)
    next(results)
    workers = _workers()
    assert len(workers) == WORKERS
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        list(results)
