"""`ChatSession`: one live conversation with an agent — its runs, its event log, its state.

The state machine behind `ChatWidget`, with no widget in it: it owns the client, THE
conversation (`model.Conversation`: the one log of canonical events, folded once), the
current run (`run.RunHandle`, which reads its turn from that conversation) or replay, and
one lock. The small state a panel shows is derived, never stored twice: `status` from the
latest run (`model.status`), `session_id` from the conversation; `error`, `agent_id` and
`agent_name` are the session's own. It reports through plain callbacks, so it is usable
and testable without a kernel:

- ``on_event(event)``: every event, in log order, as it is logged (under the lock);
- ``on_state(**changes)``: state the session derived or was told (sent, streaming, ...);
- ``on_settle(**changes)``: the log is at rest (a run ended, a session loaded, a replay
  played) and these are the final values — a view flushes, applies them, then saves;
- ``on_waited()``: a run's `wait()` returned in the main thread (see `RunHandle.wait`).

The verbs run in the caller's thread (`approve_later` excepted); a run streams in its own
thread (`run`), a replay in its own (`replay`), and both hand their events to `record`.
The DataFrame-ready views of its events are the widget's (`outputs.views.TranscriptViews`):
the session sits below outputs/ and imports nothing from it.
Its log, derived state and reports are `chat_state.ChatState`, which it extends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from powawidget.session.chat_state import ChatState
from powawidget.session.context import Context, build_context, check_limits, check_sources
from powawidget.session.history import load_history, load_orchestration_history
from powawidget.session.listing import session_rows
from powawidget.session.replay import Replay
from powawidget.session.run import RunHandle, start_run
from powawidget.session.structured import response_format as as_response_format
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.errors import RunInProgressError
from powawidget.wire.events import make_event
from powawidget.wire.orchestrations import is_orchestration

logger = logging.getLogger(__name__)

STOP_GRACE = 3.0
"""Seconds send/new_session/load_session wait for a run that is being stopped to end."""


class ChatSession(ChatState):
    """A conversation with one agent: send, stop, wait, approve, switch or load sessions.

    Args:
        client: a `PowabaseClient` (None for a replay-only session).
        agent_id: the agent to chat with; None picks the first agent the client lists.
        orchestration_id: chat with this orchestration instead (a supervisor that delegates
            to its agents; docs/protocol.md, Orchestrations); `agent_id` is then its id.
        owns_client: close `client` in `close()`.
        options: extra run options sent with every message (temperature, ...).
        on_event, on_state, on_settle, on_waited: the callbacks described above.
        fetch_usage: fetch the stored usage of a run whose stream lacked it (`session.usage`).
    """

    # ---- verbs --------------------------------------------------------------------------

    def send(
        self,
        text: str,
        *,
        context: Any = None,
        response_format: Any = None,
        options: dict[str, Any] | None = None,
    ) -> RunHandle:
        """Start a run for `text`; returns its handle at once (the run streams in a thread).

        `context`: notebook objects sent with this message (`session.context`), after the
        kept `self.context`; `response_format`: a structured answer (`session.structured`);
        `options`: run options for this message, over the session's (None drops one).
        Everything is checked before anything is sent.
        """
        self._require_open("send a message")
        if self.replaying:
            raise RuntimeError("This is a replay: it plays a recording and cannot send.")
        text = str(text)
        if not text.strip():
            raise ValueError("Cannot send an empty message.")
        if is_orchestration(self.agent_id) and (
            context is not None
            or self.context is not None
            or self.next_context
            or response_format is not None
        ):
            raise ValueError(
                "An orchestration ignores notebook context and structured answers (the server "
                "drops context= and response_format= for orchestrations): send the text alone, "
                "or put the data in the message itself."
            )
        own = self._own_context(context)
        request = {"context": own, "response_format": response_format, "options": options}
        sent_context = self._context_for(own)
        answer_format = as_response_format(response_format) if response_format is not None else None
        merged = {**self.options, **(options or {})}
        merged = {key: value for key, value in merged.items() if value is not None}
        if sent_context is not None:
            check_sources({**merged, "context_override": sent_context.override})
        else:
            check_sources(merged)
        self._let_stopping_run_end()
        with self._lock:
            busy = self._run
            if busy is not None and not busy.done:
                raise RunInProgressError(_busy_message(busy, "send another message"))
            self.error = ""
            handle = start_run(
                self._connected("send a message"),
                self.agent_id,
                text,
                fold=self,
                on_waited=self._on_waited,
                session_id=self.session_id,
                options=merged,
                on_finish=self._finish_run,
                fetch_usage=self.fetch_usage,
                context=sent_context,
                response_format=answer_format,
            )
            self._run = handle
            self._last_request = (text, request)
            self.next_context = []  # attached to this message: sent
            self._report(self._on_state)
        return handle

    def retry(self) -> RunHandle | None:
        """Send the last user message again (with the context and format it was sent
        with, when this session sent it); None when there is none."""
        self._require_open("retry the last message")
        with self._lock:
            last = next(
                (e for e in reversed(self.conversation.events) if e.get("event") == "user_message"),
                None,
            )
            sent = self._last_request
        text = last["text"] if last is not None else None
        if not text:
            return None
        if sent is not None and sent[0] == text:
            return self.send(text, **sent[1])
        return self.send(text)

    def attach(self, value: Any, name: str | None = None) -> Context:
        """Attach an object to the NEXT message only (`%powa_context`), checked now."""
        context = build_context(value, name=name, limits=self.context_limits)
        self.next_context.append(context)
        return context

    def _own_context(self, context: Any) -> Context | None:
        """This message's context: what was attached for it, then its `context=`."""
        parts = list(self.next_context)
        if context is not None:
            parts.append(
                context
                if isinstance(context, Context)
                else build_context(context, limits=self.context_limits)
            )
        if not parts:
            return None
        whole = parts[0]
        for part in parts[1:]:
            whole = whole + part
        return whole

    def _context_for(self, context: Any) -> Context | None:
        """The kept context (`self.context`) then this message's, built and checked."""
        limits = self.context_limits
        parts: list[Context] = []
        if self.context is not None:
            parts.append(build_context(self.context, limits=limits, kept=True))
        if context is not None:
            parts.append(
                context if isinstance(context, Context) else build_context(context, limits=limits)
            )
        if not parts:
            return None
        whole = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        check_limits(whole, limits)
        return whole

    def stop(self) -> None:
        """Stop the streaming run (or the replay); what arrived so far stays."""
        with self._lock:
            run, replay = self._run, self._replay
        if run is not None:
            run.stop()
        if replay is not None:
            replay.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run (or replay) ends; True when nothing is playing."""
        with self._lock:
            run, replay = self._run, self._replay
        finished = run.wait(timeout) if run is not None else True
        if replay is not None:
            finished = replay.wait(timeout) and finished
        return finished

    def approve(self, approved: bool = True, reason: str | None = None) -> None:
        """Answer the run's approval request; the run then resumes (or is refused).

        The HTTP call (retries included) runs outside the session's lock, so the run
        thread keeps logging meanwhile; `approval_resolved` is logged once the server
        accepted the answer (possibly after the events it let through: folds allow that).
        """
        self._require_open("answer an approval")
        with self._lock:
            run = self._run
            if run is None or run.done or run.status != "waiting_approval" or not run.run_id:
                raise RuntimeError("No run is waiting for approval.")
            client = self._connected("approve")
            if self._approving:
                raise RuntimeError("An answer to this approval is already on its way.")
            self._approving = True
        try:
            client.approve(run.run_id, bool(approved), reason)
        finally:
            with self._lock:
                self._approving = False
        event = make_event(
            "approval_resolved",
            run_id=run.run_id,
            session_id=run.session_id,
            arguments={"approved": bool(approved), "reason": reason},
        )
        with self._lock:
            run.record(event)
            if self._settled is run:  # the run ended first: settle again with the decision
                self._report(self._on_settle, every=True)

    def approve_later(self, approved: bool, reason: str | None = None) -> None:
        """`approve` in a new thread (a panel click must not block the kernel); a failure
        becomes `error`."""
        threading.Thread(
            target=self._approve_or_report,
            args=(approved, reason),
            name="powawidget-approve",
            daemon=True,
        ).start()

    def new_session(self) -> None:
        """Forget the session: the next message opens a new conversation on the server."""
        self._require_idle("start a new session")
        with self._lock:
            self.error = ""
            self._run = None
            self.record(make_event("new_session", session_id=self.session_id))
            self._report(self._on_state, every=True)

    def load_session(self, session_id: str) -> None:
        """Log a stored session (its runs with tool calls and failures, see `history`) and
        continue that session; an unknown id raises `history.UnknownSessionError`."""
        self._require_idle("load a session")
        client = self._connected("load a session")
        if is_orchestration(self.agent_id):
            events = load_orchestration_history(client, self.agent_id, session_id)
        else:
            events = load_history(client, session_id)
        with self._lock:
            if self.conversation.events:
                self.record(make_event("new_session", session_id=self.session_id))
            for event in events:
                self.record(event)
            self.record(make_event("session_loaded", session_id=session_id))
            self._run, self.error = None, ""
            self._report(self._on_settle, every=True)

    def sessions(self) -> list[dict[str, Any]]:
        """The agent's sessions (`listing.SESSION_COLUMNS`), newest first; pass an id to
        `load_session` to continue one."""
        client = self._connected("list the agent's sessions")
        return session_rows(client.list_sessions(self.agent_id))

    def play(self, events: Sequence[CanonicalEvent], speed: float, max_gap: float) -> None:
        """Play recorded events into the log at their recorded pace (see `replay.Replay`)."""
        replay = Replay(
            events, emit=self.record, on_finish=self._finish_replay, speed=speed, max_gap=max_gap
        )
        with self._lock:
            self._replay = replay if events else None
            self._report(self._on_state)
        if events:
            replay.start()
        else:
            self._finish_replay()

    def close(self) -> None:
        """Stop any run or replay and close the client if it is ours; from then on every
        verb that would talk to the server refuses (`ChatClosedError`)."""
        self.closed = True
        self.stop()
        if self._run is not None:
            self._run.wait(5.0)
        if self._replay is not None:
            # Join the replay thread: a comm closed while it still emits stalls nbclient.
            self._replay.wait(5.0)
        if self._owns_client and self.client is not None:
            self.client.close()

    def _approve_or_report(self, approved: bool, reason: str | None) -> None:
        """The body of `approve_later`: a failure is logged and reported, never lost."""
        try:
            self.approve(approved, reason)
        except Exception as error:
            logger.warning("powawidget: approval failed: %s", error)
            self.report_error(str(error))

    def _let_stopping_run_end(self) -> None:
        """Give a run the user already stopped (Stop → Send), or one whose stream ended and
        whose thread finishes its usage lookup (`session.usage`), up to `STOP_GRACE` s."""
        with self._lock:
            run = self._run
        if run is not None and (run.stopping or (run._ended and not run.done)):
            run.ended(STOP_GRACE)  # outside the lock: the run thread logs its last events

    def _require_idle(self, action: str) -> None:
        """Refuse `action` in a replay or while a run streams (a stopping run may end first)."""
        self._require_open(action)
        if self.replaying:
            raise RuntimeError(f"This is a replay: it cannot {action}.")
        self._let_stopping_run_end()
        run = self._run
        if run is not None and not run.done:
            raise RunInProgressError(_busy_message(run, action))


def _busy_message(run: RunHandle, action: str) -> str:
    """Why `action` is refused while `run` has not ended, and what to do about it."""
    name = run.run_id or "starting"
    if run.stopping:
        return (
            f"The run you stopped ({name}) has not ended within {STOP_GRACE:g} s (its "
            f"connection is still closing): try again in a moment to {action}."
        )
    return (
        f"A run is still streaming ({name}): wait for it (handle.wait()) or stop it "
        f"(w.stop()) before you {action}."
    )
