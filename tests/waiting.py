"""Waiting for a crawl in another process to get somewhere: its audit files hold N records.

For the tests that act on a running crawl (a signal, a kill) once it has written some records.
Shared like tests/crawling.py (tests/conftest.py puts tests/ on the import path).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from optout_audit.auditfile import AUDIT_FILE

__all__ = ["audit_lines", "wait_for_records"]


def audit_lines(run_dir: Path) -> int:
    """Newline-ended lines in every audit.jsonl under ``run_dir``: the run's own and its shards' (--workers)."""
    lines = 0
    for path in Path(run_dir).rglob(AUDIT_FILE):
        try:
            lines += path.read_bytes().count(b"\n")
        except FileNotFoundError:
            continue  # a shard merged and removed meanwhile: its records are in the run's own file
    return lines


def wait_for_records(
    run_dir: Path,
    count: int,
    process: subprocess.Popen,
    limit: float = 120.0,
    detail: Callable[[], str] | None = None,
) -> int:
    """Wait until ``run_dir`` holds ``count`` records; return how many it holds then.

    Fails if ``process`` (the crawl) exits first, or after ``limit`` seconds; ``detail`` gives
    what to add to the failure (e.g. the processes' output).
    """
    deadline = time.monotonic() + limit
    found = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the crawl ended before the test could act: {process.returncode}{_more(detail)}")
        found = audit_lines(run_dir)
        if found >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"the crawl made no progress: {found} of {count} records in {limit:g} s{_more(detail)}")


def _more(detail: Callable[[], str] | None) -> str:
    return f"\n{detail()}" if detail else ""
