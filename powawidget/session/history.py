"""A stored session as canonical events, so an old conversation shows what a live one did.

`GET /api/sessions/{id}/runs` gives every run (failed and running ones too) with its stored
events (keyed by `type`, no deltas) and tool calls; they go through the same
`EventNormaliser` as a live stream (docs/protocol.md, "Loading a session"). Each run
becomes:

- a `history` event, role "user", holding the message that started the run;
- the run's stored events (steps, reasoning, tool calls and results, approvals, hook
  results, step resets, …), or — when none were stored — a `tool_call`/`tool_result` pair
  per entry of the run's `tool_calls`;
- its end: a `complete` carrying content, status, error, usage, steps, tool_calls and
  citations; a `stopped` event for a cancelled run; nothing for a run still going.

An older server without `/runs` (404 or 405) falls back to `/messages`: `history` events,
one per message, as before. An unknown session (200 with no runs and no messages, or a 404
"Session not found") raises `UnknownSessionError`; with no `/runs` to ask, an empty
`/messages` may be a session whose runs have not completed, and loads as empty.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from powawidget.model.turns import parse_time
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.errors import NotFoundError, PowabaseError
from powawidget.wire.events import EventNormaliser, format_timestamp, make_event
from powawidget.wire.sse import ServerSentEvent

__all__ = [
    "UnknownSessionError",
    "load_history",
    "load_orchestration_history",
    "message_events",
    "run_events",
    "runs_events",
]

ENDED = {"completed": "completed", "failed": "failed", "error": "failed"}
"""A stored run's status → the `complete` status it ends with."""
CANCELLED = frozenset({"cancelled", "canceled", "stopped"})
SUMMARISED = frozenset({"start", "chunk", "complete", "content_delta", "reasoning_delta"})
"""Stored events left out: the run's own record (content, status) gives its start and end."""


class UnknownSessionError(NotFoundError):
    """No session has this id: the server knows no runs and no messages for it."""

    default_code = "unknown_session"


def load_history(client: Any, session_id: str) -> list[CanonicalEvent]:
    """The canonical events of a stored session, from its runs, else its messages."""
    runs: list[dict] | None
    try:
        runs = client.get_session_runs(session_id)
    except PowabaseError as error:
        if _says_session_not_found(error):
            raise _unknown(session_id) from None
        if error.status_code not in (404, 405):  # 404/405: an older server without /runs
            raise
        runs = None
    if runs:
        return runs_events(runs, session_id)
    try:
        messages = client.session_messages(session_id)
    except NotFoundError:
        raise _unknown(session_id) from None
    if not messages and runs is not None:  # 200 with [] from both: nobody knows this id
        raise _unknown(session_id)
    return message_events(messages, session_id)


def load_orchestration_history(
    client: Any, orchestration_id: str, session_id: str
) -> list[CanonicalEvent]:
    """The canonical events of an orchestration's stored session.

    `/api/orchestrations/{id}/sessions/{sid}/messages` pairs each user message with the
    run that answered it; each run's record (`/api/orchestrations/runs/{run_id}`: status,
    error, usage, the stored events, sub-agents' frames included) becomes events like an
    agent's run (docs/protocol.md, Orchestrations). A 404 is an unknown session."""
    try:
        data = client.orchestration_session_messages(orchestration_id, session_id)
    except NotFoundError:
        raise _unknown(session_id) from None
    messages = [m for m in (data or {}).get("messages") or [] if isinstance(m, dict)]
    events: list[CanonicalEvent] = []
    asked: str | None = None
    for message in messages:
        if message.get("role") == "user":
            if asked is not None:  # a question with no stored answer (still running)
                events.extend(message_events([{"role": "user", "content": asked}], session_id))
            asked = _text(message)
            continue
        run_id = message.get("run_id")
        record: dict = {}
        if isinstance(run_id, str):
            try:
                record = client.get_orchestration_run(run_id)
            except NotFoundError:
                record = {}
        record = {
            "run_id": run_id,
            "status": "completed",
            "content": message.get("content"),
            "events": message.get("events"),
            **record,
            "input_messages": [{"role": "user", "content": asked or ""}],
        }
        record["events"] = _full_delegate_results(record)
        events.extend(run_events(record, session_id))
        asked = None
    if asked is not None:
        events.extend(message_events([{"role": "user", "content": asked}], session_id))
    return events


def _full_delegate_results(record: dict) -> list[dict]:
    """The stored events with each delegate call's full result: its sub-agent's answer
    from `child_runs` (the stored `result_preview` is cut at 200 characters, and the
    stored content glues these answers before the orchestrator's own)."""
    answers = {
        c.get("run_id"): c.get("content")
        for c in record.get("child_runs") or []
        if isinstance(c, dict) and isinstance(c.get("content"), str)
    }
    out: list[dict] = []
    pending: str | None = None
    for event in record.get("events") or []:
        if not isinstance(event, dict):
            continue
        kind = event.get("type") or event.get("event")
        if kind == "delegation_completed":
            pending = answers.get(event.get("child_execution_id"))
        elif (
            kind == "tool_result"
            and pending is not None
            and str(event.get("tool_name") or "").startswith("delegate_to_")
        ):
            event = {**event, "result": pending}
            pending = None
        out.append(event)
    return out


