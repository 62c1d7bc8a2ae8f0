"""The report stage's worker processes (optout_audit/report/workers.py): never a fork of the process
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
from optout_audit.report.build import WORKERS, chunk_report
from optout_audit.report.synthetic import write_synthetic_audit
from optout_audit.report.workers import WorkerError, computed_in_order

STAMP = "2026-09-01T12:00:00Z"
REPORT_FILES = ("domains.csv", "domain_agents.csv", "agents.csv", "signals.csv", "summary.csv", "conflicts.csv",
                "report.html")  # fmt: skip

# Run in a process of its own: an extra thread stays alive (as libuv's do in the crawl process), and
# an audit hook records every fork (os.fork) and every process started (subprocess.Popen).
BUILD_WITH_A_LIVE_THREAD = textwrap.dedent(
    """
    import json, sys, threading
    events = []
    sys.addaudithook(lambda event, args: events.append([event, str(args[1])] if event == "subprocess.Popen"
                                         else [event] if event == "os.fork" else None))
    stop = threading.Event()
    threading.Thread(target=stop.wait, name="still-alive", daemon=True).start()
    from optout_audit.report import build_reports
    build_reports(sys.argv[1], chunksize=int(sys.argv[2]), generated_at=sys.argv[3])
    stop.set()
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
    started = [args for event, *args in events if event == "subprocess.Popen"]
    assert len(started) == WORKERS and all("optout_audit.report.workers import main" in args[0] for args in started)
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


def test_results_come_in_request_order(synthetic_audit: Path) -> None:
    spans = list(line_spans(synthetic_audit, 70))
    assert len(spans) == 9
    computed = list(computed_in_order(((synthetic_audit, span) for span in spans), WORKERS))
    assert [report.rows for report in computed] == [chunk_report(synthetic_audit, span).rows for span in spans]


def test_an_exception_in_a_worker_is_raised_here_with_its_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "gone.jsonl"
    with pytest.raises(FileNotFoundError) as raised:
        list(computed_in_order([(missing, Span(0, 10, 0))] * 3, WORKERS))
    assert isinstance(raised.value.__cause__, WorkerError)
    assert "Traceback" in str(raised.value.__cause__) and "read_span" in str(raised.value.__cause__)


def _worker_pids() -> list[int]:
    children = []
    for task in os.listdir("/proc/self/task"):
        children += [int(pid) for pid in Path(f"/proc/self/task/{task}/children").read_text().split()]
    return [pid for pid in children if b"optout_audit.report.workers" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_a_worker_that_dies_is_an_error_not_a_hang(synthetic_audit: Path) -> None:
    results = computed_in_order(((synthetic_audit, span) for span in line_spans(synthetic_audit, 50)), WORKERS)
    next(results)
    workers = _worker_pids()
    assert len(workers) == WORKERS
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerError, match="ended"):
        list(results)
    assert _worker_pids() == []  # killed and waited for
