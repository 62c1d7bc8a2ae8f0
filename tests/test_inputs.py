"""URL lists -> targets: normalisation, formats, and a reason for every bad line."""

from __future__ import annotations

import pytest

from optout_audit.app.inputs import InputError, InvalidLine, Target, parse_line, read_targets


@pytest.mark.parametrize(
    ("raw", "host", "url", "scheme_given"),
    [
        ("example.com", "example.com", "https://example.com/", False),
        ("Example.COM/path?q=1", "example.com", "https://example.com/", False),
        ("http://Example.com/a/b", "example.com", "http://example.com/", True),
        ("https://bücher.test/x", "xn--bcher-kva.test", "https://xn--bcher-kva.test/", True),
        ("bücher.test", "xn--bcher-kva.test", "https://xn--bcher-kva.test/", False),
        ("http://example.com:8080/", "example.com", "http://example.com:8080/", True),
        ("  www.example.org.  ", "www.example.org", "https://www.example.org/", False),
        ("https://user:pw@example.net/", "example.net", "https://example.net/", True),
    ],
)
def test_normalises(raw, host, url, scheme_given):
    target = parse_line(raw, 1)
    assert isinstance(target, Target)
    assert (target.host, target.url, target.scheme_given) == (host, url, scheme_given)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not a url", "contains spaces"),
        ("ftp://x", "unsupported scheme 'ftp'"),
        ("http://", "no host name"),
        ("localhost", "no dot in the name"),
        ("exa_mple.com", "not a valid host name"),
        ("http://example.com:99999/", "not a valid URL"),
        ("x" * 3000, "line longer than 2048 characters"),
    ],
)
def test_rejects_with_reason(raw, reason):
    entry = parse_line(raw, 7)
    assert isinstance(entry, InvalidLine)
    assert reason in entry.reason and entry.line == 7


def test_comments_and_blanks_are_skipped():
    assert parse_line("# a comment", 1) is None
    assert parse_line("   ", 2) is None


def _read(tmp_path, content, name="list.txt"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return list(read_targets(path))


def test_text_list_dedupes_by_host_keeping_first(tmp_path):
    entries = _read(tmp_path, "# sites\nexample.com\nhttps://EXAMPLE.com/other\n\nnot a url\nb.example\n")
    assert [(type(e).__name__, e.input, e.line) for e in entries] == [
        ("Target", "example.com", 2),
        ("InvalidLine", "not a url", 5),
        ("Target", "b.example", 6),
    ]


def test_tranco_list(tmp_path):
    entries = _read(tmp_path, "1,google.com\n2,youtube.com\n3,bücher.test\n")
    assert [e.host for e in entries] == ["google.com", "youtube.com", "xn--bcher-kva.test"]


def test_csv_with_url_column(tmp_path):
    entries = _read(tmp_path, "name,URL\nA,https://a.example/\nB,b.example\nC,\n", "list.csv")
    assert [e.host for e in entries if isinstance(e, Target)] == ["a.example", "b.example"]


def test_utf16_list(tmp_path):
    entries = _read(tmp_path, "a.example\r\nb.example\r\n".encode("utf-16"))
    assert [e.host for e in entries] == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n \n", "empty"),
        (bytes(range(256)) * 10, "binary"),
        (b"name,rank\nfoo,1\n", "no 'url' or 'domain' column"),
    ],
)
def test_unusable_files_raise_input_error(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        _read(tmp_path, content)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        list(read_targets(tmp_path / "nope.txt"))