def message_events(messages: Iterable[dict], session_id: str) -> list[CanonicalEvent]:
    """One `history` event per stored message (role and timestamp in `arguments`)."""
    return [
        make_event(
            "history",
            text=m.get("content") if isinstance(m.get("content"), str) else _text(m),
            run_id=m.get("run_id"),
            session_id=session_id,
            arguments={"role": m.get("role"), "timestamp": m.get("timestamp")},
        )
        for m in messages
        if isinstance(m, dict)
    ]


def runs_events(runs: Iterable[dict], session_id: str) -> list[CanonicalEvent]:
    """The events of every run, oldest first (runs without a time keep the server's order)."""
    ordered = sorted(
        (r for r in runs if isinstance(r, dict)),
        key=lambda r: _epoch(r.get("created_at") or r.get("started_at")) or 0.0,
    )
    events: list[CanonicalEvent] = []
    for run in ordered:
        events.extend(run_events(run, session_id))
    return events


def run_events(run: dict, session_id: str) -> list[CanonicalEvent]:
    """One stored run as canonical events: the user's message, what happened, its end."""
    run_id = run.get("run_id") if isinstance(run.get("run_id"), str) else None
    started = run.get("created_at") or run.get("started_at")
    ended = run.get("completed_at") or started
    clock = _Clock(_epoch(started))
    normaliser = EventNormaliser(clock)
    ids = {"run_id": run_id, "session_id": session_id}

    def normalise(payload: dict) -> CanonicalEvent:
        return normaliser.normalise(ServerSentEvent(data=json.dumps({**payload, **ids})))

    out = [
        make_event(
            "history",
            text=_user_text(run),
            run_id=run_id,
            session_id=session_id,
            received_at=clock.stamp(),
            arguments={"role": "user", "timestamp": started if isinstance(started, str) else None},
        )
    ]
    stored = [e for e in run.get("events") or [] if isinstance(e, dict)]
    for event in stored:
        name = event.get("event") or event.get("type")
        if not isinstance(name, str) or name in SUMMARISED:
            continue
        clock.at(_epoch(event.get("ts")))
        out.append(normalise({**event, "event": name}))
    tool_calls = [c for c in run.get("tool_calls") or [] if isinstance(c, dict)]
    if not any(e["event"] == "tool_call" for e in out):
        for number, call in enumerate(tool_calls):
            out.extend(normalise(p) for p in _tool_pair(call, number))
    clock.at(_epoch(ended))
    status = run.get("status")
    if status in ENDED:
        out.append(
            normalise(
                {
                    "event": "complete",
                    "content": run.get("content"),
                    "status": ENDED[status],
                    "error": run.get("error"),
                    "usage": run.get("usage"),
                    "steps": run.get("steps"),
                    "tool_calls": tool_calls,
                    "citations": run.get("citations"),
                }
            )
        )
    elif status in CANCELLED:
        out.append(make_event("stopped", received_at=clock.stamp(), **ids))
    return out


def _tool_pair(call: dict, number: int) -> list[dict]:
    """A stored tool call (step, tool_name, arguments, result, duration_ms) as call + result."""
    call_id = f"stored_{number}"  # the record has none: pair the two events we make
    common = {"step": call.get("step"), "tool_name": call.get("tool_name"), "call_id": call_id}
    return [
        {"event": "tool_call", **common, "arguments": call.get("arguments")},
        {
            "event": "tool_result",
            **common,
            "result": call.get("result"),
            "duration_ms": call.get("duration_ms"),
        },
    ]


def _user_text(run: dict) -> str:
    """The message that started a run: its last user input message (text parts joined)."""
    for message in reversed(run.get("input_messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text(message)
    for key in ("message", "input"):
        if isinstance(run.get(key), str):
            return run[key]
    return ""


def _text(message: dict) -> str:
    """A message's content as text: a string, or the text parts of a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch from an ISO time or a number, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    moment = parse_time(value)
    return moment.timestamp() if moment is not None else None


class _Clock:
    """The normaliser's clock for a stored run: the stored times, not the time of loading."""

    def __init__(self, start: float | None) -> None:
        self.now = start if start is not None else time.time()

    def at(self, moment: float | None) -> None:
        """Move to `moment` when the record has one (never backwards)."""
        if moment is not None and moment > self.now:
            self.now = moment

    def stamp(self) -> str:
        """The current time as a canonical received_at."""
        return format_timestamp(self.now)

    def __call__(self) -> float:
        return self.now


def _says_session_not_found(error: PowabaseError) -> bool:
    """A 404 whose body names the session (not a missing route on an older server)."""
    return error.status_code == 404 and "session not found" in (error.body or "").lower()


def _unknown(session_id: str) -> UnknownSessionError:
    """The error for a session id the server does not know."""
    return UnknownSessionError(
        f"No such session: {session_id} (the server has no runs or messages for it). Check "
        "the id (w.sessions() lists this agent's sessions), or start a new one with "
        "w.new_session().",
        status_code=404,
    )
