"""Typed errors for everything that can go wrong talking to Powabase, each saying what to do next.

All errors share one base class, `PowabaseError`, so callers can catch one thing. Each carries
a stable `code` (used as `error_code` in client-side events), the HTTP `status_code` when
there was one, and the start of the response `body` — never the API key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

from powawidget.wire.config import NOTEBOOK, Audience
from powawidget.wire.orchestrations import not_found_frame, orchestration_not_found_advice

BODY_LIMIT = 500
"""How much of a failed answer's body an error keeps."""

__all__ = [
    "AuthenticationError",
    "ChatClosedError",
    "ConfigurationError",
    "ConnectionFailedError",
    "InsufficientCreditsError",
    "InvalidIdError",
    "NotFoundError",
    "PowabaseError",
    "RateLimitedError",
    "RunFailedError",
    "ServerError",
    "StreamError",
    "TooLargeError",
    "describe_cause",
    "scrub",
    "scrub_error",
]


class PowabaseError(Exception):
    """Base class of every powawidget error: message, HTTP status, stable code, body start."""

    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        body: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code if code is not None else self.default_code
        self.body = body[:BODY_LIMIT] if body is not None else None
        self.retry_after = retry_after  # seconds the server asked to wait (Retry-After)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class ConfigurationError(PowabaseError):
    """The base URL or API key is missing or unusable; the message names the env var to set."""

    default_code = "configuration"


class ConnectionFailedError(PowabaseError):
    """The server could not be reached at all (DNS, refused, connect timeout), after retries."""

    default_code = "connection_failed"


class AuthenticationError(PowabaseError):
    """401 (wrong or missing key) or 403 (the key lacks rights: use the service role key)."""

    default_code = "unauthorized"


class InsufficientCreditsError(PowabaseError):
    """402: the project is out of credits; never retried."""

    default_code = "insufficient_credits"


class NotFoundError(PowabaseError):
    """404: no such agent, session or run — or a run that is not waiting for approval."""

    default_code = "not_found"


class InvalidIdError(PowabaseError):
    """An id the server cannot read (a non-UUID agent id: a 500 page saying "invalid input
    syntax for type uuid"). Permanent: never retried, the message says what an id looks like."""

    default_code = "invalid_id"


class RateLimitedError(PowabaseError):
    """429 after the retries ran out (or a Retry-After past the cap); `retry_after` is the
    server's advice in seconds."""

    default_code = "rate_limited"


class ServerError(PowabaseError):
    """5xx: the server (or a gateway in front of it) failed; usually temporary."""

    default_code = "server_error"


class StreamError(PowabaseError):
    """The event stream broke: "stream_lost", "idle_timeout" or "not_event_stream"."""

    default_code = "stream_lost"


class TooLargeError(PowabaseError):
    """An answer past one of the client's caps: one event ("event_too_large"), one JSON
    answer ("answer_too_large"), or a compressed answer's expansion
    ("decompressed_too_large"). Reading stopped there; `limit` is the cap in bytes and
    `setting` the argument or variable that raises it."""

    default_code = "too_large"

    def __init__(self, message: str, *, limit: int, setting: str, code: str, **kwargs: Any) -> None:
        super().__init__(message, code=code, **kwargs)
        self.limit = limit
        self.setting = setting


class RunFailedError(PowabaseError):
    """The run itself failed: an `error` event or a `complete` with status "failed"."""

    default_code = "run_failed"

    @classmethod
    def from_event(cls, event: Mapping[str, Any], audience: Audience = NOTEBOOK) -> RunFailedError:
        """Build the error from a canonical failure event (error, failed complete); any
        advice is worded for `audience` (the client's)."""
        text = event.get("error_message") or "the agent run failed without a message"
        if not_found_frame(text):  # a 200 with one error frame: the id names nothing
            return cls(
                f"{text}: {orchestration_not_found_advice(audience)}",
                code="orchestration_not_found",
            )
        run_id = event.get("run_id")
        where = f" (run {run_id})" if run_id else ""
        code = event.get("error_code") or cls.default_code
        tag = f"[{code}] " if code != cls.default_code else ""  # the server's own code, shown
        return cls(f"{tag}The agent run failed{where}: {text}", code=code)


_SECRET_PARAM = re.compile(
    r"([?&;](?:api[_-]?key|key|token|access[_-]?token|auth|authorization|secret|password)=)"
    r"[^&#;\s\"'<>]*",
    re.IGNORECASE,
)


def scrub(text: str, secret: str | None) -> str:
    """`text` with the key masked wherever it appears, as is or URL-encoded, and the value
    of any key-like URL parameter (`?apikey=…`, `&token=…`) masked too: bodies, headers
    and URLs an error quotes never echo the key."""
    if secret and len(secret) >= 4:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return _SECRET_PARAM.sub(r"\1***", text)


def scrub_error(error: PowabaseError, secret: str | None) -> PowabaseError:
    """`error` with the key masked in its message, its body and its text (returns it)."""
    error.message = scrub(error.message, secret)
    if error.body is not None:
        error.body = scrub(error.body, secret)
    error.args = (error.message,)
    return error


def describe_cause(exc: BaseException) -> str:
    """The innermost cause of a transport exception, in one short line."""
    seen = exc
    for _ in range(8):  # requests wraps urllib3 wraps the socket error; never loop forever
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        inner = inner or getattr(seen, "reason", None) or seen.__context__
        if not isinstance(inner, BaseException) or inner is seen:
            break
        seen = inner
    text = str(seen) or type(seen).__name__
    return " ".join(text.split())[:200]


class ChatClosedError(RuntimeError):
    """A verb (send, ask, approve, retry, …) on a chat that was closed: nothing is sent."""


class RunInProgressError(RuntimeError):
    """A second message was sent while a run is still streaming (runs are never queued)."""
