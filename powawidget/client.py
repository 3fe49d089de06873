"""The Powabase HTTP client: authenticated requests, safe retries, and a stoppable event stream.

`PowabaseClient.stream_run` returns a `RunStream`, an iterator of canonical event dicts
(see `powawidget.events`). Bytes are read with `read1`, so each event reaches the caller
as soon as its blank line arrives — for chunked, close-delimited and gzip bodies alike
(requests' `iter_lines`/`iter_content` wait for EOF on close-delimited bodies).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import requests
import requests.auth
import urllib3.exceptions

from powawidget import __version__
from powawidget.errors import (
    ENV_API_KEY,
    ENV_API_KEY_ALIAS,
    ENV_BASE_URL,
    ConfigurationError,
    ConnectionFailedError,
    PowabaseError,
    StreamError,
    error_for_status,
    parse_retry_after,
    scrub,
    summarise_body,
)
from powawidget.events import EventNormaliser
from powawidget.sse import ServerSentEvent, iter_events

__all__ = ["PowabaseClient", "RunStream"]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
READ_SIZE = 64 * 1024
ERROR_BODY_LIMIT = 64 * 1024
TERMINAL_EVENTS = frozenset({"complete", "error"})


class PowabaseClient:
    """A client for one Powabase project: one `requests.Session`, both auth headers, retries.

    Args:
        base_url: the project URL; defaults to $POWABASE_BASE_URL.
        api_key: the project key; defaults to $POWABASE_API_KEY (or $POWABASE_SERVICE_ROLE_KEY).
        connect_timeout: seconds to establish a connection.
        idle_timeout: seconds without any byte (keepalives count) before a read gives up;
            there is no total timeout, runs can last many minutes.
        max_retries: retries before the first byte of an answer (connection errors, 429,
            502, 503, 504); 0 disables them.
        backoff, max_backoff: exponential backoff with full jitter, capped; a Retry-After
            header is honoured up to `max_backoff`.
        sleep, jitter: injectable `time.sleep` and `random.random` (for fast tests).
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
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._base_url = _resolve_base_url(base_url)
        key = _resolve_api_key(api_key)
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._jitter = jitter
        self._key = key
        self._session = requests.Session()
        self._session.auth = _KeyAuth(key)
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
        self, agent_id: str, message: str, session_id: str | None = None, **options: Any
    ) -> RunStream:
        """Start a run and return its event stream.

        Configuration and HTTP errors (and a 200 that is not an event stream) raise here, at
        once; the body is read lazily as the caller iterates. `options` (temperature,
        timeout_seconds, …) go into the request body; None values are left out.
        """
        body: dict[str, Any] = {"message": message}
        if session_id:
            body["session_id"] = session_id
        body.update({k: v for k, v in options.items() if v is not None})
        response = self._request(
            "POST",
            f"/api/agents/{_segment(agent_id)}/run/stream",
            json_body=body,
            headers={"Accept": "text/event-stream", "Cache-Control": "no-cache"},
            subject=f"Agent {agent_id!r}",
            not_found_advice="Check the agent id: list_agents() shows the agents you can run.",
        )
        content_type = response.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            start = _read_start(response, self._key)
            raise StreamError(
                f"Expected an event stream, but the server answered HTTP "
                f"{response.status_code} with Content-Type {content_type or 'none'!r}: "
                f"{summarise_body(start) or '(empty)'!r}. Check that {ENV_BASE_URL} is the "
                "project's API URL (https://<ref>.p.powabase.ai), not a web page, a login "
                "portal or a proxy.",
                status_code=response.status_code,
                code="not_event_stream",
                body=start,
            )
        return RunStream(response, agent_id=agent_id, idle_timeout=self.idle_timeout)

    def get_run(self, run_id: str) -> dict:
        """The stored run: status, content, usage, tool calls, events."""
        return self._json("GET", f"/api/agents/runs/{_segment(run_id)}", subject=f"Run {run_id!r}")

    def approve(self, run_id: str, approved: bool, reason: str | None = None) -> dict:
        """Answer a run's approval request (`approved` True or False, with an optional reason)."""
        body: dict[str, Any] = {"approved": bool(approved)}
        if reason is not None:
            body["reason"] = reason
        return self._json(
            "POST",
            f"/api/agents/runs/{_segment(run_id)}/approve",
            json_body=body,
            subject=f"A run {run_id!r} waiting for approval",
            not_found_advice=(
                "The run is not waiting for approval: it may have finished, timed out "
                "(runs wait 300 s) or been answered already — or the run id is wrong."
            ),
        )

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
            not_found_advice="Check the agent id: list_agents() shows the agents you can run.",
        )

    def agent_sessions(self, agent_id: str) -> list[dict]:
        """An agent's sessions (session_id, run_count, last_activity_at, first_message, …)."""
        data = self._json(
            "GET", f"/api/agents/{_segment(agent_id)}/sessions", subject=f"Agent {agent_id!r}"
        )
        return _items(data, "sessions")

    def session_messages(self, session_id: str) -> list[dict]:
        """A session's messages from completed runs: role, content, run_id, timestamp."""
        data = self._json(
            "GET",
            f"/api/sessions/{_segment(session_id)}/messages",
            subject=f"Session {session_id!r}",
            not_found_advice="Check the session id: agent_sessions(agent_id) lists them.",
        )
        return _items(data, "messages")

    # -- transport --------------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON answer."""
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            start = scrub(response.text[:500], self._key)
            raise PowabaseError(
                f"The server answered {method} {path} with something that is not JSON: "
                f"{summarise_body(start)!r}. Check that {ENV_BASE_URL} is the project's API URL.",
                status_code=response.status_code,
                code="unexpected_response",
                body=start,
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
    ) -> requests.Response:
        """Send with retries before the first byte; return a 2xx response with its body unread."""
        url = self._base_url + path
        attempt = 0
        while True:
            try:
                response = self._session.request(
                    method,
                    url,
                    json=json_body,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(self.connect_timeout, self.idle_timeout),
                )
            except requests.exceptions.SSLError as exc:
                raise ConnectionFailedError(
                    f"The TLS handshake with {self._base_url} failed ({self._reason(exc)}). "
                    f"Check that {ENV_BASE_URL} uses the right host; behind a proxy that "
                    "inspects TLS, point REQUESTS_CA_BUNDLE at its certificate.",
                ) from None
            except requests.ConnectionError as exc:
                if attempt >= self.max_retries:
                    raise ConnectionFailedError(
                        f"Could not reach {self._base_url} ({self._reason(exc)}) after "
                        f"{attempt + 1} attempt(s). Check {ENV_BASE_URL} and your network; for "
                        "the built-in local server run `powawidget serve`.",
                    ) from None
                delay = self._delay(attempt, None)
                log.info("%s %s: %s; retrying in %.2f s", method, path, self._reason(exc), delay)
            except requests.Timeout:
                raise StreamError(
                    f"{method} {path}: no answer from {self._base_url} within "
                    f"{self.idle_timeout:g} s (idle timeout). The server may still be working; "
                    "raise idle_timeout= for slow agents.",
                    code="idle_timeout",
                ) from None
            except requests.RequestException as exc:
                raise PowabaseError(
                    f"{method} {path} could not be sent: {self._reason(exc)}. "
                    f"Check {ENV_BASE_URL}.",
                    code="request_failed",
                ) from None
            else:
                if 200 <= response.status_code < 300:
                    return response
                error = self._error(response, subject, not_found_advice)
                if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    raise error
                delay = self._delay(attempt, getattr(error, "retry_after", None))
                log.info(
                    "%s %s: HTTP %s; retrying in %.2f s", method, path, error.status_code, delay
                )
            self._sleep(delay)
            attempt += 1

    def _reason(self, exc: BaseException) -> str:
        """A transport exception's innermost cause, key masked."""
        return scrub(_reason(exc), self._key)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry `attempt` + 1: Retry-After (capped), else full-jitter backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        return self._jitter() * min(self.max_backoff, self.backoff * 2**attempt)

    def _error(
        self, response: requests.Response, subject: str, not_found_advice: str
    ) -> PowabaseError:
        """The typed error for an error answer (body read, scrubbed and closed)."""
        status = response.status_code
        if 300 <= status < 400:
            response.close()
            target = response.headers.get("Location", "elsewhere")
            return PowabaseError(
                f"The server redirected the request to {target} (HTTP {status}). Set "
                f"{ENV_BASE_URL} to the URL it moved to; powawidget does not follow redirects "
                "so the key is never sent to another address.",
                status_code=status,
                code="redirected",
            )
        body = _read_start(response, self._key, ERROR_BODY_LIMIT)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return error_for_status(
            status,
            body=body,
            content_type=response.headers.get("Content-Type", "").lower(),
            retry_after=retry_after,
            subject=subject,
            not_found_advice=not_found_advice,
        )


