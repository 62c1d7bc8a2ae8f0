"""Run one client process and measure it: wall time, CPU (user+sys, its children included), peak RSS.

CPU comes from ``os.wait4``, whose resource usage covers the process and every descendant it
waited for (the ``--workers`` children of ``optout-audit crawl``). Peak RSS is reported twice:
the largest single process (``ru_maxrss``) and the largest sum over the live process tree,
sampled every 100 ms from /proc (what ``--workers`` costs in memory as a whole). The sum adds each
process's proportional set size (PSS), so that pages a forked child shares with its parent (the
report stage's workers) count once, not once per process.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    wall: float  # seconds, launch to exit
    user: float
    system: float
    max_rss_mb: float  # largest single process
    tree_rss_mb: float  # largest sum over the live process tree (sampled)
    returncode: int

    @property
    def cpu(self) -> float:
        return self.user + self.system


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid``: its PSS where the kernel gives it, else its RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def cpu_seconds(pid: int) -> float:
    """user+sys of ``pid`` and its live descendants, and of the children they reaped."""
    total = 0.0
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / _TICK  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            pass
    return total


def busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores; /proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / _TICK


def run(argv: list[str], log: Path, *, env: dict | None = None, cwd: Path | None = None, on_start=None) -> Measured:
    """Run ``argv`` (stdout+stderr to ``log``) to completion and measure it."""
    peak = [0]
    with log.open("wb") as out:
        start = time.monotonic()
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )
        if on_start is not None:
            on_start(process)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], sum(rss_bytes(p) for p in tree(process.pid)))
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024, peak[0] / 2**20, process.returncode)
