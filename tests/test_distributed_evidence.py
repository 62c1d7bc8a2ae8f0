"""A worker's archive sent in pieces and written by the coordinator (optout_audit/distributed/evidence.py).

No Redis here: the pieces a worker's :class:`ArchiveOutbox` gives are handed to an
:class:`ArchiveInbox` as the coordinator would get them from the results stream, repeated, cut
and lost on the way, and the files it writes are compared with what the worker wrote.
"""

from __future__ import annotations

import random

from warcio.archiveiterator import ArchiveIterator

from optout_audit.archive.warc import INDEX_SUFFIX, WarcArchive
from optout_audit.distributed.evidence import ArchiveInbox, ArchiveOutbox, Piece


def _exchange(archive: WarcArchive, number: int) -> None:
    body = (f"User-agent: GPTBot\nDisallow: /{number}\n" * (1 + number % 7)).encode()
    archive.write_exchange(
        uri=f"https://site{number}.example/robots.txt",
        status_line="HTTP/1.1 200 OK",
        headers=((b"Content-Type", b"text/plain"), (b"Content-Length", str(len(body)).encode())),
        body=body,
        request_line="GET /robots.txt HTTP/1.1",
        request_headers=(("Host", f"site{number}.example"),),
        peer="127.0.0.1",
        domain=f"site{number}.example",
        document="robots",
    )


def _worker_run(tmp_path, sends: int, rotate_bytes: int = 1 << 30) -> tuple[list[list[Piece]], dict[str, bytes]]:
    """The pieces of each send of a worker that archived 60 exchanges, and every file's whole bytes."""
    outbox = ArchiveOutbox("vm-1234-abc/def")
    archive = WarcArchive(tmp_path / "nowhere", {"software": "test"}, rotate_bytes, opener=outbox.open, tag=outbox.tag)
    sends_at = set(random.Random(3).sample(range(60), sends))
    batches, whole = [], {}
    for number in range(60):
        _exchange(archive, number)
        if number in sends_at:
            batches.append(outbox.take())
    archive.close()
    batches.append(outbox.take())
    for batch in batches:
        for piece in batch:
            whole[piece.name] = whole.get(piece.name, b"") + piece.data
    assert not (tmp_path / "nowhere").exists()  # nothing on the worker's disk
    return batches, whole


def test_the_coordinator_writes_the_workers_files_byte_for_byte(tmp_path):
    batches, whole = _worker_run(tmp_path, sends=9, rotate_bytes=8_000)
    assert len(whole) >= 4  # rotated: several WARC files, each with its index
    assert all(name.startswith("optout-audit-") and "vm-1234-abc-def" in name for name in whole)
    inbox = ArchiveInbox(tmp_path / "archive")
    for batch in batches:
        for piece in batch:
            inbox.write(*piece)
    inbox.close()
    for name, data in whole.items():
        assert (tmp_path / "archive" / name).read_bytes() == data
    warcs = sorted(name for name in whole if name.endswith(".warc.gz"))
    responses = 0
    for name in warcs:
        with (tmp_path / "archive" / name).open("rb") as handle:
            kinds = [record.rec_type for record in ArchiveIterator(handle)]
        assert kinds[0] == "warcinfo"
        responses += kinds.count("response")
        assert (name + INDEX_SUFFIX) in whole
    assert responses == 60
    assert inbox.repeated == inbox.gaps == inbox.refused == 0


def test_pieces_sent_or_read_twice_and_a_write_cut_by_a_kill_give_the_same_files(tmp_path):
    batches, whole = _worker_run(tmp_path, sends=12)
    pieces = [piece for batch in batches for piece in batch]
    inbox = ArchiveInbox(tmp_path / "archive")
    for number, piece in enumerate(pieces):
        inbox.write(*piece)
        if number % 3 == 0:
            inbox.write(*piece)  # a transaction retried after it was applied
    repeated = inbox.repeated
    inbox.close()
    # a coordinator killed in the middle of a write, resumed: the batch read again
    name, offset, data = pieces[-2]
    path = tmp_path / "archive" / name
    with path.open("r+b") as handle:
        handle.truncate(offset + len(data) // 2)
    resumed = ArchiveInbox(tmp_path / "archive")
    for piece in pieces[-4:]:
        resumed.write(*piece)
    resumed.close()
    for name, data in whole.items():
        assert (tmp_path / "archive" / name).read_bytes() == data
    assert repeated == len(range(0, len(pieces), 3))


def test_a_piece_after_lost_bytes_is_counted_and_names_are_never_paths(tmp_path):
    inbox = ArchiveInbox(tmp_path / "archive")
    name = "optout-audit-20261201T000000Z-w-00000.warc.gz"
    inbox.write(name, 0, b"first")
    inbox.write(name, 10, b"after a gap")
    for bad in ("../escape.warc.gz", "optout-audit-x/../../y.warc.gz", "/etc/passwd", "notes.txt", ".warc.gz"):
        inbox.write(bad, 0, b"x")
    inbox.write(name, -1, b"no offset")
    inbox.close()
    assert inbox.gaps == 1 and inbox.refused == 6
    assert (tmp_path / "archive" / name).read_bytes() == b"first" + b"\0" * 5 + b"after a gap"
    assert sorted(path.name for path in tmp_path.rglob("*") if path.is_file()) == [name]


def test_pieces_not_sent_go_out_again_first(tmp_path):
    outbox = ArchiveOutbox("w")
    warc = outbox.open(tmp_path / "a.warc.gz", False)
    index = outbox.open(tmp_path / "a.warc.gz.evidence.csv", True)
    warc.write(b"one")
    index.write("row1\n")
    first = outbox.take()
    warc.write(b"two")  # written while the send was on its way
    warc.close()
    index.close()
    outbox.give_back(first)  # the send failed
    assert outbox.pending_bytes == len(b"onetworow1\n")
    again = outbox.take()
    assert sorted(again) == [Piece("a.warc.gz", 0, b"onetwo"), Piece("a.warc.gz.evidence.csv", 0, b"row1\n")]
    assert outbox.take() == []  # closed and sent: forgotten
    outbox.give_back(again)  # failed once more, after they were forgotten
    assert sorted(outbox.take()) == sorted(again)
