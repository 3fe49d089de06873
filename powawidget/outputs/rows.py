"""The rows of the transcript views: their fixed columns and how a turn becomes rows.

`outputs.transcript.Transcript` builds its `Table`s from these; the column tuples are the
views' contract (the same columns whatever the dialect, nested values as JSON strings).
"""

from __future__ import annotations

import json
import math
from typing import Any

from powawidget.model.conversation import Turn, ms_between, usage_tokens
from powawidget.model.delegations import runs_of
from powawidget.model.turns import Delegation
from powawidget.wire.canonical import CanonicalEvent

ROW_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "seq",
    "event",
    "step",
    "role",
    "text",
    "tool_name",
    "call_id",
    "arguments",
    "result",
    "duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "status",
    "error_code",
    "error_message",
    "received_at",
    "elapsed_ms",
)
MESSAGE_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "role",
    "text",
    "reasoning",
    "tool_name",
    "call_id",
    "arguments",
    "status",
    "duration_ms",
    "error_code",
    "error_message",
    "received_at",
    "source",
)
RUN_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "question",
    "answer",
    "status",
    "started_at",
    "ended_at",
    "time_to_first_token_ms",
    "duration_ms",
    "steps",
    "tool_calls",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "tokens_per_s",
    "error_code",
    "error_message",
    "source",
    "agent",
    "parent_run_id",
    "depth",
    "server_answer",
)
TOOL_CALL_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "agent",
    "parent_run_id",
    "depth",
    "step",
    "call_id",
    "tool_name",
    "arguments",
    "result",
    "duration_ms",
    "approval_wait_ms",
    "status",
    "error",
    "called_at",
    "finished_at",
)
DELEGATION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "agent",
    "task",
    "status",
    "steps",
    "tool_calls",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "duration_ms",
    "error",
    "child_run_id",
    "depth",
    "started_at",
    "ended_at",
)
CITATION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "key",
    "source_name",
    "source_id",
    "item_id",
    "text_excerpt",
)

#: Who an event speaks for in `rows.role`; server events not listed are the assistant's.
_ROLES = {
    "user_message": "user",
    "approval_resolved": "user",
    "stopped": "user",
    "new_session": "user",
    "tool_call": "tool",
    "tool_result": "tool",
    "client_error": "system",
}


def _json(value: Any) -> str | None:
    """Nested values as a JSON string (strings and None as they are)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _s(value: Any) -> str | None:
    """A text column's value: strings and None as they are, anything else as JSON."""
    return value if value is None or type(value) is str else _json(value)


