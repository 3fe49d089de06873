"""What the read endpoints return for stored runs and sessions (docs/protocol.md, "Other
endpoints"): the raw frames a run sent become `events` keyed by `type` without deltas, and
a run's `session_id` is the session's internal UUID, as on the real backend.
"""

from __future__ import annotations

import uuid
from typing import Any

# A fixed namespace: the same session id always maps to the same internal UUID.
SESSION_NAMESPACE = uuid.UUID("5b0c1d2e-7a41-4f0e-9d55-0a6c2f1e9b73")
DELTAS = ("content_delta", "reasoning_delta")


def session_uuid(session_id: str) -> str:
    """The internal UUID of a session (stable for its `sess_…` or client-chosen id)."""
    return str(uuid.uuid5(SESSION_NAMESPACE, session_id))


def used_tools(frames: list[dict]) -> bool:
    """Whether the run took the ReAct (tool) path: a step started, or complete counts steps."""
    return any(
        frame.get("event") == "step_started"
        or (frame.get("event") == "complete" and "steps" in frame)
        for frame in frames
    )


def stored_events(frames: list[dict]) -> list[dict]:
    """The frames as the backend stores them: keyed by `type`, no `event`, no deltas."""
    events = []
    for frame in frames:
        name = frame.get("event")
        if name in DELTAS:
            continue
        stored = {"type": frame.get("type", name)}
        stored.update((k, v) for k, v in frame.items() if k not in ("event", "type"))
        events.append(stored)
    return events


def run_view(
    run: dict[str, Any],
    live_frames: list[dict] | None = None,
    *,
    listed: bool = False,
    model: str | None = None,
) -> dict[str, Any]:
    """A run as GET /api/agents/runs/{run_id} shows it (`listed`: as GET
    /api/sessions/{id}/runs lists it), in the real backend's keys
    (../docs/protocol.md, "Other endpoints"). `events` and `steps` are null for a run without
    tools; the single run's `session_id` is the session's internal UUID, not the id the
    client used; a listed run names its agent and `model` instead."""
    frames = live_frames if live_frames is not None else (run.get("events") or [])
    tools = used_tools(frames)
    complete = next((f for f in reversed(frames) if f.get("event") == "complete"), None)
    steps = None
    if tools:
        steps = complete.get("steps") if complete is not None else None
        if steps is None:
            started = [f.get("step", 0) for f in frames if f.get("event") == "step_started"]
            steps = max(started, default=0)
    view: dict[str, Any] = {
        "id": run["run_id"],
        "run_id": run["run_id"],
        "status": run["status"],
        "content": run["content"],
        "error": run["error"],
        "usage": run["usage"],
        "tool_calls": run["tool_calls"],
        "events": stored_events(frames) if tools else None,
        "steps": steps,
        "reasoning_steps": run["reasoning_steps"] or [],
        "input_messages": [{"role": "user", "content": run["message"]}],
        "output_messages": [
            {
                "role": "assistant",
                "content": run["content"],
                "reasoning_requested": False,
                "tool_calls": run["tool_calls"] or [],
            }
        ],
        "created_at": run["created_at"],
        "started_at": run["created_at"],
        "completed_at": run["completed_at"],
    }
    if listed:
        view.update(agent_id=run["agent_id"], model=model, context_handler_id=None)
    else:
        view.update(
            session_id=session_uuid(run["session_id"]),
            parent_orchestration_run_id=None,
            parent_workflow_execution_id=None,
            retrieved_context=None,
        )
    return view


def session_view(session: dict[str, Any]) -> dict[str, Any]:
    """One entry of GET /api/agents/{id}/sessions: session_id, first_message, created_at,
    last_activity_at and run_count (a new session's answer adds message_count)."""
    return {k: v for k, v in session.items() if k != "agent_id"}
