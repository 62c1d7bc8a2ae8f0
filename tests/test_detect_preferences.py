"""aipref Content-Usage and Cloudflare Content-Signal values (docs/signals.md)."""

from __future__ import annotations

import pytest

from optout_audit.detect.preferences import (
    parse_content_signal,
    parse_content_usage,
    parse_robots_content_usage,
)


@pytest.mark.parametrize(
    ("value", "valid", "prefs", "unknown_labels"),
    [
        # vocab-07 serialisation example and the attach-05 header example
        ("train-ai=y, search=n", True, {"train-ai": "y", "search": "n"}, []),
        ("train-ai=n", True, {"train-ai": "n"}, []),
        # SIGNALS 5.4: an upper-case key is not a Dictionary -> every preference unknown
        ("Train-AI=n", False, {}, []),
        # Cloudflare's key and values under aipref rules: parses, but nothing is known
        ("ai-train=no", True, {}, ["ai-train"]),
        ("ai-train=no, search=yes", True, {}, ["ai-train"]),
        # duplicate key: the last one wins, a bare key is boolean true -> unknown
        ("train-ai=y, train-ai", True, {}, []),
        ("train-ai, train-ai=n", True, {"train-ai": "n"}, []),
        # a quoted string "n" equals "n" in Python but is not a Token -> unknown
        ('search="n"', True, {}, []),
        ('train-ai=y, train-ai, search=n, search="n"', True, {}, []),
        # parameters are ignored
        ("train-ai=n;reason=law", True, {"train-ai": "n"}, []),
        # other SF types are unknown
        ("train-ai=?0", True, {}, []),
        ("train-ai=1", True, {}, []),
        ("train-ai=(y n)", True, {}, []),
        ("train-ai=yes", True, {}, []),
        # older drafts' labels are kept as evidence, ignored by processing
        ("ai=n", True, {}, ["ai"]),
        ("train-genai=n, train-ai=y", True, {"train-ai": "y"}, ["train-genai"]),
        ("bots=n, all=n", True, {}, ["bots", "all"]),
        # empty field: a valid empty Dictionary
        ("", True, {}, []),
        ("  train-ai=n  ", True, {"train-ai": "n"}, []),
        # not a Dictionary
        ("train-ai=n,", False, {}, []),
        ("train-ai = n", False, {}, []),
        ("train-ai=n; search=y", True, {"train-ai": "n"}, []),  # "search=y" is a parameter
        ("train-ai=ñ", False, {}, []),  # non-ASCII fails RFC 9651 parsing
        ("train-ai=\ud800", False, {}, []),
    ],
)
def test_content_usage(value: str, valid: bool, prefs: dict[str, str], unknown_labels: list[str]) -> None:
    usage = parse_content_usage(value)
    assert (usage.valid, usage.prefs, usage.unknown_labels) == (valid, prefs, unknown_labels)
    assert usage.raw == value
    assert usage.train_ai == prefs.get("train-ai")


def test_invalid_content_usage_keeps_no_preference_even_for_known_labels() -> None:
    usage = parse_content_usage("train-ai=n, Search=y")
    assert not usage.valid
    assert usage.train_ai is None


@pytest.mark.parametrize(
    ("value", "path", "prefs"),
    [
        # attach-05 3.2 examples
        ("train-ai=n", None, {"train-ai": "n"}),
        ("/ai-ok/ train-ai=y", "/ai-ok/", {"train-ai": "y"}),
        ("/ai-ok/\ttrain-ai=y", "/ai-ok/", {"train-ai": "y"}),
        ("/ai-ok/   train-ai=y, search=n", "/ai-ok/", {"train-ai": "y", "search": "n"}),
        ("  /never/ train-ai=n", "/never/", {"train-ai": "n"}),
        ("/a%20b/ train-ai=n", "/a%20b/", {"train-ai": "n"}),
    ],
)
def test_robots_content_usage(value: str, path: str | None, prefs: dict[str, str]) -> None:
    found_path, usage = parse_robots_content_usage(value)
    assert found_path == path
    assert usage.valid
    assert usage.prefs == prefs


def test_robots_content_usage_with_a_path_and_no_preference_states_nothing() -> None:
    path, usage = parse_robots_content_usage("/only-a-path/")
    assert path == "/only-a-path/"
    assert not usage.valid and usage.prefs == {}


def test_robots_content_usage_invalid_preference_after_a_path() -> None:
    path, usage = parse_robots_content_usage("/x/ Train-AI=n")
    assert path == "/x/"
    assert not usage.valid


@pytest.mark.parametrize(
    ("value", "signals", "ai_train"),
    [
        # Cloudflare managed robots.txt (SIGNALS 6), and its own capitalised field example
        ("search=yes, ai-train=no", {"search": "yes", "ai-train": "no"}, "no"),
        ("search=yes,ai-train=no,use=reference", {"search": "yes", "ai-train": "no", "use": "reference"}, "no"),
        ("ai-train=yes, search=yes, ai-input=yes", {"ai-train": "yes", "search": "yes", "ai-input": "yes"}, "yes"),
        ("AI-Train = NO", {"ai-train": "no"}, "no"),
        ("search=yes", {"search": "yes"}, None),
        ("ai-train=no, ai-train=yes", {"ai-train": "yes"}, "yes"),  # last one wins
        ("", {}, None),
        ("garbage, =no, ai-train", {}, None),
        ("ai-train=", {"ai-train": ""}, ""),
    ],
)
def test_content_signal(value: str, signals: dict[str, str], ai_train: str | None) -> None:
    parsed = parse_content_signal(value)
    assert parsed.raw == value
    assert parsed.signals == signals
    assert parsed.ai_train == ai_train


def test_content_signal_is_not_an_aipref_preference() -> None:
    # Same text, two vocabularies: aipref reads nothing from Cloudflare's line (SIGNALS 6).
    assert parse_content_usage("search=yes, ai-train=no").train_ai is None
    assert parse_content_signal("search=yes, ai-train=no").ai_train == "no"
