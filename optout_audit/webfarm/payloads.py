"""Bodies too large to keep in memory as such: compression bombs and huge streamed files.

Bombs are built without compressing ``size`` bytes where that can be avoided: after a
``Z_FULL_FLUSH`` deflate forgets its history, so one compressed MiB of ``fill`` can be repeated
as often as needed. Only the gzip CRC-32 and brotli still read the whole expanded stream (about
0.3 s and 1 s per GiB), which is why built bombs are cached per process.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache

import brotli

from optout_audit.webfarm.faults import Bomb, Huge, MiB

_STREAM_CHUNK = 64 * 1024


@lru_cache(maxsize=16)
def bomb_body(bomb: Bomb) -> bytes:
    """Return the compressed body of ``bomb`` (built once per process)."""
    if bomb.encoding == "br":
        return _brotli(bomb)
    raw = _raw_deflate(bomb)
    if bomb.encoding == "deflate":  # HTTP "deflate" is the zlib format (RFC 9110 8.4.1.2)
        return b"\x78\xda" + raw + struct.pack(">I", _checksum(bomb, zlib.adler32, 1))
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, no name, mtime 0, max compression
    return header + raw + struct.pack("<II", _checksum(bomb, zlib.crc32, 0), bomb.size & 0xFFFFFFFF)


def _raw_deflate(bomb: Bomb) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [comp.compress(bomb.prefix) + comp.flush(zlib.Z_FULL_FLUSH)] if bomb.prefix else []
    rest = bomb.size - len(bomb.prefix)
    full, tail = divmod(rest, MiB)
    if full:
        piece = comp.compress(bomb.fill * MiB) + comp.flush(zlib.Z_FULL_FLUSH)
        parts.append(piece * full)  # identical after each full flush: no history carries over
    if tail:
        parts.append(comp.compress(bomb.fill * tail) + comp.flush(zlib.Z_FULL_FLUSH))
    parts.append(comp.flush(zlib.Z_FINISH))
    return b"".join(parts)


def _checksum(bomb: Bomb, func: object, start: int) -> int:
    value = func(bomb.prefix, start)  # type: ignore[operator]
    rest = bomb.size - len(bomb.prefix)
    chunk = bomb.fill * MiB
    while rest > 0:
        value = func(chunk[: min(rest, MiB)], value)  # type: ignore[operator]
        rest -= MiB
    return value  # type: ignore[no-any-return]


def _brotli(bomb: Bomb) -> bytes:
    # quality 5 turns 1 GiB of one byte into < 1 KiB in about a second; 11 would take minutes.
    comp = brotli.Compressor(quality=5, lgwin=24)
    parts = [comp.process(bomb.prefix)]
    rest = bomb.size - len(bomb.prefix)
    chunk = bomb.fill * MiB
    while rest > 0:
        parts.append(comp.process(chunk[: min(rest, MiB)]))
        rest -= MiB
    parts.append(comp.finish())
    return b"".join(parts)


def huge_chunks(huge: Huge) -> Iterator[bytes]:
    """Yield the body of ``huge`` in chunks of about 64 KiB, ``huge.size`` bytes in all."""
    remaining = huge.size
    if huge.prefix:
        head = huge.prefix[:remaining]
        remaining -= len(head)
        yield head
    fill = huge.fill or b"\x00"
    block = fill * max(1, _STREAM_CHUNK // len(fill))
    while remaining > 0:
        piece = block[:remaining]
        remaining -= len(piece)
        yield piece
