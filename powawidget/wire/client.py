"""The Powabase HTTP client: authenticated requests, safe retries, every endpoint.

`PowabaseClient.stream_run` returns a `RunStream` (powawidget.wire.stream, re-exported here),
an iterator of canonical event dicts that reads the run's events as they arrive.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

from powawidget import __version__
from powawidget.wire.config import (
    KeyAuth,
    api_key_setting,
    base_url_setting,
    resolve_api_key,
    resolve_base_url,
)
from powawidget.wire.errors import (
    AGENT_ID_ADVICE,
    InvalidIdError,
    NotFoundError,
    PowabaseError,
    describe_cause,
    error_for_status,
    not_event_stream_error,
    not_json_error,
    parse_retry_after,
    redirect_error,
    scrub,
    send_failed_error,
)
from powawidget.wire.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, backoff_delay, never_sent
from powawidget.wire.stopping import CancelWatch, InflightRequest, StoppableAdapter
from powawidget.wire.stream import RunStream

__all__ = ["PowabaseClient", "RunStream"]

log = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024
APPROVE_NOT_FOUND_RETRIES = 3
"""Extra tries of an approval answered 404: a multi-worker server may route it to a worker
that does not hold the run for a moment (docs/protocol.md, Approvals)."""
APPROVE_NOT_FOUND_DELAY = 0.25
"""Seconds before the first such retry; doubled each time (0.25, 0.5, 1 s)."""
PAGE_SIZE = 100
"""Rows asked for per page of a listing (the server's own maximum)."""
AGENT_NOT_FOUND_ADVICE = (
    "Check the agent id: copy it from the agent's page in Powabase Studio (a ChatWidget "
    "made without agent_id= picks the project's first agent)."
)


class PowabaseClient:
    """A client for one Powabase project: one `requests.Session`, both auth headers, retries.

    Args:
        base_url: the project URL; defaults to $POWABASE_BASE_URL.
        api_key: the project key; defaults to $POWABASE_API_KEY (or $POWABASE_SERVICE_ROLE_KEY).
        connect_timeout: seconds to establish a connection.
        idle_timeout: seconds without any byte (keepalives count) before a read gives up;
            there is no total timeout, runs can last many minutes.
        max_retries: retries before the first byte of an answer (429, 502, 503, 504, and
            connection failures: for a run or an approval only those that prove the request
            never left, since the server may have started it); 0 disables them.
        backoff, max_backoff: exponential backoff with full jitter, capped; a Retry-After
            header is honoured up to `max_backoff`.
        sleep, jitter: injectable pause and `random.random` (for fast tests); by default a
            backoff waits on `stream_run`'s `cancel` event, so a stop cuts it short.
    """

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
    ) -> None:
        self._base_url = resolve_base_url(base_url)
        key = resolve_api_key(api_key)
        self._url_setting = base_url_setting(base_url)
        self._key_setting = api_key_setting(api_key)
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

    @property
    def base_url(self) -> str:
        """The project URL, without a trailing slash."""
        return self._base_url

    def __repr__(self) -> str:
        return f"PowabaseClient(base_url={self._base_url!r})"

    def __enter__(self) -> PowabaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    # -- runs -----------------------------------------------------------------------------

    def stream_run(
        self,
        agent_id: str,
        message: str,
        session_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        **options: Any,
    ) -> RunStream:
        """Start a run and return its event stream.

        Configuration and HTTP errors (and a 200 that is not an event stream) raise here, at
        once; the body is read lazily as the caller iterates. `options` (temperature,
        timeout_seconds, …) go into the request body; None values are left out.

        `cancel` (one event per run) is the run's stop flag, from any thread, at any time:
        set before the request, no request is sent; set during a retry backoff, the wait
        ends at once; set while waiting for the response headers, the connection is shut
        down at once (milliseconds). In those cases no error is raised: the `RunStream` returned is
        already `stopped` and yields nothing — exactly as if `stop()` had been called on it
        at once (a request that reached the server may still run there in the background).
        Later, setting `cancel` stops the stream like `RunStream.stop()`, which sets it too.
        """
        body: dict[str, Any] = {"message": message}
        if session_id:
            body["session_id"] = session_id
        body.update({k: v for k, v in options.items() if v is not None})
        inflight = watch = None
        if cancel is not None:
            inflight = InflightRequest()
            watch = CancelWatch(cancel, inflight.abort)
        try:
            response = self._request(
                "POST",
                f"/api/agents/{_segment(agent_id)}/run/stream",
                json_body=body,
                headers={"Accept": "text/event-stream", "Cache-Control": "no-cache"},
                subject=f"Agent {agent_id!r}",
                not_found_advice=AGENT_NOT_FOUND_ADVICE,
                bad_id_advice=AGENT_ID_ADVICE,
                resend_advice=(
                    "The run may have started on the server: look for it in the agent's "
                    "sessions (w.sessions() in a notebook) before sending the message again. "
                    "Not retried automatically, because a run is not idempotent."
                ),
                cancel=cancel,
                inflight=inflight,
            )
        except _Stopped:
            return RunStream.stopped_before_start(agent_id, cancel)
        finally:
            if watch is not None:
                watch.close()
        if cancel is not None and cancel.is_set():
            response.close()
            return RunStream.stopped_before_start(agent_id, cancel)
        content_type = response.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            start = _read_start(response, self._key)
            raise not_event_stream_error(
                response.status_code, content_type, start, self._url_setting
            )
        return RunStream(response, agent_id=agent_id, idle_timeout=self.idle_timeout, cancel=cancel)

    def get_run(self, run_id: str, *, timeout: float | None = None) -> dict:
        """The stored run: status, content, usage, tool calls, events.

        With `timeout`, one attempt that waits at most that long (connect and read each).
        """
        return self._json(
            "GET",
            f"/api/agents/runs/{_segment(run_id)}",
            subject=f"Run {run_id!r}",
            timeout=timeout,
            retries=0 if timeout is not None else None,
        )

    def approve(self, run_id: str, approved: bool, reason: str | None = None) -> dict:
        """Answer a run's approval request (`approved` True or False, with an optional reason).

        A 404 is asked again a few times with a short backoff (a multi-worker server may
        route the answer to a worker that does not hold the run, for a moment); a 404 that
        persists means the run is no longer waiting.
        """
        if not isinstance(approved, bool):
            raise TypeError(f"approved must be True (approve) or False (deny), not {approved!r}.")
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"reason must be text (or None), not {type(reason).__name__}.")
        body: dict[str, Any] = {"approved": approved}
        if reason is not None:
            body["reason"] = reason
        attempt = 0
        while True:
            try:
                return self._json(
                    "POST",
                    f"/api/agents/runs/{_segment(run_id)}/approve",
                    json_body=body,
                    subject=f"A run {run_id!r} waiting for approval",
                    not_found_advice=(
                        "The run is not waiting for approval: it may have finished, timed out "
                        "(runs wait 300 s) or been answered already."
                    ),
                    bad_request_advice=(
                        "The server wants approved as true or false, and reason as text."
                    ),
                    resend_advice=(
                        "The answer may have reached the run: watch for its next events "
                        "before answering again."
                    ),
                )
            except NotFoundError:
                if attempt >= APPROVE_NOT_FOUND_RETRIES:
                    raise
            delay = APPROVE_NOT_FOUND_DELAY * 2**attempt
            log.info("approve %s: HTTP 404; asking again in %.2f s", run_id, delay)
            self._pause(delay, None)
            attempt += 1

    # -- agents and sessions ----------------------------------------------------------------

    def list_agents(self) -> list[dict]:
        """The project's agents (id, name, model, …), in the server's order."""
        return _items(self._json("GET", "/api/agents", subject="The agent list"), "agents")

    def get_agent(self, agent_id: str) -> dict:
        """One agent's settings."""
        return self._json(
            "GET",
            f"/api/agents/{_segment(agent_id)}",
            subject=f"Agent {agent_id!r}",
            not_found_advice=AGENT_NOT_FOUND_ADVICE,
            bad_id_advice=AGENT_ID_ADVICE,
        )

    def list_sessions(self, agent_id: str) -> list[dict]:
        """An agent's sessions (session_id, run_count, last activity, …), every page."""
        return self._pages(
            f"/api/agents/{_segment(agent_id)}/sessions",
            "sessions",
            subject=f"Agent {agent_id!r}",
            not_found_advice=AGENT_NOT_FOUND_ADVICE,
            bad_id_advice=AGENT_ID_ADVICE,
        )

    agent_sessions = list_sessions  # the name earlier versions used

    def create_session(self, agent_id: str, initial_messages: list[dict] | None = None) -> dict:
        """Open a session for an agent, optionally seeded with messages ({role, content})."""
        body: dict[str, Any] = {}
        if initial_messages is not None:
            body["initial_messages"] = list(initial_messages)
        return self._json(
            "POST",
            f"/api/agents/{_segment(agent_id)}/sessions",
            json_body=body,
            subject=f"Agent {agent_id!r}",
            not_found_advice=AGENT_NOT_FOUND_ADVICE,
            bad_id_advice=AGENT_ID_ADVICE,
            resend_advice="The session may exist already: list the agent's sessions first.",
        )

    def delete_session(self, agent_id: str, session_id: str) -> dict:
        """Delete one of an agent's sessions and its runs."""
        return self._json(
            "DELETE",
            f"/api/agents/{_segment(agent_id)}/sessions/{_segment(session_id)}",
            subject=f"Session {session_id!r} of agent {agent_id!r}",
            not_found_advice="Check the session id: the agent's sessions list shows them.",
            bad_id_advice=AGENT_ID_ADVICE,
        )

    def session_messages(self, session_id: str) -> list[dict]:
        """A session's messages from completed runs: role, content, run_id, timestamp."""
        data = self._json(
            "GET",
            f"/api/sessions/{_segment(session_id)}/messages",
            subject=f"Session {session_id!r}",
            not_found_advice="Check the session id: the agent's sessions list shows them.",
        )
        return _items(data, "messages")

    def get_session_runs(self, session_id: str) -> list[dict]:
        """Every run of a session, oldest first (failed and running ones too), each with its
        stored `events` and `tool_calls`; every page."""
        return self._pages(
            f"/api/sessions/{_segment(session_id)}/runs",
            "runs",
            subject=f"Session {session_id!r}",
            not_found_advice="Check the session id: the agent's sessions list shows them.",
        )

    # -- transport --------------------------------------------------------------------------

    def _pages(self, path: str, key: str, **kwargs: Any) -> list[dict]:
        """Every item of a paged listing (limit/offset), page after page until a short one."""
        items: list[dict] = []
        while True:
            data = self._json("GET", f"{path}?limit={PAGE_SIZE}&offset={len(items)}", **kwargs)
            page = _items(data, key)
            items.extend(page)
            total = data.get("total") if isinstance(data, dict) else None
            if (
                isinstance(data, list)  # not paged
                or len(page) != PAGE_SIZE  # the last page (or a server that ignores limit)
                or (isinstance(total, int) and len(items) >= total)
            ):
                return items

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON answer."""
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            start = scrub(response.text[:500], self._key)
            raise not_json_error(
                f"{method} {path}", response.status_code, start, self._url_setting
            ) from None
        finally:
            response.close()

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
    ) -> requests.Response:
        """Send with retries before the first byte; return a 2xx response with its body unread.

        A POST is resent only after failures that prove it never left (no connection) or
        that the server refused it (429, 502, 503, 504); `resend_advice` says what to check
        when it may have been received. Raises `_Stopped` once `cancel` is set (checked
        before each attempt, after each failure, and by ending the backoff wait early).
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
            _check(cancel)
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
                _check(cancel)  # a failure the stop itself caused (its socket was shut down)
                delay = self._retry_delay_after(
                    exc, method, path, attempt, resend_advice, max_retries
                )
            else:
                if 200 <= response.status_code < 300:
                    return response
                error = self._error(
                    response, subject, not_found_advice, bad_id_advice, bad_request_advice
                )
                _check(cancel)
                if (
                    isinstance(error, InvalidIdError)  # permanent, whatever its status
                    or response.status_code not in RETRY_STATUSES
                    or attempt >= max_retries
                ):
                    raise error
                delay = self._delay(attempt, getattr(error, "retry_after", None))
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

    def _error(
        self,
        response: requests.Response,
        subject: str,
        not_found_advice: str,
        bad_id_advice: str,
        bad_request_advice: str = "",
    ) -> PowabaseError:
        """The typed error for an error answer (body read, scrubbed and closed)."""
        status = response.status_code
        if 300 <= status < 400:
            response.close()
            return redirect_error(
                status, response.headers.get("Location", "elsewhere"), self._url_setting
            )
        body = _read_start(response, self._key, ERROR_BODY_LIMIT)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = error_for_status(
            status,
            body=body,
            content_type=response.headers.get("Content-Type", "").lower(),
            retry_after=retry_after,
            subject=subject,
            not_found_advice=not_found_advice,
            bad_id_advice=bad_id_advice,
            key_setting=self._key_setting,
        )
        if status == 400 and bad_request_advice:
            error.message = f"{error.message} {bad_request_advice}"
        return error


def _read_start(response: requests.Response, secret: str, limit: int = 500) -> str:
    """The first `limit` bytes of a body as text (decoded, key masked); closes the response."""
    try:
        data = response.raw.read(limit, decode_content=True) or b""
    except Exception:
        data = b""
    finally:
        response.close()
    return scrub(data.decode("utf-8", errors="replace"), secret)


def _segment(value: str) -> str:
    """An id as one URL path segment (slashes and the like escaped)."""
    return quote(str(value), safe="")


def _items(data: Any, key: str) -> list[dict]:
    """The list under `key` of a listing answer (or the answer itself when it is a list)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key]
    return []


class _Stopped(Exception):
    """Raised inside the retry loop once the caller's cancel event is set."""


def _check(cancel: threading.Event | None) -> None:
    """Raise `_Stopped` when the run was stopped before its stream started."""
    if cancel is not None and cancel.is_set():
        raise _Stopped
