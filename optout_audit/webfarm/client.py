"""A tiny blocking client for talking to a farm from tests: the stdlib, with Host and SNI set.

The farm answers by name, but tests have no resolver pointed at its hosts file, so these
helpers connect to an *address* and send the *host* name in the ``Host`` header and the TLS
SNI extension, exactly as the crawler does after resolving through the hosts file.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from optout_audit.webfarm.tls import client_context


@dataclass(slots=True)
class Fetched:
    """A complete response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class _FarmConnection(http.client.HTTPConnection):
    """Connect to ``address``, speak TLS with SNI ``server_name`` when a context is given."""

    def __init__(self, address: str, port: int, server_name: str, tls: ssl.SSLContext | None, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout)
        self._server_name, self._tls = server_name, tls

    def connect(self) -> None:
        super().connect()
        if self._tls is not None:
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


def fetch(
    address: str,
    host: str,
    path: str = "/",
    *,
    scheme: str = "https",
    port: int | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    cafile: Path | None = None,
) -> Fetched:
    """Send one request for ``host`` to ``address`` and read the whole response.

    TLS is not verified unless ``cafile`` (the farm's certificate) is given. Errors are the
    stdlib's: ``ConnectionRefusedError``, ``ssl.SSLError``, ``http.client.IncompleteRead``,
    ``http.client.BadStatusLine``, ``TimeoutError`` ...
    """
    tls = client_context(cafile) if scheme == "https" else None
    conn = _FarmConnection(address, port or (443 if tls else 80), host, tls, timeout)
    try:
        conn.request(method, path, headers={"Host": host, "User-Agent": "webfarm-test", **(headers or {})})
        response = conn.getresponse()
        body = response.read()
        return Fetched(response.status, response.getheaders(), body)
    finally:
        conn.close()


def raw_exchange(
    address: str,
    data: bytes,
    *,
    port: int = 80,
    server_name: str | None = None,
    timeout: float = 10.0,
) -> bytes:
    """Send ``data`` (TLS when ``server_name`` is given) and return all bytes until the server closes.

    For faults that are not HTTP: garbage, resets (raises ``ConnectionResetError``), drops.
    """
    with socket.create_connection((address, port), timeout=timeout) as sock:
        conn: socket.socket = sock
        if server_name is not None:
            conn = client_context().wrap_socket(sock, server_hostname=server_name)
        conn.sendall(data)
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except ssl.SSLZeroReturnError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
