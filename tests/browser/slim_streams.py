"""Real-looking event sequences for the front end, as the kernel sends them.

Frames of both dialects go through the real normaliser (`powawidget.wire.events`) and the
real slimming (`powawidget.notebook.sync.slim_event`), so the page sees exactly what a widget sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent

try:
    from powawidget.notebook.sync import slim_event
except ImportError:  # sync now sends folded turns; the page still folds events until ported
    MAX_RESULT_CHARS = 200_000

    def slim_event(event: dict[str, Any]) -> dict[str, Any]:
        """The panel's copy of an event: no `raw`, no None values, long results cut."""
        slim = {k: v for k, v in event.items() if v is not None and k != "raw"}
        result = slim.get("result")
        if isinstance(result, str) and len(result) > MAX_RESULT_CHARS:
            slim["result"] = result[:MAX_RESULT_CHARS]
            slim["result_truncated"] = True
        return slim


RUN_ID = "run_0123456789ab"
SESSION_ID = "sess_0123456789ab"


def normalise(frames: Iterable[dict[str, Any] | str]) -> list[dict[str, Any]]:
    """Normalise wire payloads (dicts, or raw strings for malformed frames) into slim events."""
    normaliser = EventNormaliser()
    out = []
    for frame in frames:
        data = frame if isinstance(frame, str) else json.dumps(frame)
        out.append(slim_event(normaliser.normalise(ServerSentEvent(data=data))))
    return out


def client(event: str, **fields: Any) -> dict[str, Any]:
    """A client-side event (user_message, stopped, client_error, ...) in slim form."""
    return slim_event(make_event(event, **fields))


def user(text: str) -> dict[str, Any]:
    """The user's message, which starts a turn."""
    return client("user_message", text=text)


def server_run(
    answer_parts: list[str],
    *,
    run_id: str = RUN_ID,
    tools: Iterable[tuple[str, str, dict[str, Any], str]] = (),
    usage: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The server dialect: content_delta stream, tools with call_ids, terminal chunk, complete."""
    frames: list[dict[str, Any]] = [
        {"event": "start", "run_id": run_id, "session_id": SESSION_ID},
        {"event": "step_started", "step": 1, "is_last_step": False},
    ]
    tools = list(tools)
    for call_id, name, args, _ in tools:
        frames.append(
            {
                "event": "tool_call",
                "step": 1,
                "tool_name": name,
                "arguments": args,
                "call_id": call_id,
            }
        )
    for call_id, name, _, result in reversed(tools):  # results arrive in any order
        frames.append(
            {
                "event": "tool_result",
                "step": 1,
                "tool_name": name,
                "call_id": call_id,
                "result_preview": result,
                "duration_ms": 312.0,
            }
        )
    if tools:
        frames.append({"event": "step_completed", "step": 1, "has_tool_calls": True})
        frames.append({"event": "step_started", "step": 2, "is_last_step": True})
    step = 2 if tools else 1
    frames += [{"event": "content_delta", "delta": part} for part in answer_parts]
    answer = "".join(answer_parts)
    frames += [
        {"event": "chunk", "content": answer},
        {"event": "step_completed", "step": step, "finish_reason": "stop"},
        {
            "event": "complete",
            "run_id": run_id,
            "session_id": SESSION_ID,
            "content": answer,
            "status": "completed",
            "steps": step,
            "usage": usage,
        },
    ]
    return normalise(frames)


def documented_run(answer_parts: list[str], *, tool: tuple[str, dict, str] | None = None):
    """The documented dialect: chunk deltas, a tool call without call_id, usage on complete."""
    frames: list[dict[str, Any]] = [
        {"event": "start", "session_id": SESSION_ID, "run_id": "run_doc000000001"},
        {"event": "step_started", "step_number": 1},
    ]
    if tool is not None:
        name, args, result = tool
        frames.append({"event": "tool_call", "tool_name": name, "arguments": args})
        frames.append({"event": "tool_result", "result": result})
    frames += [{"event": "chunk", "content": part} for part in answer_parts]
    frames += [
        {"event": "step_completed", "step_number": 1},
        {
            "event": "complete",
            "usage": {"prompt_tokens": 120, "completion_tokens": 48, "total_tokens": 168},
        },
    ]
    return normalise(frames)


def paced(
    events: Iterable[dict[str, Any]], start: str = "2026-11-24T08:00:00.000Z", step_ms: int = 45
) -> list[dict[str, Any]]:
    """The events re-stamped `step_ms` apart from `start`, as a real run's arrival times."""
    from datetime import datetime, timedelta

    t0 = datetime.fromisoformat(start.replace("Z", "+00:00"))
    out = []
    for i, event in enumerate(events):
        at = t0 + timedelta(milliseconds=i * step_ms)
        out.append(
            {
                **event,
                "received_at": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            }
        )
    return out
