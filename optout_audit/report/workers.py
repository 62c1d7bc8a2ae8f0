"""The report stage's worker processes: each a new interpreter running :func:`main`.

They are started with :mod:`subprocess` (fork and exec at once), never forked from the process
that builds the reports. That process may be the crawl, whose event loop keeps a pool of threads
(libuv's), and a fork copies every lock another thread holds at that moment, held for good in the
child (Python 3.12 warns: "use of fork() may lead to deadlocks in the child"). multiprocessing's
``spawn`` and ``forkserver`` would also avoid the fork, but each worker re-imports the parent's
``__main__``: a script calling ``build_reports`` without the ``if __name__ == "__main__"`` guard
would then start workers without end. A worker imports only the report code.

A worker reads requests from stdin, one pickle each, and answers each on its stdout in turn: the
result, or the exception it raised with its traceback. Its own output (``print``, warnings) goes
to stderr. It ignores SIGINT: Ctrl-C is the main process's to handle (it ends the workers; a worker
would print a traceback). It runs without the cyclic collector: a chunk allocates millions of small
objects, none in a cycle (:func:`~optout_audit.report.build.chunk_report` collects the young
generation once per chunk).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["WorkerError", "computed_in_order"]

#: The folder holding the optout_audit package this process runs: the workers run the same code.
_CODE_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerError(RuntimeError):
    """A worker process ended without answering (killed, out of memory ...)."""


def computed_in_order(requests: Iterable[tuple[Any, ...]], workers: int) -> Iterator[Any]:
    """``chunk_report(*request)`` of every request, computed by ``workers`` processes, in request order.

    At most ``workers + 1`` requests are in flight (one being computed per worker, one waiting): the
    results not yet taken are bounded, whatever the number of requests. An exception raised in a
    worker is raised here, with the worker's traceback as its cause; the workers end when the
    iterator is exhausted or closed.
    """
    pool = [_start() for _ in range(workers)]
    pending: deque[subprocess.Popen] = deque()  # the worker of each request in flight, oldest first
    sent = 0
    try:
        for request in requests:
            worker = pool[sent % workers]
            try:
                pickle.dump(request, worker.stdin, pickle.HIGHEST_PROTOCOL)
                worker.stdin.flush()
            except BrokenPipeError:
                raise WorkerError(f"report worker {worker.pid} ended (exit code {worker.wait()})") from None
            pending.append(worker)
            sent += 1
            if len(pending) > workers:
                yield _answer(pending.popleft())
        while pending:
            yield _answer(pending.popleft())
    finally:
        _stop(pool, done=not pending)


def _start() -> subprocess.Popen:
    # -P: not the working directory first on sys.path; PYTHONPATH leads to the code this process runs.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_CODE_ROOT, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-P", "-c", "from optout_audit.report.workers import main; main()"]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def _answer(worker: subprocess.Popen) -> Any:
    try:
        ok, value, remote = pickle.load(worker.stdout)
    except EOFError:
        code = worker.wait()
        raise WorkerError(f"report worker {worker.pid} ended without an answer (exit code {code})") from None
    if ok:
        return value
    raise value from WorkerError(f"in report worker {worker.pid}:\n{remote}")


def _stop(pool: list[subprocess.Popen], *, done: bool) -> None:
    """Close the workers' input (they exit at its end); kill them if work was left undone."""
    for worker in pool:
        if not done and worker.poll() is None:
            worker.kill()
        for pipe in (worker.stdin, worker.stdout):
            with contextlib.suppress(OSError):  # (a worker killed mid-request: its stdin is a broken pipe)
                pipe.close()
    for worker in pool:
        worker.wait()


# -- in the worker ------------------------------------------------------------------------------


def _serve(requests: BinaryIO, answers: BinaryIO) -> None:
    from optout_audit.report.build import chunk_report

    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            answer = (True, chunk_report(*request), "")
        except Exception as exc:
            answer = (False, exc, traceback.format_exc())
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle: its text
            data = pickle.dumps((False, WorkerError(repr(answer[1])), answer[2]), pickle.HIGHEST_PROTOCOL)
        answers.write(data)
        answers.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()
    answers = os.fdopen(os.dup(1), "wb")  # the answers' own descriptor; fd 1 and sys.stdout become stderr's
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    with answers, os.fdopen(os.dup(0), "rb") as requests:
        _serve(requests, answers)
