"""A delegation's child run as `GET /api/agents/runs/{child_execution_id}` shows it: an
agent-run record with `session_id: null` and `parent_orchestration_run_id` (the parent's
internal UUID, not its `orch_run_…` id), as the real backend answers (capture o46,
docs/protocol.md, Orchestrations). The record is written while the child runs, so a reader
mid-delegation sees it `running`.
"""

from __future__ import annotations

import uuid
from typing import Any

# Maps an `orch_run_…` id to the internal UUID the parent's record is stored under.
CACHE_KEY = "cache_creation_tokens"  # the stored usage lacks it (o46)
RUN_NAMESPACE = uuid.UUID("9e3d1c2b-6f4a-4e8d-a1b2-c3d4e5f6a7b8")


def parent_uuid(orch_run_id: str) -> str:
    """The internal UUID of an orchestration run (stable for its `orch_run_…` id)."""
    return str(uuid.uuid5(RUN_NAMESPACE, orch_run_id))


def begin(child_id: str, parent_run_id: str, task: str, started_at: str) -> dict[str, Any]:
    """The record of a child run that just started (the fields o46 shows, in its order)."""
    return {
        "completed_at": None,
        "content": None,
        "created_at": started_at,
        "error": None,
        "events": [],
        "id": str(uuid.uuid4()),
        "input_messages": [{"content": task, "role": "user"}],
        "output_messages": [],
        "parent_orchestration_run_id": parent_uuid(parent_run_id),
        "parent_workflow_execution_id": None,
        "reasoning_steps": [],
        "retrieved_context": None,
        "run_id": child_id,
        "session_id": None,
        "started_at": started_at,
        "status": "running",
        "steps": None,
        "tool_calls": [],
        "usage": None,
    }


def tool_calls(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The child's tool calls, each paired with its result, in o46's keys (no call_id)."""
    calls: list[dict[str, Any]] = []
    open_by_id: dict[Any, dict[str, Any]] = {}
    for event in events:
        if event.get("type") == "tool_call":
            call = {
                "arguments": event.get("arguments"),
                "duration_ms": None,
                "result": None,
                "step": event.get("step"),
                "tool_name": event.get("tool_name"),
            }
            calls.append(call)
            open_by_id[event.get("call_id")] = call
        elif event.get("type") == "tool_result":
            found = open_by_id.pop(event.get("call_id"), None)
            if found is not None:
                found["result"] = event.get("result_preview", event.get("result"))
                found["duration_ms"] = event.get("duration_ms")
    return calls


def finish(
    record: dict[str, Any],
    *,
    status: str,
    content: str | None,
    steps: int,
    usage: dict[str, Any] | None,
    error: str | None,
    completed_at: str,
) -> None:
    """Close the record: completed, failed (its error kept) or stopped (the client left)."""
    events = record["events"]
    record.update(
        status=status,
        content=content,
        steps=steps,
        error=error,
        completed_at=completed_at,
        tool_calls=tool_calls(events),
        usage=None if usage is None else {k: v for k, v in usage.items() if k != CACHE_KEY},
    )
    if content is not None:
        record["output_messages"] = [
            {"content": content, "reasoning_requested": False, "role": "assistant"}
        ]
    record["reasoning_steps"] = reasoning_steps(events, content)


def reasoning_steps(events: list[dict[str, Any]], content: str | None) -> list[dict[str, Any]]:
    """Per finished step: the tools it called, or (a step without tools) the answer."""
    out: list[dict[str, Any]] = []
    for event in events:
        if event.get("type") != "step_completed":
            continue
        step = event.get("step")
        names = [
            e.get("tool_name")
            for e in events
            if e.get("type") == "tool_call" and e.get("step") == step
        ]
        out.append(
            {"step": step, "tool_calls": names} if names else {"content": content, "step": step}
        )
    return out
