"""What a run learns of its input list: one pass at open (hash, data lines, the checks), and the
count of entries a complete run has, learnt by the iteration the crawl makes anyway."""

from __future__ import annotations

import hashlib

import pytest

from optout_audit.app.inputs import (
    InputEntries,
    InputError,
    InvalidLine,
    Target,
    check_input,
    count_entries,
    input_facts,
    read_targets,
)
from optout_audit.files import file_sha256

# A list as people export them: a BOM, CRLF line ends, a comment, a blank line, two spellings of
# one site, an invalid line and a Tranco-style "rank,domain" line.
MIXED = (
    "\ufeff# exported list\r\n"
    "example.com\r\n"
    "\r\n"
    "https://EXAMPLE.com/other/page\r\n"  # the same origin as line 2: a duplicate
    "not a url\r\n"  # invalid: contains spaces
    "http://example.com/\r\n"  # another origin (http): a site of its own
    "b.example\r\n"
    "ftp://files.example/\r\n"  # invalid: scheme
    "b.example\r\n"  # duplicate of line 7
).encode("utf-8")
#: Lines that are neither blank nor comments: 2, 4, 5, 6, 7, 8, 9.
MIXED_DATA_LINES = 7
#: Distinct sites (example.com https and http, b.example) plus invalid lines (5, 8).
MIXED_ENTRIES = 3 + 2


def test_facts_of_a_mixed_list(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(MIXED)
    facts = input_facts(MIXED)
    assert facts.sha256 == file_sha256(path) == hashlib.sha256(MIXED).hexdigest()
    assert facts.lines == MIXED_DATA_LINES == check_input(path)


def test_entries_counted_while_iterating(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(MIXED)
    entries = InputEntries(path)
    assert entries.count is None
    seen = list(entries)
    assert entries.count == MIXED_ENTRIES == len(seen) == count_entries(path)
    assert [(type(e).__name__, e.line) for e in seen] == [
        ("Target", 2),
        ("InvalidLine", 5),
        ("Target", 6),
        ("Target", 7),
        ("InvalidLine", 8),
    ]
    assert seen == list(read_targets(path))


def test_an_iteration_stopped_early_counts_nothing(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(MIXED)
    entries = InputEntries(path)
    iterator = iter(entries)
    first = next(iterator)
    assert isinstance(first, Target) and first.host == "example.com"
    iterator.close()  # what happens to the spider's loop when the crawl is stopped
    assert entries.count is None


def test_only_invalid_lines_are_entries_too(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"not a url\nftp://x.example/\n")
    entries = InputEntries(path)
    assert all(isinstance(entry, InvalidLine) for entry in entries)
    assert entries.count == 2


def test_tranco_and_csv_lines():
    assert input_facts(b"1,google.com\n2,youtube.com\n3,google.com\n").lines == 3
    # The CSV's value is its url cell: a row with an empty cell is no data line.
    assert input_facts(b"name,url\nA,https://a.example/\nB,\nC,c.example\n").lines == 2


def test_utf16_list_is_hashed_as_its_bytes():
    data = "a.example\r\nb.example\r\n".encode("utf-16")
    facts = input_facts(data)
    assert facts.lines == 2 and facts.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n \r\n", "empty"),
        (b"# only a comment\n\n", "no URL or domain lines"),
        (bytes(range(256)) * 10, "binary"),
        (b"name,rank\nfoo,1\n", "no 'url' or 'domain' column"),
        (b"\xff\xfea\x00b", "not valid UTF-16"),
    ],
)
def test_unusable_lists_raise_the_same_error_as_check_input(tmp_path, content, message):
    path = tmp_path / "list.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        input_facts(content)
    with pytest.raises(InputError, match=message):
        check_input(path)
