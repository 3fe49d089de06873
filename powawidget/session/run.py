"""One agent run streamed in its own thread, and the `RunHandle` the caller keeps.

Why a thread and not an asyncio task: ipykernel 7 does not resume tasks after a cell ends,
and a run must never stream inside a traitlet observer or an `on_msg` handler (the kernel
would stop answering the front end). So `start_run` starts ONE daemon thread per run that
reads the client's `RunStream` and hands every canonical event to an `emit` callback (the
conversation's sink, `chat.ChatSession.record`). Every failure — an HTTP error before the
stream, an `error` event, a failed `complete`, a lost connection, even a bug in a
callback — ends as a `client_error` event in the panel and as `RunHandle.error`, never as
a lost traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from powawidget.model.conversation import Conversation
from powawidget.wire.errors import (
    ENV_API_KEY,
    ENV_API_KEY_ALIAS,
    ENV_BASE_URL,
    PowabaseError,
    RunFailedError,
)
from powawidget.wire.events import is_failure, make_event

if TYPE_CHECKING:
    from powawidget.wire.client import PowabaseClient, RunStream

logger = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]

TERMINAL = frozenset({"complete", "error", "client_error"})
"""The events that end a run: after one, a stop changes nothing."""


class RunInProgressError(RuntimeError):
    """A second message was sent while a run is still streaming (runs are never queued)."""


class RunHandle:
    """A run in progress or finished: its events, final text, error; wait for it or stop it.

    `send()` returns one at once. `.text` is the authoritative final answer (a `complete`
    event's content wins over the streamed deltas), `.error` the typed error when the run
    failed (`RunFailedError`, `StreamError`, an HTTP error...), else None.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        self.error: PowabaseError | None = None
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._conversation = Conversation()
        self._done = threading.Event()
        self._stop_requested = threading.Event()
        self._ended = False  # it ended by itself (a TERMINAL event, the stream's end)
        self._stream: RunStream | None = None
        self._thread: threading.Thread | None = None
        self._started_at = time.monotonic()
        self._on_waited: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return (
            f"<RunHandle run_id={self.run_id!r} status={self.status!r} events={len(self._events)}>"
        )

    @property
    def run_id(self) -> str | None:
        """The server's run id, once the `start` event named it."""
        with self._lock:
            return next((e["run_id"] for e in self._events if e.get("run_id")), None)

    @property
    def session_id(self) -> str | None:
        """The session this run belongs to, once known."""
        with self._lock:
            return next(
                (e["session_id"] for e in reversed(self._events) if e.get("session_id")), None
            )

    @property
    def events(self) -> list[dict[str, Any]]:
        """A copy of this run's canonical events so far (the user message first)."""
        with self._lock:
            return list(self._events)

    @property
    def done(self) -> bool:
        """True once the run ended (completed, failed or stopped)."""
        return self._done.is_set()

    @property
    def stopped(self) -> bool:
        """True when the user stopped the run before it ended by itself."""
        with self._lock:
            return self._stop_requested.is_set() and not self._ended

    @property
    def stopping(self) -> bool:
        """True while a requested stop is under way (the stream is closing)."""
        return self._stop_requested.is_set() and not self.done

    @property
    def status(self) -> str:
        """connecting, streaming, waiting_approval, completed, failed or stopped."""
        with self._lock:
            turn = self._conversation.last_turn
            if not self.done and len(self._events) <= 1:
                return "connecting"
            if self.done and self.error is not None:
                return "failed"
            if self.done and self._stop_requested.is_set() and not self._ended:
                return "stopped"
            if self.done and turn is not None and turn.status in ("streaming", "waiting_approval"):
                return "completed"  # a stream that ended cleanly without `complete`
            return turn.status if turn is not None else "connecting"

    @property
    def text(self) -> str:
        """The answer so far; once done, the authoritative final text."""
        with self._lock:
            turn = self._conversation.last_turn
            return self._conversation.final_text(turn) if turn is not None else ""

    @property
    def elapsed(self) -> float:
        """Seconds since the run was sent."""
        return time.monotonic() - self._started_at

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (or `timeout` seconds); True when it ended.

        A cell blocked here handles no clicks from the panel (Stop, Approve): use
        `await handle.wait_async()` in a notebook when you need them.
        """
        finished = self._done.wait(timeout)
        if finished and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        if finished and self._on_waited is not None and _in_main_thread():
            callback, self._on_waited = self._on_waited, None
            callback()
        return finished

    async def wait_async(self, timeout: float | None = None, poll: float = 0.05) -> bool:
        """Like `wait`, but lets the kernel handle panel clicks meanwhile (await it in a cell)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            await asyncio.sleep(poll)
        return self.wait(0)

    def result(self, timeout: float | None = None) -> str:
        """Wait, then return the final text or raise the run's typed error.

        A run that does not end within `timeout` is stopped and `TimeoutError` raised, and
        so is one whose wait is interrupted (the kernel's Interrupt); a run the user stopped
        returns the text received before the stop.
        """
        try:
            finished = self.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            raise
        if not finished:
            self.stop()
            raise TimeoutError(
                f"The run did not finish within {timeout:g} s, so it was stopped; "
                "pass a larger timeout= (or None to wait as long as it takes)."
            )
        if self.error is not None:
            raise self.error
        return self.text

    def stop(self) -> None:
        """Stop the run: the stream closes within ~200 ms and a `stopped` event is added.

        A no-op once the run ended by itself (its `complete` or `error` was recorded, or the
        stream finished): a finished run keeps its outcome.
        """
        with self._lock:
            if self._ended or self.done:
                return
            self._stop_requested.set()
            stream = self._stream
        if stream is not None:
            stream.stop()

    def _record(self, event: dict[str, Any]) -> None:
        """Keep one event of this run and fold it into the run's conversation."""
        with self._lock:
            self._events.append(event)
            self._conversation.apply(event)
            if event.get("event") in TERMINAL:
                self._ended = True

    def _end_stream(self) -> None:
        """The stream finished: from now on `stop()` changes nothing."""
        with self._lock:
            if not self._stop_requested.is_set():
                self._ended = True


def start_run(
    client: PowabaseClient,
    agent_id: str,
    message: str,
    *,
    emit: Emit,
    session_id: str | None = None,
    options: dict[str, Any] | None = None,
    on_finish: Callable[[RunHandle], None] | None = None,
) -> RunHandle:
    """Emit the user's message, then stream the run in a new thread; returns at once.

    `emit` receives every event (user_message first, then the server's, then any
    client_error / stopped); `on_finish` runs in the thread after the last event and before
    the handle counts as done, so `handle.wait()` returns once the caller's state is final.
    """
    handle = RunHandle(message)
    user = make_event("user_message", text=message, session_id=session_id)
    handle._record(user)
    emit(user)
    thread = threading.Thread(
        target=_stream_run,
        args=(client, agent_id, message, session_id, dict(options or {}), handle, emit, on_finish),
        name=f"powawidget-run-{agent_id}",
        daemon=True,
    )
    handle._thread = thread
    thread.start()
    return handle


def _stream_run(
    client: PowabaseClient,
    agent_id: str,
    message: str,
    session_id: str | None,
    options: dict[str, Any],
    handle: RunHandle,
    emit: Emit,
    on_finish: Callable[[RunHandle], None] | None,
) -> None:
    """The run thread's body: stream, relay, turn every failure into an event and an error."""

    def relay(event: dict[str, Any]) -> None:
        handle._record(event)
        emit(event)

    def fail(error: PowabaseError) -> None:
        if handle.error is None:
            handle.error = error
        relay(
            make_event(
                "client_error",
                error_message=error.message,
                error_code=error.code,
                run_id=handle.run_id,
                session_id=handle.session_id or session_id,
            )
        )

    try:
        try:
            stream = client.stream_run(
                agent_id, message, session_id=session_id, cancel=handle._stop_requested, **options
            )
        except PowabaseError as error:
            fail(error)
            return
        with handle._lock:
            handle._stream = stream
        try:
            with stream:
                for event in stream:
                    relay(event)
                    if is_failure(event) and handle.error is None:
                        handle.error = RunFailedError.from_event(event)
            handle._end_stream()
        except PowabaseError as error:
            fail(error)
        if handle._stop_requested.is_set() and handle.error is None and not handle._ended:
            relay(
                make_event(
                    "stopped",
                    run_id=handle.run_id,
                    session_id=handle.session_id or session_id,
                )
            )
    except Exception as error:  # a bug in a callback must still reach the user
        logger.exception("powawidget: the run thread failed")
        try:
            fail(
                PowabaseError(
                    f"powawidget failed while streaming the run ({type(error).__name__}: "
                    f"{error}). Please report this bug.",
                    code="internal",
                )
            )
        except Exception:
            logger.exception("powawidget: could not report the failure")
    finally:
        if on_finish is not None:
            try:
                on_finish(handle)
            except Exception:
                logger.exception("powawidget: finishing the run failed")
        handle._done.set()


def _in_main_thread() -> bool:
    """True in the kernel's main thread (where a cell runs)."""
    return threading.current_thread() is threading.main_thread()


def connect(client: Any, base_url: str | None, api_key: str | None) -> tuple[Any, bool, str]:
    """The client runs go through, whether the caller owns it, and a banner when local.

    With no URL or key anywhere (arguments, POWABASE_* variables) the built-in local agent
    server starts, and the banner says so and how to connect to Powabase instead.
    """
    if client is not None and (base_url is not None or api_key is not None):
        raise TypeError("pass either client= or base_url=/api_key=, not both")
    if client is not None:
        return client, False, ""
    from powawidget.wire.client import PowabaseClient

    names = (ENV_BASE_URL, ENV_API_KEY, ENV_API_KEY_ALIAS)
    if base_url or api_key or any(os.environ.get(name) for name in names):
        return PowabaseClient(base_url, api_key), True, ""
    from powawidget.server import start_local_server

    server = start_local_server()
    banner = (
        f"Not connected to Powabase: chatting with the built-in local demo agents at "
        f"{server.base_url}. To use your project, set {ENV_BASE_URL} and {ENV_API_KEY} "
        "(or pass base_url= and api_key=) and create the widget again."
    )
    return PowabaseClient(server.base_url, server.api_key), True, banner


def warn_if_broken_ipykernel() -> None:
    """Warn under ipykernel 7.0, which loses messages sent from threads (runs look frozen)."""
    if "ipykernel" not in sys.modules:
        return
    try:
        from importlib.metadata import version

        found = version("ipykernel")
    except Exception:
        return
    if found.startswith("7.0."):
        warnings.warn(
            f"ipykernel {found} drops widget messages sent from threads, so the chat panel "
            "would not update while a run streams. Install ipykernel>=7.1 (or 6.x) and "
            "restart the kernel.",
            RuntimeWarning,
            stacklevel=3,
        )
