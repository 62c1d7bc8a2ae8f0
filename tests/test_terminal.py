"""Text printed on a terminal never carries a control character or escape sequence through."""

from __future__ import annotations

from crawling import optout_audit
from hypothesis import given
from hypothesis import strategies as st

from optout_audit.app.terminal import printable


def test_escape_sequences_are_shown_not_acted_on():
    assert (
        printable("User-agent: GPTBot\x1b[2J\x1b]8;;http://x\x07") == "User-agent: GPTBot\\x1b[2J\\x1b]8;;http://x\\x07"
    )
    assert printable("a\nb\rc\x9bd") == "a\\x0ab\\x0dc\\x9bd"
    assert printable("ab\u202ecd") == "ab\\u202ecd"
    assert printable("tab\tand bücher.test") == "tab\tand bücher.test"


@given(st.text())
def test_nothing_unsafe_survives(text):
    shown = printable(text)
    assert not any((ord(ch) < 0x20 and ch != "\t") or 0x7F <= ord(ch) <= 0x9F for ch in shown)


def test_an_error_line_with_escapes_is_neutralised(tmp_path):
    name = tmp_path / "list\x1b[31mred.txt"
    completed = optout_audit("crawl", str(name))
    assert completed.returncode == 2 and "\x1b" not in completed.stderr and "\\x1b[31mred" in completed.stderr
