"""One agent run streamed in its own thread, and the `RunHandle` the caller keeps.

Why a thread and not an asyncio task: ipykernel 7 does not resume tasks after a cell ends,
and a run must never stream inside a traitlet observer or an `on_msg` handler (the kernel
would stop answering the front end). So `start_run` starts ONE daemon thread per run that
reads the client's `RunStream` and hands every canonical event to the conversation that
owns it (a `Fold`: `chat.ChatSession`, or a private one for a run on its own). The handle
keeps no copy: its events, text and status are read from its turn in that conversation,
and its status is decided by `powawidget.model.status.run_status`. Every failure — an HTTP
error before the stream, an `error` event, a failed `complete`, a lost connection, even a
bug in a callback — ends as a `client_error` event in the panel and as `RunHandle.error`,
never as a lost traceback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from powawidget.model.conversation import Conversation
from powawidget.model.status import RunStatus, run_status
from powawidget.model.turns import Turn
from powawidget.session.usage import needs_usage, usage_event
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.errors import PowabaseError, RunFailedError, RunInProgressError
from powawidget.wire.events import TERMINAL_EVENTS, from_server, is_failure, make_event
from powawidget.wire.stopping import StopFlag

if TYPE_CHECKING:
    from powawidget.session.context import Context
    from powawidget.session.structured import ResponseFormat
    from powawidget.wire.client import PowabaseClient, RunStream

__all__ = ["Fold", "RunHandle", "RunInProgressError", "start_run"]

logger = logging.getLogger(__name__)

Emit = Callable[[CanonicalEvent], None]


class Fold(Protocol):
    """The owner of a conversation: folds each event in (under `lock`) and returns its turn."""

    lock: threading.RLock

    def record(self, event: CanonicalEvent) -> Turn | None: ...


class OwnFold:
    """A conversation of one run's own, for a run started without a chat session."""

    def __init__(self, emit: Emit | None = None) -> None:
        self.lock = threading.RLock()
        self.conversation = Conversation()
        self._emit = emit

    def record(self, event: CanonicalEvent) -> Turn | None:
        """Fold the event in, then hand it to `emit` (both under the lock, in event order)."""
        with self.lock:
            turn = self.conversation.apply(event)
            if self._emit is not None:
                self._emit(event)
            return turn


