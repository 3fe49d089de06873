"""The client's retry policy: which failures may be retried, and how long to wait.

Retries happen only before the first byte of an answer. A request is resent after a
refusal (429, 502, 503, 504) or a failure that proves it never left; a non-idempotent one
(a run, an approval) is never resent after a failure the server may have seen.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
import urllib3.exceptions

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "backoff_delay", "never_sent"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures that prove no byte of the request left: no connection (refused, DNS, connect
# timeout; NewConnectionError and NameResolutionError are ConnectTimeoutError subclasses)
# or no connection to the proxy in front of the server.
_CONNECT_PHASE = (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ProxyError)


def backoff_delay(
    attempt: int,
    retry_after: float | None,
    *,
    backoff: float,
    max_backoff: float,
    jitter: Callable[[], float],
) -> float:
    """Seconds before retry `attempt` + 1: the server's Retry-After (the caller refuses one
    past its cap before asking), else full-jitter backoff capped at `max_backoff`."""
    if retry_after is not None:
        return retry_after
    return jitter() * min(max_backoff, backoff * 2**attempt)


def never_sent(exc: BaseException) -> bool:
    """True when a transport failure proves the request never left (connect-phase failure).

    Anything else — the server hung up, a reset, a broken pipe — may come after the server
    received the request, so a non-idempotent one must not be sent again.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # requests > urllib3 > socket
        seen.add(id(current))
        if isinstance(current, _CONNECT_PHASE):
            return True
        inner = current.args[0] if current.args else None
        if not isinstance(inner, BaseException):
            inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = current.__cause__ or current.__context__
        current = inner
    return False
