"""Per-path faults: the ways a real server misbehaves, as plain data.

A :class:`~optout_audit.webfarm.model.Resource` carries at most one fault; the server
(:mod:`optout_audit.webfarm.server`) acts it out byte by byte. Faults are frozen dataclasses so a
site map can be written, compared and sent to the farm subprocess as JSON (:func:`fault_to_json`).

=================  ==========================================================================
kind               what the client sees
=================  ==========================================================================
``redirect``       status 30x and ``Location`` (chains, loops and cross-host hops are several
                   resources pointing at each other)
``drop``           the status line, headers and full ``Content-Length``, part of the body, then
                   the connection closes (a truncated download)
``reset``          the request is read, then the connection is reset (RST) or closed (FIN)
                   without a byte of response
``slow_drip``      the body one chunk (1 byte) every ``interval_ms``
``garbage``        bytes that are not HTTP, then close
``gzip_bomb``,     ``Content-Encoding: gzip`` / ``deflate`` / ``br`` with a small body that
``deflate_bomb``,  expands to ``size`` bytes (1 GiB by default): ``prefix`` then ``fill``
``brotli_bomb``
``huge``           a ``mib`` MiB body streamed in chunks: ``prefix`` then repeated ``fill``
=================  ==========================================================================

Delays (for timeouts) are not faults: every resource has ``delay`` seconds, and the farm can add
latency to every response.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

GiB = 1 << 30
MiB = 1 << 20

BombEncoding = Literal["gzip", "deflate", "br"]


@dataclass(frozen=True, slots=True)
class Redirect:
    """Answer ``status`` with ``Location: location`` (absolute or relative, any host)."""

    kind: ClassVar[str] = "redirect"
    location: str
    status: int = 301


@dataclass(frozen=True, slots=True)
class Drop:
    """Send the head and the first ``after`` body bytes (default: half), then close."""

    kind: ClassVar[str] = "drop"
    after: int | None = None


@dataclass(frozen=True, slots=True)
class Reset:
    """Read the request, then close with no response: a TCP RST when ``hard``, else a FIN."""

    kind: ClassVar[str] = "reset"
    hard: bool = True


@dataclass(frozen=True, slots=True)
class SlowDrip:
    """Send the head at once, then ``chunk`` body bytes every ``interval_ms`` milliseconds."""

    kind: ClassVar[str] = "slow_drip"
    interval_ms: float = 100.0
    chunk: int = 1


@dataclass(frozen=True, slots=True)
class Garbage:
    """Answer with ``data``, which is not HTTP, then close."""

    kind: ClassVar[str] = "garbage"
    # Starts like nothing a client could take for a status line, binary on purpose.
    data: bytes = b"\x00\xff\xfe SSH-2.0-not-http \x1b[31m\x00\x00garbage\r\n\r\n\xde\xad\xbe\xef"


@dataclass(frozen=True, slots=True)
class Bomb:
    """A compressed body that expands to ``size`` bytes: ``prefix`` then ``fill`` repeated.

    ``prefix`` lets a bomb start like a real document (a robots.txt group, an HTML head), so a
    client that reads only the head of a large body still has something to parse.
    """

    kind: ClassVar[str] = "bomb"
    encoding: BombEncoding = "gzip"
    size: int = GiB
    prefix: bytes = b""
    fill: bytes = b"\x00"

    def __post_init__(self) -> None:
        if self.encoding not in ("gzip", "deflate", "br"):
            raise ValueError(f"unknown bomb encoding {self.encoding!r}")
        if len(self.fill) != 1:
            raise ValueError("Bomb.fill must be one byte")  # the fast builders repeat one byte
        if self.size < len(self.prefix):
            raise ValueError("Bomb.size is smaller than its prefix")


@dataclass(frozen=True, slots=True)
class Huge:
    """A ``mib`` MiB body, streamed: ``prefix`` then ``fill`` repeated (cut to size).

    With ``chunked`` the size is not announced (``Transfer-Encoding: chunked``), so a client
    can only notice it is too large while reading.
    """

    kind: ClassVar[str] = "huge"
    mib: float = 64.0
    prefix: bytes = b""
    fill: bytes = b"# padding: this file is much larger than any robots.txt should be\n"
    chunked: bool = False

    @property
    def size(self) -> int:
        return int(self.mib * MiB)


Fault = Redirect | Drop | Reset | SlowDrip | Garbage | Bomb | Huge

_KINDS: dict[str, type] = {cls.kind: cls for cls in (Redirect, Drop, Reset, SlowDrip, Garbage, Bomb, Huge)}
#: Shorthands accepted wherever a fault is given by name.
_ALIASES: dict[str, Fault] = {
    "gzip_bomb": Bomb("gzip"),
    "deflate_bomb": Bomb("deflate"),
    "brotli_bomb": Bomb("br"),
    "br_bomb": Bomb("br"),
}


def gzip_bomb(size: int = GiB, prefix: bytes = b"", fill: bytes = b"\x00") -> Bomb:
    """A ``Content-Encoding: gzip`` bomb (deflate tops out near 1:1000, so 1 GiB is ~1 MiB)."""
    return Bomb("gzip", size, prefix, fill)


def deflate_bomb(size: int = GiB, prefix: bytes = b"", fill: bytes = b"\x00") -> Bomb:
    """A ``Content-Encoding: deflate`` (zlib stream) bomb."""
    return Bomb("deflate", size, prefix, fill)


def brotli_bomb(size: int = GiB, prefix: bytes = b"", fill: bytes = b"\x00") -> Bomb:
    """A ``Content-Encoding: br`` bomb (1 GiB compresses to under 1 KiB)."""
    return Bomb("br", size, prefix, fill)


def parse_fault(value: Fault | str | dict[str, Any] | None) -> Fault | None:
    """Return a fault from a fault, a kind name (``"reset"``, ``"gzip_bomb"``) or its JSON form."""
    if value is None or isinstance(value, tuple(_KINDS.values())):
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        return _from_name(value)
    if isinstance(value, dict):
        return fault_from_json(value)
    raise TypeError(f"not a fault: {value!r}")


def _from_name(name: str) -> Fault:
    if name in _ALIASES:
        return _ALIASES[name]
    cls = _KINDS.get(name)
    if cls is None or cls is Redirect:  # a redirect needs its Location
        raise ValueError(f"unknown fault {name!r}; known: {sorted({*_KINDS, *_ALIASES} - {'redirect'})}")
    return cls()  # type: ignore[no-any-return]


def fault_to_json(fault: Fault) -> dict[str, Any]:
    """Return the JSON form: ``{"kind": ..., field: value}``; bytes fields as ``<field>_b64``."""
    out: dict[str, Any] = {"kind": fault.kind}
    for f in dataclasses.fields(fault):
        value = getattr(fault, f.name)
        if isinstance(value, bytes):
            out[f"{f.name}_b64"] = base64.b64encode(value).decode("ascii")
        else:
            out[f.name] = value
    return out


def fault_from_json(data: dict[str, Any]) -> Fault:
    """Inverse of :func:`fault_to_json`; a bytes field may also be given as plain UTF-8 text."""
    data = dict(data)
    kind = data.pop("kind")
    if kind in _ALIASES:
        data.setdefault("encoding", _ALIASES[kind].encoding)  # type: ignore[union-attr]
        kind = "bomb"
    cls = _KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown fault kind {kind!r}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key.endswith("_b64"):
            kwargs[key[:-4]] = base64.b64decode(value)
        else:
            kwargs[key] = value
    for f in dataclasses.fields(cls):
        if f.type in ("bytes", bytes) and isinstance(kwargs.get(f.name), str):
            kwargs[f.name] = kwargs[f.name].encode("utf-8")
    return cls(**kwargs)  # type: ignore[no-any-return]
