"""Reading one run's event stream, and stopping it from any thread at any moment.

`RunStream` turns a streaming response into canonical event dicts (see `powawidget.wire.events`).
Bytes are read with `read1`, so each event reaches the caller as soon as its blank line
arrives — for chunked, close-delimited and gzip bodies alike (requests' `iter_lines` /
`iter_content` wait for EOF on close-delimited bodies). A stop shuts the socket down under
a blocked read (`powawidget.wire.stopping` does the same before there is a stream).
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
from collections.abc import Iterator

import requests
import urllib3.exceptions

from powawidget.wire.answers import too_large_error
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.config import Limits
from powawidget.wire.errors import StreamError, describe_cause
from powawidget.wire.events import EventNormaliser
from powawidget.wire.sse import EventTooLarge, ServerSentEvent, iter_events
from powawidget.wire.stopping import CancelWatch, shutdown_socket

__all__ = ["RunStream"]

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
TERMINAL_EVENTS = frozenset({"complete", "error"})


class RunStream:
    """The events of one run, as canonical dicts, read as they arrive; stoppable from any thread.

    Iterate it (once). `stop()` — or setting the `cancel` event it was made with — ends a
    blocked read at once and closes the connection; iteration then ends normally. A
    connection lost mid-run, or a stream that ends before `complete`/`error`, raises
    `StreamError("stream_lost")`; silence longer than the idle timeout raises
    `StreamError("idle_timeout")` — both after every event received was yielded. An event
    past `limits.event`, or a compressed body expanding past `limits.decompressed`, raises
    `TooLargeError` the same way (reading stops there; memory stays bounded). `events`
    keeps all yielded events. A stream stopped before the run started (see
    `PowabaseClient.stream_run`) has no response: it is `stopped` and yields nothing.
    """

    def __init__(
        self,
        response: requests.Response | None,
        *,
        agent_id: str | None = None,
        idle_timeout: float,
        cancel: threading.Event | None = None,
        limits: Limits | None = None,
        idle_setting: str = "idle_timeout=",
    ) -> None:
        self.agent_id = agent_id
        self._idle_setting = idle_setting  # how the user raises the idle timeout, for advice
        self._limits = limits if limits is not None else Limits.resolve()
        self.events: list[CanonicalEvent] = []
        self.stopped = False
        self._response = response
        self._idle_timeout = idle_timeout
        self._cancel = cancel
        self._watch: CancelWatch | None = None
        self._socket = _socket_of(response) if response is not None else None
        self._read_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._normaliser = EventNormaliser()
        self._sse: Iterator[ServerSentEvent] = iter_events(self._chunks(), self._limits.event.bytes)
        self._finished = False
        self._closed = False
        self._terminal_seen = False
        if response is None:  # stopped before the run started: nothing to read
            self.stopped = self._finished = self._closed = True
            self._stop_requested.set()

    @classmethod
    def stopped_before_start(
        cls, agent_id: str | None = None, cancel: threading.Event | None = None
    ) -> RunStream:
        """An already-stopped, empty stream: what a stop before the response headers leaves."""
        return cls(None, agent_id=agent_id, idle_timeout=0.0, cancel=cancel)

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

    def __next__(self) -> CanonicalEvent:
        if self._finished:
            raise StopIteration
        if self._cancel is not None:
            if self._cancel.is_set():
                self.stop()
            elif self._watch is None:  # watch only while someone reads: no idle threads
                self._watch = CancelWatch(self._cancel, self.stop)
        try:
            sse = next(self._sse)
        except StopIteration:
            self._finish()
            if not self._stop_requested.is_set() and not self._terminal_seen:
                raise StreamError(
                    f"The stream ended before the run completed, after {len(self.events)} "
                    f"event(s). {self._look_up_advice()}",
                    code="stream_lost",
                ) from None
            raise
        except EventTooLarge:
            self._finish()
            raise too_large_error(
                "event", "the run's stream", self._limits.event, self._kept_advice()
            ) from None
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

        Also sets the `cancel` event the stream was made with, so one flag tells every
        holder that the run was stopped. Events received so far stay in `events`;
        iteration ends without raising. A no-op once the stream has finished.
        """
        if self._finished or self._stop_requested.is_set():
            return
        self.stopped = True
        self._stop_requested.set()
        if self._cancel is not None:
            self._cancel.set()
        shutdown_socket(self._socket)
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
        if self._response is None:
            return
        raw = self._response.raw
        encoding = self._response.headers.get("Content-Encoding", "").strip().lower()
        expands = encoding not in ("", "identity")  # count what a compressed body grows to
        decompressed = self._limits.decompressed
        total = 0
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
                        f"after {len(self.events)} event(s). Raise {self._idle_setting} if the "
                        "agent works silently for longer, or check the network. "
                        f"{self._look_up_advice()}",
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
                    log.debug("run stream lost: %s", describe_cause(exc))
                    raise StreamError(
                        f"The connection was lost mid-run after {len(self.events)} event(s) "
                        f"({_plain_cause(exc)}). {self._look_up_advice()}",
                        code="stream_lost",
                    ) from None
            if not data:
                return
            if expands:
                total += len(data)
                if total > decompressed.bytes:
                    raise too_large_error(
                        "decompressed", "the run's stream", decompressed, self._kept_advice()
                    )
            yield data

    def _kept_advice(self) -> str:
        """What a run cut at a cap keeps, and where the rest is."""
        return f"The {len(self.events)} event(s) before it are kept. {self._look_up_advice()}"

    def _look_up_advice(self) -> str:
        """Where to find the run the server goes on with, naming it when the stream did."""
        if self.session_id:
            where = f"reload session {self.session_id} to see how it ended"
        else:
            where = "it appears in the agent's sessions once stored"
        run = f" ({self.run_id})" if self.run_id else ""
        return (
            f"The server finishes the run{run} in the background: {where}. "
            "Not retried automatically, because a run is not idempotent."
        )

    def _finish(self) -> None:
        """Mark iteration over, stop watching the cancel event, release the connection."""
        self._finished = True
        if self._watch is not None:
            self._watch.close()
        with self._read_lock:
            self._close_response()

    def _close_response(self) -> None:
        """Close the response once (a stopped connection is never returned to the pool)."""
        if self._closed or self._response is None:
            return
        self._closed = True
        try:
            self._response.close()
        except Exception:  # closing a half-read or shut-down response must not mask anything
            log.debug("closing the run stream's response failed", exc_info=True)


def _plain_cause(exc: BaseException) -> str:
    """A transport failure mid-body in plain words (the technical cause goes to the log)."""
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return "its compressed body could not be decoded"
    if isinstance(exc, (urllib3.exceptions.SSLError, ssl.SSLError)):
        return "its TLS layer failed mid-response"
    # Chunked-decoding errors (a ValueError from a cut chunk size line), IncompleteRead,
    # ProtocolError, resets, a body closed under the read: the peer went away mid-answer.
    return "the connection closed mid-response"


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket under a streaming response (urllib3 2.x keeps its connection on `.raw`)."""
    raw = response.raw
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None