def _float(value: Any) -> float | None:
    """A JSON number as a float (None for anything else)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _intish(value: Any) -> int | None:
    """A JSON integer (None for anything else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _source(turn: Turn) -> str:
    """Where a turn came from: a live/replayed stream, or stored session history (no tools)."""
    return "history" if turn.from_history else "stream"


def event_row(event: CanonicalEvent, turn: Turn | None) -> dict:
    """The flat transcript row of one event."""
    name = event.get("event")
    prompt, completion, total = usage_tokens(event.get("usage"))
    text = event.get("text")
    if name == "malformed" and text is None:
        text = event.get("raw")
    role = _ROLES.get(name, "assistant") if isinstance(name, str) else "assistant"
    if name == "history" and isinstance(event.get("arguments"), dict):
        role = event["arguments"].get("role") or role
    return {
        "session_id": _s(event.get("session_id") or (turn.session_id if turn else None)),
        "run_id": _s(event.get("run_id") or (turn.run_id if turn else None)),
        "turn": turn.index if turn else None,
        "seq": _intish(event.get("seq")),
        "event": _s(name),
        "step": _intish(event.get("step")),
        "role": _s(role),
        "text": _json(text),
        "tool_name": _s(event.get("tool_name")),
        "call_id": _s(event.get("call_id")),
        "arguments": _json(event.get("arguments")),
        "result": _json(event.get("result")),
        "duration_ms": _float(event.get("duration_ms")),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
        "status": _s(event.get("status")),
        "error_code": _s(event.get("error_code")),
        "error_message": _s(event.get("error_message")),
        "received_at": _s(event.get("received_at")),
        "elapsed_ms": ms_between(turn.started_at, event.get("received_at")) if turn else None,
    }


def _message(turn: Turn, role: str, **fields: Any) -> dict:
    """A message row with the turn's ids and every column present."""
    row = dict.fromkeys(MESSAGE_COLUMNS)
    row.update(session_id=turn.session_id, run_id=turn.run_id, turn=turn.index, role=role)
    row["source"] = _source(turn)
    row.update(fields)
    return row


def citation_row(turn: Turn, citation: dict) -> dict:
    """One citation of a turn: its `[n]` key, the source and the excerpt it cites."""
    return {
        "session_id": turn.session_id,
        "run_id": turn.run_id,
        "turn": turn.index,
        "key": _s(citation.get("key")),
        "source_name": _s(citation.get("source_name")),
        "source_id": _s(citation.get("source_id")),
        "item_id": _s(citation.get("item_id")),
        "text_excerpt": _s(citation.get("text_excerpt")),
    }


def turn_messages(turn: Turn) -> list[dict]:
    """A turn's messages in reading order: question, tool calls, answer."""
    out = []
    if turn.user_text is not None:
        out.append(_message(turn, "user", text=turn.user_text, received_at=turn.started_at))
    for call in turn.tool_calls:
        out.append(
            _message(
                turn,
                "tool",
                text=call.result,
                tool_name=call.tool_name,
                call_id=call.call_id,
                arguments=_json(call.arguments),
                status=call.state,
                duration_ms=call.duration_ms,
                error_message=call.error,
                received_at=call.finished_at or call.called_at,
            )
        )
    if turn.text or turn.reasoning or turn.status != "streaming" or turn.error_message:
        out.append(
            _message(
                turn,
                "assistant",
                text=turn.text,
                reasoning=turn.reasoning or None,
                status=turn.status,
                duration_ms=ms_between(turn.started_at, turn.ended_at),
                error_code=turn.error_code,
                error_message=turn.error_message,
                received_at=turn.ended_at or turn.first_token_at,
            )
        )
    return out


def run_rows(turn: Turn) -> list[dict]:
    """A turn's row, then one per run it delegated to (an orchestration's sub-agents)."""
    rows = []
    for run in runs_of(turn):
        row = run_row(run)
        if run is not turn:  # a child run: the turn's session, the task as its question
            row.update(session_id=turn.session_id, turn=turn.index, source=_source(turn))
        rows.append(row)
    return rows


def delegation_row(turn: Turn, delegation: Delegation) -> dict:
    """One delegation: who got which task, how it ended, its steps, tokens and time."""
    child = delegation.run
    prompt, completion, total = usage_tokens(child.usage)
    return {
        "session_id": turn.session_id,
        "run_id": child.parent_run_id,
        "turn": turn.index,
        "agent": delegation.agent,
        "task": delegation.task,
        "status": delegation.status,
        "steps": child.step_count,
        "tool_calls": len(child.tool_calls),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
        "duration_ms": delegation.duration_ms,
        "error": child.error_message,
        "child_run_id": delegation.child_run_id,
        "depth": child.depth,
        "started_at": delegation.started_at,
        "ended_at": delegation.ended_at,
    }


def run_row(turn: Turn) -> dict:
    """The metrics row of one turn; tokens/s = completion tokens per second of the run."""
    prompt, completion, total = usage_tokens(turn.usage)
    duration = ms_between(turn.started_at, turn.ended_at)
    rate = None
    if completion is not None and duration:
        rate = round(completion / (duration / 1000.0), 3)
    return {
        "session_id": turn.session_id,
        "run_id": turn.run_id,
        "turn": turn.index,
        "question": turn.user_text,
        "answer": turn.text,
        "status": turn.status,
        "started_at": turn.started_at,
        "ended_at": turn.ended_at,
        "time_to_first_token_ms": ms_between(turn.started_at, turn.first_token_at),
        "duration_ms": duration,
        "steps": turn.step_count,
        "tool_calls": len(turn.tool_calls),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
        "tokens_per_s": rate,
        "error_code": turn.error_code,
        "error_message": turn.error_message,
        "source": _source(turn),
        "agent": turn.agent,
        "parent_run_id": turn.parent_run_id,
        "depth": turn.depth,
        "server_answer": turn.server_text,
    }


def tool_rows(turn: Turn) -> list[dict]:
    """A turn's tool calls, then those of every run it delegated to (who called what)."""
    return [
        {**tool_row(run, call), "session_id": turn.session_id, "turn": turn.index}
        for run in runs_of(turn)
        for call in run.tool_calls
    ]


def tool_row(turn: Turn, call: Any) -> dict:
    """The row of one tool call (of a turn, or of a delegated run)."""
    return {
        "session_id": turn.session_id,
        "run_id": turn.run_id,
        "turn": turn.index,
        "agent": turn.agent,
        "parent_run_id": turn.parent_run_id,
        "depth": turn.depth,
        "step": _intish(call.step),
        "call_id": call.call_id,
        "tool_name": call.tool_name,
        "arguments": _json(call.arguments),
        "result": call.result,
        "duration_ms": _float(call.duration_ms),
        "approval_wait_ms": _float(call.approval_wait_ms),
        "status": call.state,
        "error": call.error,
        "called_at": call.called_at,
        "finished_at": call.finished_at,
    }
