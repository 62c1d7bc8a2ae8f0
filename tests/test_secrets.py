"""Credentials in URLs are masked before they reach run.json, logs or reports."""

from __future__ import annotations

import json
import logging

import pytest

from optout_audit.secrets import MASK, mask_secrets, mask_value

CASES = [
    ("redis://:hunter2@queue.internal:6379/0", "redis://:***@queue.internal:6379/0"),
    ("redis://worker:hunter2@queue.internal:6379/0", "redis://worker:***@queue.internal:6379/0"),
    ("rediss://default:s3cr%40t@redis.example.com:6380", "rediss://default:***@redis.example.com:6380"),
    ("redis://hunter2@queue.internal", "redis://***@queue.internal"),
    ("redis://:p@ss:w@rd@10.0.0.5:6379/2", "redis://:***@10.0.0.5:6379/2"),  # an unencoded "@" in the password
    ("redis://:hunter2@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
    ("unix://:hunter2@/var/run/redis.sock?db=0", "unix://:***@/var/run/redis.sock?db=0"),
    ("redis://localhost:6379/0?password=hunter2&db=1", "redis://localhost:6379/0?password=***&db=1"),
    ("REDIS://:Hunter2@HOST", "REDIS://:***@HOST"),
    ("https://user:token@git.example/repo.git", "https://user:***@git.example/repo.git"),
]
UNCHANGED = [
    "redis://localhost:6379/0",
    "redis://queue.internal",
    "https://example.com/path?q=1&page=2",
    "mailto:someone@example.com",
    "someone@example.com wrote",
    "https://example.com/users/@alice",  # an "@" in the path is not userinfo
    "",
]


@pytest.mark.parametrize(("raw", "masked"), CASES)
def test_passwords_are_masked(raw, masked):
    assert mask_secrets(raw) == masked
    assert "hunter2" not in mask_secrets(raw).lower()
    assert mask_secrets(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("text", UNCHANGED)
def test_text_without_credentials_is_unchanged(text):
    assert mask_secrets(text) == text


def test_every_url_in_a_line_is_masked():
    line = (
        "connecting to redis://:hunter2@a.internal:6379/0, then redis://u:pw2@b.internal/1 "
        "(fallback https://example.com/)"
    )
    assert mask_secrets(line) == (
        "connecting to redis://:***@a.internal:6379/0, then redis://u:***@b.internal/1 (fallback https://example.com/)"
    )


def test_a_record_is_masked_throughout():
    record = {
        "settings": {
            "redis": "redis://:hunter2@q:6379/0",
            "workers": 2,
            "servers": ["redis://x:pw@h/0", None],
            "pair": ("redis://:pw@h", 1),
        },
        "input": "sites.txt",
    }
    masked = mask_value(record)
    assert masked == {
        "settings": {
            "redis": "redis://:***@q:6379/0",
            "workers": 2,
            "servers": ["redis://x:***@h/0", None],
            "pair": ("redis://:***@h", 1),
        },
        "input": "sites.txt",
    }
    assert "hunter2" not in json.dumps(masked) and "pw@" not in json.dumps(masked)
    assert record["settings"]["redis"] == "redis://:hunter2@q:6379/0"  # the original is left alone


def test_masking_a_log_record_before_it_is_written(caplog):
    # how a log filter uses it: the message is formatted, then masked
    class Masking(logging.Filter):
        def filter(self, record):
            record.msg, record.args = mask_secrets(record.getMessage()), ()
            return True

    logger = logging.getLogger("optout_audit.test_secrets")
    logger.addFilter(Masking())
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("queue at %s", "redis://:hunter2@q.internal:6379/0")
    assert caplog.messages == [f"queue at redis://:{MASK}@q.internal:6379/0"]
