"""Redis clients from a URL: password, ``rediss://`` (TLS), retries through a restart, masked in every message.

The password may be in the URL (``redis://:secret@host:6379/0``) or, to keep it off command lines
(``ps`` shows them to every user of a machine), in the environment variable
``OPTOUT_REDIS_PASSWORD``, used when the URL has none. Anything that prints or records a URL
prints :func:`mask_url` of it.

A Redis that restarts (its append-only file keeps the queue) is waited for: every command is
retried with a capped exponential back-off for up to :data:`OUTAGE_SECONDS`, and Redis's
``LOADING`` answer while it reads its file back counts as an outage too. A retried write may be
applied twice; the queue is made so that this is harmless (a record stored twice is kept once).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from optout_audit.app.errors import UsageError

__all__ = ["OUTAGE_SECONDS", "PASSWORD_ENV", "async_client", "check_url", "first_contact", "mask_url", "sync_client"]

PASSWORD_ENV = "OPTOUT_REDIS_PASSWORD"
#: How long a Redis outage (restart, failover, network) is waited out before a command fails.
OUTAGE_SECONDS = 120.0
_SCHEMES = ("redis", "rediss", "unix")


def mask_url(url: str) -> str:
    """``url`` with its password (and a lone token before ``@``) replaced by ``***``
    (:func:`optout_audit.secrets.mask_secrets`, the project's one masking rule)."""
    from optout_audit.secrets import mask_secrets

    return mask_secrets(url)


def check_url(url: str) -> str:
    """Raise UsageError unless ``url`` is a Redis URL redis-py can use."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"--redis is not a valid URL ({exc}): {mask_url(url)}") from None
    if parts.scheme not in _SCHEMES:
        raise UsageError(f"--redis must be a redis://, rediss:// or unix:// URL, not {mask_url(url)}")
    if parts.scheme != "unix" and not parts.hostname:
        raise UsageError(f"--redis has no host: {mask_url(url)}")
    return url


def _retry(asynchronous: bool, retries: int):
    """Retries on connection errors, except a refused password or permission: waiting would not help."""
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import AuthenticationError, AuthorizationError

    if asynchronous:
        from redis.asyncio.retry import Retry
    else:
        from redis.retry import Retry

    class OutageRetry(Retry):
        def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
            def retryable(error: Exception) -> bool:
                if isinstance(error, (AuthenticationError, AuthorizationError)):
                    return False
                return is_retryable is None or is_retryable(error)

            return super().call_with_retry(do, fail, retryable, with_failure_count)

    return OutageRetry(ExponentialBackoff(cap=1.0, base=0.05), retries=retries)


def _options(url: str, asynchronous: bool, patient: bool) -> dict:
    from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError

    # cap 1 s: about OUTAGE_SECONDS of retries in all; an impatient client (the first contact) tries thrice
    options = {
        "retry": _retry(asynchronous, int(OUTAGE_SECONDS) if patient else 2),
        "retry_on_error": [ConnectionError, TimeoutError, BusyLoadingError],
        "socket_connect_timeout": 10,
        "health_check_interval": 30,
        "client_name": "optout-audit",
    }
    if not urlsplit(url).password and os.environ.get(PASSWORD_ENV):
        options["password"] = os.environ[PASSWORD_ENV]
    return options


def sync_client(url: str, *, patient: bool = True):
    """A client that waits out an outage of up to OUTAGE_SECONDS (``patient=False``: a few tries)."""
    import redis

    return redis.Redis.from_url(check_url(url), **_options(url, False, patient))


def async_client(url: str):
    import redis.asyncio

    return redis.asyncio.Redis.from_url(check_url(url), **_options(url, True, True))


def first_contact(url: str) -> None:
    """Raise UsageError (one line, password masked) unless Redis answers at ``url``."""
    import redis

    client = sync_client(url, patient=False)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise UsageError(describe_error(exc, url)) from None
    finally:
        client.close()


def describe_error(exc: BaseException, url: str) -> str:
    """A one-line reason a Redis command failed, without the password."""
    text = str(exc) or type(exc).__name__
    password = urlsplit(url).password or os.environ.get(PASSWORD_ENV)
    if password:
        text = text.replace(password, "***")
    return f"Redis at {mask_url(url)}: {text}"
