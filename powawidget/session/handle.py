"""`RunHandle`: what the caller keeps of one run (its events, text, status, error), and the
`Fold` that owns the run's events.

The handle keeps no copy: its events, text and status are read from its turn in the
conversation that owns it (a `Fold`: `chat.ChatSession`, or an `OwnFold` for a run on its
own), and its status is decided by `powawidget.model.status.run_status`. The run's thread
(`session.run`) records into it; the caller waits on it or stops it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from powawidget.model.conversation import Conversation
from powawidget.model.status import RunStatus, run_status
from powawidget.model.turns import Turn
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.errors import PowabaseError
from powawidget.wire.events import TERMINAL_EVENTS, from_server
from powawidget.wire.stopping import StopFlag

if TYPE_CHECKING:
    from powawidget.session.context import Context
    from powawidget.session.structured import ResponseFormat
    from powawidget.wire.client import RunStream

__all__ = ["Emit", "Fold", "OwnFold", "RunHandle"]

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


def _in_main_thread() -> bool:
    """True in the main thread (where a notebook cell runs)."""
    return threading.current_thread() is threading.main_thread()
