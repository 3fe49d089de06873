"""One agent run streamed in its own thread (`start_run`); the caller keeps its `RunHandle`.

Why a thread and not an asyncio task: ipykernel 7 does not resume tasks after a cell ends,
and a run must never stream inside a traitlet observer or an `on_msg` handler (the kernel
would stop answering the front end). So `start_run` starts ONE daemon thread per run that
reads the client's `RunStream` and hands every canonical event to the conversation that
owns it (a `Fold`: `chat.ChatSession`, or a private one for a run on its own) through the
run's `RunHandle` (`session.handle`, re-exported here). Every failure — an HTTP error
before the stream, an `error` event, a failed `complete`, a lost connection, even a bug in
a callback — ends as a `client_error` event in the panel and as `RunHandle.error`, never
as a lost traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from powawidget.session.handle import Emit, Fold, OwnFold, RunHandle
from powawidget.session.usage import needs_usage, usage_event
from powawidget.wire.errors import PowabaseError, RunFailedError, RunInProgressError
from powawidget.wire.events import is_failure, make_event

if TYPE_CHECKING:
    from powawidget.session.context import Context
    from powawidget.session.structured import ResponseFormat
    from powawidget.wire.client import PowabaseClient

__all__ = ["Emit", "Fold", "OwnFold", "RunHandle", "RunInProgressError", "start_run"]

logger = logging.getLogger(__name__)


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