class RunHandle:
    """A run in progress or finished: its events, final text, error; wait for it or stop it.

    `send()` returns one at once. `.text` is the authoritative final answer (a `complete`
    event's content wins over the streamed deltas), `.error` the typed error when the run
    failed (`RunFailedError`, `StreamError`, an HTTP error...), else None.
    """

    def __init__(
        self,
        message: str,
        fold: Fold | None = None,
        *,
        context: Context | None = None,
        response_format: ResponseFormat | None = None,
    ) -> None:
        self.message = message
        self.context = context  # what the message sent as context (session.context)
        self.response_format = response_format  # the structured answer asked for
        self._parsed: tuple[Any, str | None] | None = None
        self.error: PowabaseError | None = None
        self._fold: Fold = fold if fold is not None else OwnFold()
        self._lock = self._fold.lock
        self._turn: Turn | None = None
        self._heard = False  # an event from the server arrived
        self._over = False  # the run thread recorded its last event
        self._done = threading.Event()
        self._stop_requested = StopFlag()  # its set() shuts the connection down at once
        self._ended = False  # it ended by itself (a terminal event, the stream's end)
        self._stream: RunStream | None = None
        self._thread: threading.Thread | None = None
        self._started_at = time.monotonic()
        self._on_waited: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return (
            f"<RunHandle run_id={self.run_id!r} status={self.status!r} events={len(self.events)}>"
        )

    @property
    def turn(self) -> Turn | None:
        """The run's turn in its conversation (read it under no assumption it is final)."""
        return self._turn

    @property
    def run_id(self) -> str | None:
        """The server's run id, once the `start` event named it."""
        with self._lock:
            return self._turn.run_id if self._turn is not None else None

    @property
    def session_id(self) -> str | None:
        """The session this run belongs to, once known."""
        with self._lock:
            return self._turn.session_id if self._turn is not None else None

    @property
    def events(self) -> list[CanonicalEvent]:
        """A copy of this run's canonical events so far (the user message first)."""
        with self._lock:
            return list(self._turn.events) if self._turn is not None else []

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
    def status(self) -> RunStatus:
        """connecting, streaming, waiting_approval, completed, failed or stopped."""
        with self._lock:
            return run_status(
                self._turn,
                done=self._over or self.done,
                stopped=self._stop_requested.is_set() and not self._ended,
                failed=self.error is not None,
                heard=self._heard,
            )

    @property
    def text(self) -> str:
        """The answer so far; once done, the authoritative final text."""
        with self._lock:
            return self._turn.text if self._turn is not None else ""

    @property
    def parsed(self) -> Any:
        """The structured answer, validated (a model or dataclass instance, or the JSON),
        once the run completed with one; None otherwise (`parse_error` says why)."""
        return self._structured()[0]

    @property
    def parse_error(self) -> str | None:
        """Why `parsed` is None, in one sentence (None when it is not, or no
        response_format was asked for, or the run has not completed)."""
        return self._structured()[1]

    def _structured(self) -> tuple[Any, str | None]:
        """(parsed, parse_error), worked out once, when the run completed."""
        if self._parsed is not None:
            return self._parsed
        if self.response_format is None or not self.done or self.error is not None:
            return None, None
        self._parsed = self.response_format.parse(self.text)
        return self._parsed

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

    def ended(self, timeout: float | None = None) -> bool:
        """Block until the run's thread recorded its last event; True when it did (no
        join, no callbacks: for code that must not wait on the thread itself)."""
        return self._done.wait(timeout)

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

    def answer(self, timeout: float | None = None) -> Any:
        """`result`, but with a response_format the validated object (`parsed`); an answer
        that does not fit raises `StructuredAnswerError` (its `.text` keeps the answer)."""
        text = self.result(timeout)
        if self.response_format is None:
            return text
        parsed, problem = self._structured()
        if problem is not None:
            from powawidget.session.structured import StructuredAnswerError

            raise StructuredAnswerError(problem, text)
        return parsed

    def stop(self) -> None:
        """Stop the run: the connection is shut down at once and a `stopped` event is added.

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

    def record(self, event: CanonicalEvent) -> None:
        """Hand one event of this run to the conversation that owns it."""
        turn = self._fold.record(event)
        with self._lock:
            if self._turn is None:
                self._turn = turn
            if from_server(event):
                self._heard = True
            if event.get("event") in TERMINAL_EVENTS:
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
    emit: Emit | None = None,
    fold: Fold | None = None,
    session_id: str | None = None,
    options: dict[str, Any] | None = None,
    on_finish: Callable[[RunHandle], None] | None = None,
    on_waited: Callable[[], None] | None = None,
    fetch_usage: bool = True,
    context: Context | None = None,
    response_format: ResponseFormat | None = None,
) -> RunHandle:
    """Record the user's message, then stream the run in a new thread; returns at once.

    With `fetch_usage`, a run that completed without usage in its stream (an agent without
    tools) gets a `usage` event from its stored record before it counts as done
    (`powawidget.session.usage`: one short attempt, never an error).

    Every event (user_message first, then the server's, then any client_error / stopped)
    goes to `fold` — the conversation that owns the run (default: one of its own, which
    then hands each event to `emit`); `on_finish` runs in the thread after the last event
    and before the handle counts as done, so `handle.wait()` returns once state is final;
    `on_waited` runs once, in the main thread, when a `wait()` there returns (a notebook
    view re-publishes its saved state from the cell that waited).

    `context` (`session.context.Context`) is sent as `context_override` and
    `response_format` (`session.structured.ResponseFormat`) as `response_format`; the
    user_message event records them (the context's records: kind, name, size, hash, never
    its content) and the turn shows what was sent (`Turn.context_shown`, not logged).
    """
    options = dict(options or {})
    request: dict[str, Any] = {}
    if context is not None:
        options["context_override"] = context.override
        request["context"] = context.records()
    if response_format is not None:
        options["response_format"] = response_format.body
        request["response_format"] = response_format.body
    handle = RunHandle(
        message,
        fold if fold is not None else OwnFold(emit),
        context=context,
        response_format=response_format,
    )
    handle._on_waited = on_waited
    with handle._lock:  # the sync reads the turn under this lock: it sees both at once
        handle.record(
            make_event(
                "user_message", text=message, session_id=session_id, arguments=request or None
            )
        )
        if context is not None and handle.turn is not None:
            handle.turn.context_shown = context.shown()
    thread = threading.Thread(
        target=_stream_run,
        args=(
            client,
            agent_id,
            message,
            session_id,
            options,
            handle,
            on_finish,
            fetch_usage,
        ),
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
    on_finish: Callable[[RunHandle], None] | None,
    fetch_usage: bool = True,
) -> None:
    """The run thread's body: stream, relay, turn every failure into an event and an error."""

    relay = handle.record

    def fail(error: PowabaseError) -> None:
        client.redact_error(error)  # the key never reaches the panel, the notebook or a log
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
                        handle.error = client.redact_error(
                            RunFailedError.from_event(event, client.audience)
                        )
            handle._end_stream()
            if fetch_usage and not handle._stop_requested.is_set():
                _add_stored_usage(client, handle)
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
        handle._over = True  # the final status holds from here (on_finish reads it)
        if on_finish is not None:
            try:
                on_finish(handle)
            except Exception:
                logger.exception("powawidget: finishing the run failed")
        handle._done.set()


def _add_stored_usage(client: PowabaseClient, handle: RunHandle) -> None:
    """Record the stored usage of a run whose stream had none (see `session.usage`)."""
    run_id = handle.run_id
    if run_id and needs_usage(handle.events):
        event = usage_event(client, run_id, handle.session_id)
        if event is not None:
            handle.record(event)


def _in_main_thread() -> bool:
    """True in the main thread (where a notebook cell runs)."""
    return threading.current_thread() is threading.main_thread()
