"""`Transcript`: canonical events plus DataFrame-ready views, save/load and exports.

Works without a widget, on events from anywhere: `Transcript(client.stream_run(...))`,
`Transcript.load("chat.jsonl")`, or the widget's own log. Views are `Table`s of flat rows
with fixed columns whatever the dialect (nested values as JSON strings):

- `rows`: one row per event (`ROW_COLUMNS`), `elapsed_ms` counted from the turn's start;
- `messages`: user, tool and assistant messages as a reader sees them (`MESSAGE_COLUMNS`);
- `runs`: one row per turn with timing, tokens and outcome (`RUN_COLUMNS`): times are
  counted from the user's message (else the run's first event); `time_to_first_token_ms`
  is to the first answer or reasoning text; `tokens_per_s` = completion tokens per second
  of the whole run;
- `tool_calls`: one row per tool call (`TOOL_CALL_COLUMNS`);
- `citations`: one row per source a cited answer used (`CITATION_COLUMNS`, docs/protocol.md
  "Citations"): `key` is the `[n]` marker in the answer's text.

`turn` columns are indexes into `Transcript.conversation.turns` (from 0).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from powawidget.model.conversation import Conversation, Turn, ms_between, usage_tokens
from powawidget.outputs.tables import Table
from powawidget.session.recording import load_events, save_events

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
)
TOOL_CALL_COLUMNS: tuple[str, ...] = (
    "session_id",
    "run_id",
    "turn",
    "step",
    "call_id",
    "tool_name",
    "arguments",
    "result",
    "duration_ms",
    "status",
    "error",
    "called_at",
    "finished_at",
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


class Transcript:
    """A recorded conversation: its canonical events and the views derived from them."""

    def __init__(self, events: Iterable[dict] = ()) -> None:
        """Start from `events` (canonical event dicts, in order)."""
        self._conversation = Conversation()
        self.extend(events)

    def __repr__(self) -> str:
        """A cheap summary (never the whole transcript)."""
        conv = self._conversation
        return f"Transcript({len(conv.events)} events, {len(conv.turns)} turns)"

    def __len__(self) -> int:
        """The number of events."""
        return len(self._conversation.events)

    def __iter__(self) -> Iterator[dict]:
        """The events in order."""
        return iter(self._conversation.events)

    @property
    def events(self) -> list[dict]:
        """Every canonical event, in order (do not mutate: use append/extend)."""
        return self._conversation.events

    @property
    def conversation(self) -> Conversation:
        """The conversation model folded from the events (turns, tool calls, usage)."""
        return self._conversation

    def append(self, event: dict) -> None:
        """Add one canonical event."""
        self._conversation.apply(event)

    def extend(self, events: Iterable[dict]) -> None:
        """Add canonical events in order."""
        self._conversation.extend(events)

    @property
    def rows(self) -> Table:
        """One row per event, columns `ROW_COLUMNS` whatever the dialect."""
        conv = self._conversation
        out = []
        for event, index in zip(conv.events, conv.event_turns, strict=True):
            turn = conv.turns[index] if index is not None else None
            out.append(_event_row(event, turn))
        return Table(out, ROW_COLUMNS)

    @property
    def messages(self) -> Table:
        """One row per message a reader sees: the user's, each tool call's, the assistant's."""
        out: list[dict] = []
        for turn in self._conversation.turns:
            out.extend(_turn_messages(turn))
        return Table(out, MESSAGE_COLUMNS)

    @property
    def runs(self) -> Table:
        """One row per run (turn): question, answer, outcome, timing and tokens."""
        return Table([_run_row(turn) for turn in self._conversation.turns], RUN_COLUMNS)

    @property
    def tool_calls(self) -> Table:
        """One row per tool call, duration the server's when sent else measured."""
        out = [
            _tool_row(turn, call) for turn in self._conversation.turns for call in turn.tool_calls
        ]
        return Table(out, TOOL_CALL_COLUMNS)

    @property
    def citations(self) -> Table:
        """One row per citation of a cited answer, in the order the answer cites them."""
        out = [
            _citation_row(turn, citation)
            for turn in self._conversation.turns
            for citation in turn.citations or ()
            if isinstance(citation, dict)
        ]
        return Table(out, CITATION_COLUMNS)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the events as JSON Lines (one canonical event a line), atomically.

        The file is written beside `path` and renamed over it, so a crash mid-save leaves
        the old file or the new one, never half of one (see `powawidget.session.recording`).
        """
        return save_events(self.events, path)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Iterable[dict]) -> Transcript:
        """Read a transcript saved by `save` (or take a list of canonical events).

        A last line cut short (no newline, not JSON) is skipped with a warning; any other bad
        line raises ValueError naming its line number.
        """
        if isinstance(source, Transcript):
            return cls(source.events)
        return cls(load_events(source))

    def to_markdown(self, **options: Any) -> str:
        """A readable Markdown handout (see `powawidget.outputs.export.to_markdown`)."""
        from powawidget.outputs.export import to_markdown

        return to_markdown(self, **options)

    def to_html(self, **options: Any) -> str:
        """A self-contained, sanitised HTML page (see `powawidget.outputs.export.to_html`)."""
        from powawidget.outputs.export import to_html

        return to_html(self, **options)


def _event_row(event: dict, turn: Turn | None) -> dict:
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


def _citation_row(turn: Turn, citation: dict) -> dict:
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


def _turn_messages(turn: Turn) -> list[dict]:
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


def _run_row(turn: Turn) -> dict:
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
    }


def _tool_row(turn: Turn, call: Any) -> dict:
    """The row of one tool call."""
    return {
        "session_id": turn.session_id,
        "run_id": turn.run_id,
        "turn": turn.index,
        "step": _intish(call.step),
        "call_id": call.call_id,
        "tool_name": call.tool_name,
        "arguments": _json(call.arguments),
        "result": call.result,
        "duration_ms": _float(call.duration_ms),
        "status": call.state,
        "error": call.error,
        "called_at": call.called_at,
        "finished_at": call.finished_at,
    }
