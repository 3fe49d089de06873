"""`ChatState`: what a `ChatSession` holds and derives — its log, its state, its reports.

The one conversation (`model.Conversation`) every event is folded into (`record`), the
current run and replay, the state a panel shows (derived, reported through the callbacks
`session.chat` describes), the agent's identity, and the refusals of a closed or
client-less session. `ChatSession` adds the verbs (send, stop, approve, load, ...).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from powawidget.model.conversation import Conversation
from powawidget.model.status import SessionStatus, session_status
from powawidget.model.turns import Turn
from powawidget.session.context import Context, ContextLimits
from powawidget.session.replay import Replay
from powawidget.session.run import RunHandle
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.errors import ChatClosedError, PowabaseError
from powawidget.wire.orchestrations import OrchestrationId, is_orchestration

if TYPE_CHECKING:
    from powawidget.wire.client import PowabaseClient

logger = logging.getLogger(__name__)

OnEvent = Callable[[CanonicalEvent], None]
OnState = Callable[..., None]

STATE = ("status", "session_id", "error", "agent_id", "agent_name")
"""The state a panel shows, in the order it is reported."""


def _ignore(*_args: Any, **_changes: Any) -> None:
    """The default callback: a session with nobody watching."""


class ChatState:
    """A session's log and derived state, with no verbs (`ChatSession` documents the
    arguments)."""

    def __init__(
        self,
        client: PowabaseClient | None = None,
        agent_id: str | None = None,
        *,
        orchestration_id: str | None = None,
        owns_client: bool = False,
        options: dict[str, Any] | None = None,
        on_event: OnEvent = _ignore,
        on_state: OnState = _ignore,
        on_settle: OnState | None = None,
        on_waited: Callable[[], None] | None = None,
        fetch_usage: bool = True,
    ) -> None:
        self.client = client
        self.options = dict(options or {})
        self.context: Any = None  # sent with every message until set to None (w.context)
        self.context_limits = ContextLimits()
        self.next_context: list[Context] = []  # attached for the next message only
        self._last_request: tuple[str, dict[str, Any]] | None = None  # for retry()
        self.fetch_usage = fetch_usage  # look up usage the stream lacked (session.usage)
        self._owns_client = owns_client
        self._on_event = on_event
        self._on_state = on_state
        self._on_settle = on_settle or on_state
        self._on_waited = on_waited
        self.lock = threading.RLock()
        self._lock = self.lock
        self.conversation = Conversation()
        self._run: RunHandle | None = None
        self._settled: RunHandle | None = None  # the run whose end was reported (on_settle)
        self._approving = False  # an approval is on its way to the server
        self._replay: Replay | None = None
        self._replay_over = False
        self._reported: dict[str, Any] = {}
        self.error = ""
        self.closed = False  # close() was called: every verb that talks to the server refuses
        self.agent_id = self.agent_name = ""
        name = None
        if orchestration_id is not None:
            if agent_id is not None:
                raise ValueError(
                    "Pass agent_id= or orchestration_id=, not both: a panel talks to one."
                )
            agent_id = OrchestrationId(orchestration_id)
        elif agent_id is None and client is not None:
            agents = client.list_agents()
            if not agents:
                raise PowabaseError("This project has no agents: create one in Powabase first.")
            agent_id, name = agents[0]["id"], agents[0].get("name")
        self.agent_id, self.agent_name = agent_id or "", name or agent_id or ""
        self._reported = {"status": "idle", "session_id": None, "error": ""}
        self._report(self._on_state)
        if client is not None and name is None:  # the id stands in until the name arrives
            threading.Thread(
                target=self._fetch_agent_name, name="powawidget-agent-name", daemon=True
            ).start()

    def __len__(self) -> int:
        """Number of events logged."""
        with self._lock:
            return len(self.conversation.events)

    @property
    def events(self) -> list[CanonicalEvent]:
        """A copy of every canonical event so far (raw payloads included)."""
        with self._lock:
            return list(self.conversation.events)

    @property
    def status(self) -> SessionStatus:
        """idle, connecting, streaming, waiting_approval, error or stopped (derived)."""
        with self._lock:
            run, replaying = self._run, self._replay is not None and not self._replay_over
            return session_status(run.status if run is not None else None, replaying=replaying)

    @property
    def session_id(self) -> str | None:
        """The session the next message continues (the conversation holds it)."""
        with self._lock:
            return self.conversation.session_id

    @property
    def last_run(self) -> RunHandle | None:
        """The latest run's handle (streaming or finished), or None before the first."""
        return self._run

    @property
    def replaying(self) -> bool:
        """True for a session that plays a recording (it cannot send)."""
        return self._replay is not None

    @property
    def replay_done(self) -> bool:
        """True once the replay ended (always True for a live session)."""
        return self._replay is None or self._replay.done

    # ---- the event sink and the state it derives ------------------------------------------

    def record(self, event: CanonicalEvent) -> Turn | None:
        """The sink of every event: fold it into the conversation, report it and the state
        it changed; returns the event's turn (None for a divider)."""
        with self._lock:
            turn = self.conversation.apply(event)
            self._on_event(event)
            if self._settled is None or self._settled is not self._run:
                self._report(self._on_state)
            return turn

    def _finish_run(self, handle: RunHandle) -> None:
        """In the run thread after its last event: report the final state."""
        with self._lock:
            self._settled = handle
            self.error = handle.error.message if handle.error is not None else ""
            self._report(self._on_settle, every=True)

    def _finish_replay(self) -> None:
        """In the replay thread at its end: idle."""
        with self._lock:
            self._replay_over = True
            self._report(self._on_settle, every=True)

    def _report(self, report: OnState, *, every: bool = False) -> None:
        """Tell `report` the state that changed since the last report (all of it: `every`)."""
        state = {name: getattr(self, name) for name in STATE}
        changes = {k: v for k, v in state.items() if every or self._reported.get(k, ...) != v}
        self._reported = state
        if changes:
            report(**changes)

    def _fetch_agent_name(self) -> None:
        """Look the agent's display name up in the background (a panel header shows it)."""
        agent_id = self.agent_id
        try:
            client = self._connected("look the agent up")
            if is_orchestration(agent_id):
                name = client.get_orchestration(agent_id).get("name")
            else:
                name = client.get_agent(agent_id).get("name")
        except Exception as error:  # the id is checked when a message is sent
            logger.debug("powawidget: no name for agent %s: %s", agent_id, error)
            return
        with self._lock:
            if name and self.agent_id == agent_id:
                self.agent_name = name
                self._report(self._on_state)

    def _require_open(self, action: str) -> None:
        """Refuse `action` once the chat was closed: a closed panel must not start a run
        (a billable one) that nobody sees."""
        if self.closed:
            raise ChatClosedError(
                f"This chat was closed: it cannot {action}. Its transcript and views still "
                "work; make a new ChatWidget (or session) to chat again."
            )

    def _connected(self, action: str) -> PowabaseClient:
        """The client, or a clear refusal for a session that has none (a replay) or that
        was closed."""
        self._require_open(action)
        if self.client is None:
            raise RuntimeError(
                f"This panel plays a recording and has no agent server: it cannot {action}."
            )
        return self.client

    def report_error(self, message: str) -> None:
        """Show an error that no run had (a refused panel action, a failed approval)."""
        if self.client is not None:
            message = self.client.redact(message)  # the trait is saved in the notebook
        with self._lock:
            self.error = message
            self._report(self._on_state)
