"""Run a farm in a subprocess from Python: :func:`running_farm` and the :class:`Farm` handle.

The crawler under test has its own process and Twisted reactor, and the farm must not share an
event loop with the test either, so the farm always runs as ``python -m optout_audit.webfarm
serve`` in a child process. The parent writes the sites to a JSON file, starts the child, waits
for its ready file and for a TCP connect to succeed, and on exit terminates it (then kills it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optout_audit
from optout_audit.webfarm.client import Fetched, fetch
from optout_audit.webfarm.model import normalise_host
from optout_audit.webfarm.requestlog import LoggedRequest, read_records, requests_of
from optout_audit.webfarm.spec import WebLike, as_web, write_web

#: The project root, put on the child's PYTHONPATH so it imports this very package.
_PROJECT_ROOT = Path(optout_audit.__file__).resolve().parent.parent


class FarmError(RuntimeError):
    """The farm process failed to start (its stderr is in the message)."""


@dataclass
class Farm:
    """A running farm, as seen from the parent process."""

    address: str
    http_port: int
    https_port: int
    hosts_file: Path
    cert_file: Path
    request_log_file: Path | None
    pid: int
    workdir: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _resolved: dict[str, str] | None = field(default=None, repr=False)

    # --- addresses and URLs ----------------------------------------------------------------------

    def address_of(self, host: str) -> str | None:
        """Return the address ``host`` resolves to in the hosts file (None: a DNS failure)."""
        if self._resolved is None:
            self._resolved = {}
            for line in self.hosts_file.read_text("ascii").splitlines():
                fields = line.split("#", 1)[0].split()
                for name in fields[1:]:
                    self._resolved.setdefault(name, fields[0])
        return self._resolved.get(normalise_host(host))

    def port(self, scheme: str) -> int:
        """Return the farm's port for ``http`` or ``https``."""
        return self.https_port if scheme == "https" else self.http_port

    def url(self, host: str, path: str = "/", scheme: str = "https") -> str:
        """Return the URL a client fetches for ``path`` on ``host`` (the port only when unusual)."""
        port = self.port(scheme)
        default = 443 if scheme == "https" else 80
        netloc = normalise_host(host) + ("" if port == default else f":{port}")
        return f"{scheme}://{netloc}{path}"

    def fetch(self, host: str, path: str = "/", scheme: str = "https", **kwargs: Any) -> Fetched:
        """Fetch ``path`` from ``host`` on this farm (see :func:`optout_audit.webfarm.client.fetch`)."""
        address = self.address_of(host) or self.address
        return fetch(address, host, path, scheme=scheme, port=self.port(scheme), **kwargs)

    # --- request log -----------------------------------------------------------------------------

    def request_records(self) -> list[dict[str, Any]]:
        """Return every record of the request log so far (see :mod:`~optout_audit.webfarm.requestlog`)."""
        return read_records(self.request_log_file) if self.request_log_file else []

    def request_log(self) -> list[LoggedRequest]:
        """Return ``(host, method, path, scheme)`` for every request received so far, in order."""
        return requests_of(self.request_records())

    def clear_request_log(self) -> None:
        """Forget the requests logged so far (the server appends, so truncating is safe)."""
        if self.request_log_file is not None:
            os.truncate(self.request_log_file, 0)

    # --- life cycle ------------------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the farm process, then kill it if it does not exit within ``timeout``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_farm(
    sites_or_spec: WebLike,
    *,
    latency: tuple[float, float] | None = None,
    address: str | None = None,
    http_port: int = 80,
    https_port: int = 443,
    workers: int = 1,
    log_requests: bool = True,
    workdir: Path | str | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[Farm]:
    """Start a farm serving ``sites_or_spec`` in a subprocess; yield a :class:`Farm`; stop it after.

    ``sites_or_spec`` is a :class:`~optout_audit.webfarm.model.Site`, an iterable of sites and
    webs, a web (:class:`~optout_audit.webfarm.synthetic.SyntheticWeb` ...), a sites file path,
    ``"demo"`` or ``"synthetic:COUNT[:SEED]"``. ``latency`` is ``(min_ms, max_ms)`` added to
    every response. The farm's files (hosts, certificate, request log) live in ``workdir``,
    a temporary directory removed on exit unless given.
    """
    own_dir = workdir is None
    directory = Path(tempfile.mkdtemp(prefix="webfarm-")) if own_dir else Path(workdir)  # type: ignore[arg-type]
    directory.mkdir(parents=True, exist_ok=True)
    farm: Farm | None = None
    try:
        argv = _serve_argv(sites_or_spec, directory, latency, address, http_port, https_port, workers, log_requests)
        farm = _start(argv, directory, startup_timeout)
        yield farm
    finally:
        if farm is not None:
            farm.stop()
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


def _serve_argv(
    sites_or_spec: WebLike,
    directory: Path,
    latency: tuple[float, float] | None,
    address: str | None,
    http_port: int,
    https_port: int,
    workers: int,
    log_requests: bool,
) -> list[str]:
    if isinstance(sites_or_spec, str) and (sites_or_spec == "demo" or sites_or_spec.startswith("synthetic:")):
        spec = sites_or_spec  # the child builds these itself, no need to ship them as JSON
    elif isinstance(sites_or_spec, (str, Path)):
        spec = str(Path(sites_or_spec).resolve())
    else:
        spec = str(write_web(as_web(sites_or_spec), directory / "sites.json"))
    argv = [
        sys.executable,
        "-m",
        "optout_audit.webfarm",
        "serve",
        "--sites",
        spec,
        "--workdir",
        str(directory),
        "--hosts-out",
        str(directory / "hosts"),
        "--ready-file",
        str(directory / "ready.json"),
        "--http-port",
        str(http_port),
        "--https-port",
        str(https_port),
        "--workers",
        str(workers),
        "--parent-pid",
        str(os.getpid()),
    ]
    if log_requests:
        argv += ["--request-log", str(directory / "requests.jsonl")]
    if latency is not None:
        argv += ["--latency", f"{latency[0]},{latency[1]}"]
    if address is not None:
        argv += ["--address", address]
    return argv


def _start(argv: list[str], directory: Path, timeout: float) -> Farm:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    ready_file = directory / "ready.json"
    # A farm killed earlier in a reused workdir leaves its ready file: it names another address.
    ready_file.unlink(missing_ok=True)
    stderr = (directory / "stderr.log").open("wb")  # a file, not a pipe: a chatty child never blocks
    with stderr:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    deadline = time.monotonic() + timeout
    try:
        while not ready_file.exists():
            if process.poll() is not None:
                raise FarmError(f"farm exited with {process.returncode}: {_tail(directory / 'stderr.log')}")
            if time.monotonic() > deadline:
                raise FarmError(f"farm not ready after {timeout} s: {_tail(directory / 'stderr.log')}")
            time.sleep(0.02)
        info = json.loads(ready_file.read_text("utf-8"))
        _wait_accepting(info["address"], info["http_port"], deadline)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Farm(
        address=info["address"],
        http_port=info["http_port"],
        https_port=info["https_port"],
        hosts_file=Path(info["hosts_file"]),
        cert_file=Path(info["cert_file"]),
        request_log_file=Path(info["request_log"]) if info["request_log"] else None,
        pid=info["pid"],
        workdir=directory,
        _process=process,
    )


def _wait_accepting(address: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((address, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text("utf-8", "replace")[-limit:].strip() or "(no output)"
    except OSError:
        return "(no output)"