class RunStream:
    """The events of one run, as canonical dicts, read as they arrive; stoppable from any thread.

    Iterate it (once). `stop()` ends a blocked read at once and closes the connection;
    iteration then ends normally. A connection lost mid-run, or a stream that ends before
    `complete`/`error`, raises `StreamError("stream_lost")`; silence longer than the idle
    timeout raises `StreamError("idle_timeout")` — both after every event received was
    yielded. `events` keeps all yielded events.
    """

    def __init__(
        self, response: requests.Response, *, agent_id: str | None = None, idle_timeout: float
    ) -> None:
        self.agent_id = agent_id
        self.events: list[dict] = []
        self.stopped = False
        self._response = response
        self._idle_timeout = idle_timeout
        self._socket = _socket_of(response)
        self._read_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._normaliser = EventNormaliser()
        self._sse: Iterator[ServerSentEvent] = iter_events(self._chunks())
        self._finished = False
        self._closed = False
        self._terminal_seen = False

    @property
    def run_id(self) -> str | None:
        """The run id, once the stream named it."""
        return self.events[-1]["run_id"] if self.events else None

    @property
    def session_id(self) -> str | None:
        """The session id, once the stream named it (pass it back to continue the session)."""
        return self.events[-1]["session_id"] if self.events else None

    @property
    def finished(self) -> bool:
        """True once iteration ended (normally, stopped, or by an error)."""
        return self._finished

    def __iter__(self) -> RunStream:
        return self

    def __next__(self) -> dict:
        if self._finished:
            raise StopIteration
        try:
            sse = next(self._sse)
        except StopIteration:
            self._finish()
            if not self._stop_requested.is_set() and not self._terminal_seen:
                raise StreamError(
                    f"The stream ended before the run completed, after {len(self.events)} "
                    "event(s). The server finishes runs in the background: look the run up "
                    "with get_run(run_id) or reload the session. Not retried automatically, "
                    "because a run is not idempotent.",
                    code="stream_lost",
                ) from None
            raise
        except KeyboardInterrupt:
            self.stopped = True  # Ctrl-C during a read: the user stopped the run
            self._finish()
            raise
        except BaseException:
            self._finish()
            raise
        if self._stop_requested.is_set():
            self._finish()
            raise StopIteration
        event = self._normaliser.normalise(sse)
        if event["event"] in TERMINAL_EVENTS:
            self._terminal_seen = True
        self.events.append(event)
        return event

    def stop(self) -> None:
        """Stop reading (thread-safe): ends a blocked read within milliseconds, closes the socket.

        Events received so far stay in `events`; iteration ends without raising. A no-op
        once the stream has finished.
        """
        if self._finished or self._stop_requested.is_set():
            return
        self.stopped = True
        self._stop_requested.set()
        self._shutdown_socket()
        if self._read_lock.acquire(blocking=False):
            try:
                self._close_response()
            finally:
                self._read_lock.release()

    def close(self) -> None:
        """Release the connection; stops the run's stream if it is still being read."""
        if self._finished:
            self._close_response()
        else:
            self.stop()

    def __enter__(self) -> RunStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else "finished" if self._finished else "open"
        return (
            f"<RunStream agent={self.agent_id!r} run={self.run_id!r} {state} "
            f"events={len(self.events)}>"
        )

    def _chunks(self) -> Iterator[bytes]:
        """Decoded body bytes as they arrive; translates transport failures into StreamError."""
        raw = self._response.raw
        while not self._stop_requested.is_set():
            with self._read_lock:
                if self._stop_requested.is_set():
                    return
                try:
                    data = raw.read1(READ_SIZE, decode_content=True)
                except urllib3.exceptions.ReadTimeoutError:
                    if self._stop_requested.is_set():
                        return
                    raise StreamError(
                        f"No data from the server for {self._idle_timeout:g} s (idle timeout) "
                        f"after {len(self.events)} event(s). Raise idle_timeout= if the agent "
                        "works silently for longer, or check the network. The server finishes "
                        "the run in the background: get_run(run_id) shows it.",
                        code="idle_timeout",
                    ) from None
                except (
                    urllib3.exceptions.HTTPError,
                    http.client.HTTPException,
                    OSError,
                    ValueError,
                    AttributeError,
                ) as exc:
                    if self._stop_requested.is_set():
                        return
                    raise StreamError(
                        f"The connection was lost mid-run after {len(self.events)} event(s) "
                        f"({_reason(exc)}). The server finishes the run in the background: "
                        "look it up with get_run(run_id) or reload the session. Not retried "
                        "automatically, because a run is not idempotent.",
                        code="stream_lost",
                    ) from None
            if not data:
                return
            yield data

    def _finish(self) -> None:
        """Mark iteration over and release the connection."""
        self._finished = True
        with self._read_lock:
            self._close_response()

    def _shutdown_socket(self) -> None:
        """Shut the socket down under a blocked read (wakes it at once); safe from any thread."""
        sock = self._socket
        if sock is None:
            return
        # The plain-socket call, also for TLS: SSLSocket.shutdown would tear down the TLS
        # object while the reading thread may be inside it.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _close_response(self) -> None:
        """Close the response once (a stopped connection is never returned to the pool)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._response.close()
        except Exception:  # closing a half-read or shut-down response must not mask anything
            log.debug("closing the run stream's response failed", exc_info=True)


class _KeyAuth(requests.auth.AuthBase):
    """Puts the key in both headers Powabase checks (as auth, so ~/.netrc cannot replace it)."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["apikey"] = self._key
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return "<Powabase key auth>"


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket under a streaming response (urllib3 2.x keeps its connection on `.raw`)."""
    raw = response.raw
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _read_start(response: requests.Response, secret: str, limit: int = 500) -> str:
    """The first `limit` bytes of a body as text (decoded, key masked); closes the response."""
    try:
        data = response.raw.read(limit, decode_content=True) or b""
    except Exception:
        data = b""
    finally:
        response.close()
    return scrub(data.decode("utf-8", errors="replace"), secret)


def _resolve_base_url(base_url: str | None) -> str:
    """The base URL from the argument or the environment, checked; no trailing slash."""
    value = (base_url if base_url is not None else os.environ.get(ENV_BASE_URL, "")).strip()
    if not value:
        raise ConfigurationError(
            f"No Powabase URL: set {ENV_BASE_URL} to your project URL "
            "(https://<ref>.p.powabase.ai) or pass base_url=. For a local server with no "
            "account, run `powawidget serve` or use --local."
        )
    if not value.lower().startswith(("http://", "https://")):
        raise ConfigurationError(
            f"The Powabase URL {value!r} must start with https:// (or http:// for a local "
            f"server): fix {ENV_BASE_URL} or base_url=."
        )
    return value.rstrip("/")


def _resolve_api_key(api_key: str | None) -> str:
    """The API key from the argument or the environment (with its alias), checked."""
    value = api_key
    if value is None:
        value = os.environ.get(ENV_API_KEY) or os.environ.get(ENV_API_KEY_ALIAS)
    value = (value or "").strip()
    if not value:
        raise ConfigurationError(
            f"No Powabase API key: set {ENV_API_KEY} (or {ENV_API_KEY_ALIAS}) to the "
            "project's service role key, or pass api_key=."
        )
    if any(ch in value for ch in "\r\n\0") or not value.isascii() or " " in value:
        raise ConfigurationError(
            f"The API key contains spaces, line breaks or non-ASCII characters: copy it again "
            f"into {ENV_API_KEY} (or api_key=)."
        )
    return value


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


def _reason(exc: BaseException) -> str:
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
