"""Masking credentials before anything is written: run.json, logs, reports, error lines.

A Redis URL such as ``redis://:hunter2@queue.internal:6379/0`` carries its password; so can any URL
(``https://user:token@host/``) or a query parameter (``?password=...``). :func:`mask_secrets`
replaces each such secret in a string by ``***`` and leaves everything else as it was, so a
masked URL still says which server and database were used. :func:`mask_value` does the same
inside the dicts and lists of a JSON record.

The userinfo of a URL is masked whole unless it is ``user:password`` (then only the password): a
lone token before ``@`` is as likely a password (``redis://secret@host``) as a user name.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# scheme://userinfo@ -- the userinfo runs to the last "@" before the path, query or fragment, so an
# unencoded "@" in a password is masked with the rest of it.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#]*)@")
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;](?:password|passwd|pwd|pass|token|secret|api_?key|access_?key|auth)=)([^&#\s]*)"
)


def _mask_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group(1), match.group(2)
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{scheme}{user}:{MASK}@"
    return f"{scheme}{MASK}@"


def mask_secrets(text: str) -> str:
    """``text`` with the passwords of every URL in it (userinfo, secret query parameters) replaced by ``***``."""
    if "@" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(_mask_userinfo, text)
    return _SECRET_PARAMETER.sub(lambda m: m.group(1) + (MASK if m.group(2) else ""), text)


def mask_value(value: Any) -> Any:
    """A copy of a JSON-like ``value`` (dicts, lists, tuples, strings) with every string masked."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(item) for item in value)
    return value
