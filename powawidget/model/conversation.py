"""The conversation model: folds canonical events into turns, purely (docs/architecture.md).

Input is any sequence of canonical event dicts — a live `RunStream`, a saved transcript,
the widget's log. Output is a list of `Turn`s (user text, assistant text and reasoning,
steps, tool calls, approvals, usage, errors) built by the rules of docs/protocol.md:
text deltas append or replace as their `text_mode` says, `complete.content` is the
authoritative answer, a failed `complete` is a failure, tool results pair with their call
by `call_id` else first-in-first-out per tool name, and nothing is ever dropped (every
event stays in `Turn.events`; malformed ones also leave a warning). No I/O, no widget.

The data shapes live in `powawidget.model.turns` and the per-event rules in
`powawidget.model.folding`; the shapes and time/usage readers are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from powawidget.model import delegations
from powawidget.model.folding import HANDLERS
from powawidget.model.turns import (
    Approval,
    Step,
    ToolCall,
    Turn,
    _at,
    _brief,
    _text,
    add_usage,
    ms_between,
    parse_time,
    usage_tokens,
)
from powawidget.wire.canonical import CanonicalEvent

__all__ = [
    "Approval",
    "Conversation",
    "Step",
    "ToolCall",
    "Turn",
    "ms_between",
    "parse_time",
    "usage_tokens",
]


class Conversation:
    """Turns folded from canonical events, incrementally: `apply` one event at a time.

    Not thread-safe: a reader thread and the UI sharing one must hold a lock.

    `events` holds every event applied; `event_turns[i]` is the index of the turn that
    `events[i]` belongs to (None for a `new_session` divider or a `session_loaded` mark).
    `session_id` is the session the next message continues: the latest one named by an
    event, None after `new_session` — its one holder.
    """

    def __init__(self, events: Iterable[CanonicalEvent] = ()) -> None:
        """Start empty, then fold `events` in order."""
        self.events: list[CanonicalEvent] = []
        self.event_turns: list[int | None] = []
        self.turns: list[Turn] = []
        self.dividers: list[tuple[int, str | None]] = []  # (turns before it, received_at)
        self.session_index = 0
        self.session_id: str | None = None  # the session the next message continues
        self._current: Turn | None = None
        self.extend(events)

    def __repr__(self) -> str:
        """A cheap summary (never the whole conversation)."""
        return f"Conversation({len(self.turns)} turns, {len(self.events)} events)"

    @property
    def last_turn(self) -> Turn | None:
        """The most recent turn, or None before any event."""
        return self.turns[-1] if self.turns else None

    @property
    def usage_total(self) -> dict[str, int]:
        """Token usage summed over all turns (prompt, completion, total and any other counts)."""
        total: dict[str, Any] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for turn in self.turns:
            total = add_usage(total, turn.usage) or total
        return total

    def final_text(self, turn: Turn | int | None = None) -> str:
        """The authoritative answer of a turn (default: the last one); "" when none."""
        if turn is None:
            turn = self.last_turn
        elif isinstance(turn, int):
            turn = self.turns[turn]
        return turn.text if turn is not None else ""

    def extend(self, events: Iterable[CanonicalEvent]) -> None:
        """Apply events in order."""
        for event in events:
            self.apply(event)

    def apply(self, event: CanonicalEvent) -> Turn | None:
        """Fold one canonical event in; returns the turn it belongs to (None for a divider)."""
        if not isinstance(event, dict):
            raise TypeError(f"a canonical event is a dict, not {type(event).__name__}")
        self.events.append(event)
        name = event.get("event")
        if name == "new_session":
            self.session_index += 1
            self._current = None
            self.session_id = None
            self.dividers.append((len(self.turns), _at(event)))
            self.event_turns.append(None)
            return None
        if isinstance(event.get("session_id"), str):
            self.session_id = event["session_id"]
        if name == "session_loaded":
            self.event_turns.append(None)
            return None
        turn = self._turn_for(event, name)
        self.event_turns.append(turn.index)
        turn.events.append(event)
        if turn.run_id is None and isinstance(event.get("run_id"), str):
            turn.run_id = event["run_id"]
        if turn.session_id is None and isinstance(event.get("session_id"), str):
            turn.session_id = event["session_id"]
        if turn.started_at is None:
            turn.started_at = _at(event)
        if not isinstance(name, str):
            turn.warnings.append(f"event without a name ignored: {_brief(event)}")
            return turn
        run = delegations.route(turn, event)  # an orchestration's sub-agent run, or the turn
        if run is not turn:
            run.events.append(event)
        if run is turn and turn.delegations and event.get("text_mode") == "replace":
            own = delegations.own_text(turn, event.get("text") or "")
            if own != (event.get("text") or ""):
                turn.server_text = event.get("text")
                event = CanonicalEvent(**{**event, "text": own})  # the log keeps the server's
        handler = HANDLERS.get(name)
        if handler is not None:
            handler(run, event)
        if isinstance(event.get("usage"), dict) and name != "delegation_completed":
            run.usage = event["usage"]
        if turn.delegations:
            delegations.after_event(run, turn, name)
        return turn

    def _turn_for(self, event: CanonicalEvent, name: Any) -> Turn:
        """The turn an event belongs to, opening a new one where the event starts one."""
        current = self._current
        if name == "user_message":
            turn = self._open(user_text=_text(event.get("text")))
            request = event.get("arguments")
            if isinstance(request, dict):  # what the message asked for besides its text
                context, answer_format = request.get("context"), request.get("response_format")
                turn.context = context if isinstance(context, list) else None
                turn.response_format = answer_format if isinstance(answer_format, dict) else None
            return turn
        if name == "history":
            return self._history_turn(event)
        if current is None:
            return self._open()
        if current.from_history:
            # A stored run's events follow its history message (a session loaded from
            # /runs): they belong to that turn; anything else starts a new one.
            run_id = event.get("run_id")
            if not (isinstance(run_id, str) and run_id == current.run_id):
                return self._open()
            return current
        if name == "start" and (current._has_start or current.finished):
            return self._open()
        return current

    def _open(self, **fields: Any) -> Turn:
        """Append a new turn in the current session and make it current."""
        turn = Turn(index=len(self.turns), session_index=self.session_index, **fields)
        self.turns.append(turn)
        self._current = turn
        return turn

    def _history_turn(self, event: CanonicalEvent) -> Turn:
        """A stored message: a user message opens a completed turn, an answer fills it."""
        arguments = event.get("arguments")
        meta: dict[str, Any] = arguments if isinstance(arguments, dict) else {}
        role = meta.get("role")
        text = _text(event.get("text"))
        at = meta.get("timestamp") if isinstance(meta.get("timestamp"), str) else None
        at = at or _at(event)
        current = self._current
        joinable = (
            current is not None
            and current.from_history
            and current.user_text is not None
            and not current.text
            and (current.run_id is None or event.get("run_id") in (None, current.run_id))
        )
        if role == "user" or not joinable:
            turn = self._open(from_history=True, outcome="completed", started_at=at, ended_at=at)
            if role == "user":
                turn.user_text = text
            else:
                turn.text = text
            if role not in ("user", "assistant"):
                turn.warnings.append(f"history message with unknown role {role!r}")
            return turn
        assert current is not None
        current.text = text
        current.ended_at = at
        return current
