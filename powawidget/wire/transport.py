"""Sending requests to Powabase: both auth headers, retries before the first byte, typed errors.

`Transport` owns the HTTP session and the retry policy (reading answers, error answers
included, is `powawidget.wire.reading`'s);
`PowabaseClient` (powawidget.wire.client) adds one method per endpoint on top of it.
Retries follow docs/protocol.md ("Retries"); errors say what to do next ("Errors before
the stream").
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from powawidget._version import __version__
from powawidget.wire.answers import is_uuid, long_wait_error, send_failed_error
from powawidget.wire.config import (
    NOTEBOOK,
    Audience,
    KeyAuth,
    Limits,
    api_key_setting,
    base_url_setting,
    resolve_api_key,
    resolve_base_url,
)
from powawidget.wire.errors import (
    InvalidIdError,
    PowabaseError,
    describe_cause,
    scrub,
    scrub_error,
)
from powawidget.wire.reading import PAGE_SIZE, AnswerReading, read_start
from powawidget.wire.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, backoff_delay, never_sent
from powawidget.wire.stopping import InflightRequest, StoppableAdapter

__all__ = [
    "PAGE_SIZE",
    "Stopped",
    "Transport",
    "check_stopped",
    "read_start",
    "segment",
]

log = logging.getLogger(__name__)

Self = TypeVar("Self", bound="Transport")


class Transport(AnswerReading):
    """One project's HTTP session (both auth headers, pooled connections) and retry policy;
    the arguments are described on `PowabaseClient`."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        connect_timeout: float = 10.0,
        idle_timeout: float = 300.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] = random.random,
        origin: str | None = None,
        on_error_answer: Callable[[PowabaseError], None] | None = None,
        uuid_agent_ids: bool = True,
        max_event_mb: float | None = None,
        max_answer_mb: float | None = None,
        max_decompressed_mb: float | None = None,
        max_retry_after: float | None = None,
        audience: Audience = NOTEBOOK,
    ) -> None:
        self.audience = audience  # who reads the advice in errors: a notebook or a terminal
        self._base_url = resolve_base_url(base_url, audience)
        self.limits = Limits.resolve(
            max_event_mb=max_event_mb,
            max_answer_mb=max_answer_mb,
            max_decompressed_mb=max_decompressed_mb,
            max_retry_after=max_retry_after,
        )
        self.uuid_agent_ids = uuid_agent_ids
        self.on_error_answer = on_error_answer
        key = resolve_api_key(api_key, audience)
        # Advice names where the URL and key came from: the caller's setting, or `origin`.
        self.origin = origin  # a server powawidget chose (the built-in local one), or None
        self._url_setting = origin or base_url_setting(base_url, audience)
        self._key_setting = origin or api_key_setting(api_key, audience)
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._jitter = jitter
        self._key = key
        self._session = requests.Session()
        self._session.mount("http://", StoppableAdapter())
        self._session.mount("https://", StoppableAdapter())
        self._session.auth = KeyAuth(key)
        self._session.headers["User-Agent"] = f"powawidget/{__version__}"

    def size_pool(self, connections: int) -> None:
        """Keep up to `connections` connections per host open for reuse (requests keeps 10):
        an evaluation running that many streams at once reconnects for none of them."""
        size = max(10, int(connections))
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, StoppableAdapter(pool_maxsize=size))

    @property
    def base_url(self) -> str:
        """The project URL, without a trailing slash."""
        return self._base_url

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def redact(self, text: str) -> str:
        """`text` with this client's key masked (as is, URL-encoded, or as a URL parameter)."""
        return scrub(text, self._key)

    def redact_error(self, error: PowabaseError) -> PowabaseError:
        """`error` with this client's key masked in its message and body (returns it)."""
        return scrub_error(error, self._key)

    def _bad_agent_id(self, agent_id: str) -> str | None:
        """`agent_id` when this server wants UUIDs and it is not one (a 500 then means the
        id is wrong, whatever the page says), else None."""
        return agent_id if self.uuid_agent_ids and not is_uuid(agent_id) else None

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        subject: str = "The resource",
        not_found_advice: str = "Check the id.",
        bad_id_advice: str = "Check the ids you passed.",
        bad_request_advice: str = "",
        resend_advice: str = "",
        cancel: threading.Event | None = None,
        inflight: InflightRequest | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        agent_id: str | None = None,
    ) -> requests.Response:
        """Send with retries before the first byte; return a 2xx response with its body unread.

        A POST is resent only after failures that prove it never left (no connection) or
        that the server refused it (429, 502, 503, 504); `resend_advice` says what to check
        when it may have been received. A Retry-After is waited out up to the client's cap;
        past it the error is raised at once, naming the wait. `agent_id`: the path's agent,
        so a 500 for one that is not a UUID is the permanent invalid-id error. Raises
        `Stopped` once `cancel` is set (checked before each attempt, after each failure, and
        by ending the backoff wait early).
        """
        url = self._base_url + path
        max_retries = self.max_retries if retries is None else retries
        timeouts = (
            (self.connect_timeout, self.idle_timeout)
            if timeout is None
            else (min(self.connect_timeout, timeout), timeout)
        )
        attempt = 0
        while True:
            check_stopped(cancel)
            try:
                with inflight or contextlib.nullcontext():
                    response = self._session.request(
                        method,
                        url,
                        json=json_body,
                        headers=headers,
                        stream=True,
                        allow_redirects=False,
                        timeout=timeouts,
                    )
            except requests.RequestException as exc:
                check_stopped(cancel)  # a failure the stop itself caused (its socket was shut down)
                delay = self._retry_delay_after(
                    exc, method, path, attempt, resend_advice, max_retries
                )
            else:
                if 200 <= response.status_code < 300:
                    return response
                error = self._error(
                    response,
                    subject,
                    not_found_advice,
                    bad_id_advice,
                    bad_request_advice,
                    self._bad_agent_id(agent_id) if agent_id is not None else None,
                )
                if self.on_error_answer is not None:
                    self.on_error_answer(error)
                check_stopped(cancel)
                if (
                    isinstance(error, InvalidIdError)  # permanent, whatever its status
                    or response.status_code not in RETRY_STATUSES
                ):
                    raise error
                wait_cap = self.limits.retry_after
                if error.retry_after is not None and error.retry_after > wait_cap.value:
                    raise long_wait_error(error, wait_cap)  # fail at once, saying how long
                if attempt >= max_retries:
                    raise error
                delay = self._delay(attempt, error.retry_after)
                log.info(
                    "%s %s: HTTP %s; retrying in %.2f s", method, path, error.status_code, delay
                )
            self._pause(delay, cancel)
            attempt += 1

    def _retry_delay_after(
        self,
        exc: requests.RequestException,
        method: str,
        path: str,
        attempt: int,
        resend_advice: str = "",
        max_retries: int | None = None,
    ) -> float:
        """The backoff before retrying a failed send, or the typed error when it is final."""
        if isinstance(exc, requests.exceptions.SSLError):
            kind = "tls"  # a certificate problem: retrying cannot help
        elif isinstance(exc, requests.ConnectionError):
            kind = "unreachable" if never_sent(exc) else "no_answer"
            retry = kind == "unreachable" or method.upper() in IDEMPOTENT_METHODS
            limit = self.max_retries if max_retries is None else max_retries
            if retry and attempt < limit:
                delay = self._delay(attempt, None)
                log.info("%s %s: %s; retrying in %.2f s", method, path, self._reason(exc), delay)
                return delay
        else:
            kind = "timeout" if isinstance(exc, requests.Timeout) else "not_sent"
        raise send_failed_error(
            kind,
            base_url=self._base_url,
            cause=self._reason(exc),
            attempts=attempt + 1,
            what=f"{method} {path}",
            wait=self.idle_timeout,
            advice=resend_advice,
            url_setting=self._url_setting,
            idle_setting=self.audience.idle_timeout,
        ) from None

    def _pause(self, seconds: float, cancel: threading.Event | None) -> None:
        """Wait out a backoff; a set `cancel` event ends the wait at once."""
        if self._sleep is not None:
            self._sleep(seconds)
        elif cancel is not None:
            cancel.wait(seconds)
        else:
            time.sleep(seconds)

    def _reason(self, exc: BaseException) -> str:
        """A transport exception's innermost cause, key masked."""
        return scrub(describe_cause(exc), self._key)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry `attempt` + 1 under this client's backoff settings."""
        return backoff_delay(
            attempt,
            retry_after,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
            jitter=self._jitter,
        )


def segment(value: str) -> str:
    """An id as one URL path segment (slashes and the like escaped)."""
    return quote(str(value), safe="")


class Stopped(Exception):
    """Raised inside the retry loop once the caller's cancel event is set."""


def check_stopped(cancel: threading.Event | None) -> None:
    """Raise `Stopped` when the run was stopped before its stream started."""
    if cancel is not None and cancel.is_set():
        raise Stopped
