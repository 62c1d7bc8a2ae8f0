"""robots.txt bodies: decoded, capped at 500 KiB, and told apart from HTML and binary."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_audit.detect.body import ROBOTS_MAX_BYTES, _mostly_binary, read_robots_body


@pytest.mark.parametrize(
    ("body", "status", "fault"),
    [
        (b"User-agent: *\nDisallow: /\n", "ok", ""),
        (b"", "ok", ""),
        (b"\xef\xbb\xbfUser-agent: *\n", "ok", ""),
        ("User-agent: *\nDisallow: /\n".encode("utf-16"), "ok", "utf16_bridged"),
        (b"  <!DOCTYPE html><html><body>hi</body></html>", "invalid", "html_as_robots"),
        (b"<HTML><HEAD>", "invalid", "html_as_robots"),
        (bytes(range(256)), "invalid", "binary"),
        (b"User-agent: *\n" + b"#" * ROBOTS_MAX_BYTES, "too_large", "truncated"),
    ],
)
def test_classifies(body, status, fault):
    result = read_robots_body(body)
    assert (result.status, result.fault) == (status, fault)
    assert len(result.text) <= ROBOTS_MAX_BYTES


def test_a_stopped_download_is_too_large_and_kept():
    result = read_robots_body(b"User-agent: GPTBot\nDisallow: /\n", stopped=True)
    assert (result.status, result.text) == ("too_large", b"User-agent: GPTBot\nDisallow: /\n")


def test_utf16_is_bridged_to_utf8():
    assert read_robots_body("Disallow: /é\n".encode("utf-16")).text == "Disallow: /é\n".encode()


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_mostly_binary_counts_control_bytes(sample):
    # the definition: more than a tenth of the bytes are below 0x20 and not tab, LF, VT, FF or CR
    control = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    assert _mostly_binary(sample) == (control > len(sample) // 10)
