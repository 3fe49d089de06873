"""How each canonical event changes a turn: one handler per event name (PROTOCOL.md rules).

Text deltas append or replace as their `text_mode` says, `complete.content` is the
authoritative answer, a failed `complete` is a failure, tool results pair with their call
by `call_id` else first-in-first-out per tool name, approvals make a call pending.
`Conversation.apply` picks the turn and calls `HANDLERS[event name]`; pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from powawidget.model.turns import (
    FINISHED,
    Approval,
    Step,
    ToolCall,
    ToolState,
    Turn,
    _at,
    _brief,
    _int,
    _str,
    _text,
    ms_between,
)
from powawidget.wire.events import tool_failed


def _on_start(turn: Turn, event: dict) -> None:
    """The server names the run and its session (authoritative over the user_message's)."""
    turn._has_start = True
    for key in ("run_id", "session_id"):
        if isinstance(event.get(key), str):
            setattr(turn, key, event[key])


def _on_step_started(turn: Turn, event: dict) -> None:
    """A step of the agent loop begins."""
    turn.steps.append(Step(number=_int(event.get("step")), started_at=_at(event)))


def _on_step_completed(turn: Turn, event: dict) -> None:
    """A step ends (with its finish reason when the server sends one)."""
    number = _int(event.get("step"))
    step = next((s for s in reversed(turn.steps) if s.number == number), None)
    if step is None:
        step = Step(number=number)
        turn.steps.append(step)
    step.completed_at = _at(event)
    raw = event.get("raw")
    if isinstance(raw, dict) and isinstance(raw.get("finish_reason"), str):
        step.finish_reason = raw["finish_reason"]


def _on_text(turn: Turn, event: dict) -> None:
    """Assistant text: deltas append, a whole text replaces (PROTOCOL.md)."""
    text = event.get("text")
    if text is None:
        return
    if not isinstance(text, str):
        turn.warnings.append(f"{event.get('event')} text is not a string: {_brief(text)}")
        text = _text(text)
    if (event.get("text_mode") or "append") == "replace":
        turn.text = text
    else:
        Turn.text.append(turn, text)  # type: ignore[attr-defined]
    if text and turn.first_token_at is None:
        turn.first_token_at = _at(event)


def _on_reasoning(turn: Turn, event: dict) -> None:
    """Reasoning: deltas append, a whole `reasoning` replaces."""
    if event.get("text") is None:
        return
    text = _text(event.get("text"))
    default = "replace" if event.get("event") == "reasoning" else "append"
    if (event.get("text_mode") or default) == "replace":
        turn.reasoning = text
    else:
        Turn.reasoning.append(turn, text)  # type: ignore[attr-defined]
    if text and turn.first_token_at is None:
        turn.first_token_at = _at(event)


def _open_calls(turn: Turn) -> list[ToolCall]:
    """Tool calls still waiting for their result, oldest first."""
    return [c for c in turn.tool_calls if not c._has_result]


def _current_step(turn: Turn, event: dict) -> int | None:
    """The event's step, else the step in progress (the documented dialect omits it)."""
    step = _int(event.get("step"))
    if step is None and turn.steps:
        step = turn.steps[-1].number
    return step


def _on_tool_call(turn: Turn, event: dict) -> None:
    """A tool call starts running (or names the call an approval request announced)."""
    call_id, name = _str(event.get("call_id")), _str(event.get("tool_name"))
    existing = None
    if call_id is not None:
        existing = next((c for c in turn.tool_calls if c.call_id == call_id), None)
    if existing is None:
        # A call announced by approval_requested first: this event names it.
        existing = next(
            (
                c
                for c in _open_calls(turn)
                if c._from_approval and c.call_id is None and c.tool_name == name
            ),
            None,
        )
    if existing is not None:
        existing.call_id = existing.call_id or call_id
        existing._from_approval = False
        if event.get("arguments") is not None:
            existing.arguments = event["arguments"]
        existing.step = _current_step(turn, event) if existing.step is None else existing.step
        return
    turn.tool_calls.append(
        ToolCall(
            call_id=call_id,
            tool_name=name,
            arguments=event.get("arguments"),
            step=_current_step(turn, event),
            called_at=_at(event),
        )
    )


def _match_result(turn: Turn, event: dict) -> ToolCall | None:
    """The call a result answers: by call_id, else the oldest open call of that tool name."""
    call_id, name = _str(event.get("call_id")), _str(event.get("tool_name"))
    if call_id is not None:
        found = [c for c in turn.tool_calls if c.call_id == call_id]
        if found:
            return next((c for c in found if not c._has_result), found[0])
    candidates = _open_calls(turn)
    if call_id is not None:
        candidates = [c for c in candidates if c.call_id is None]
    if name is not None:
        candidates = [c for c in candidates if c.tool_name == name]
    return candidates[0] if candidates else None


def _on_tool_result(turn: Turn, event: dict) -> None:
    """A result finishes its call: done, or error when the payload says the tool failed."""
    call = _match_result(turn, event)
    if call is None:
        turn.warnings.append(
            f"tool_result without a matching tool_call ({event.get('tool_name')!r}, "
            f"call_id {event.get('call_id')!r}); kept as its own tool call"
        )
        call = ToolCall(call_id=_str(event.get("call_id")), tool_name=_str(event.get("tool_name")))
        call.step = _current_step(turn, event)
        turn.tool_calls.append(call)
    elif call._has_result:
        turn.warnings.append(f"second tool_result for call_id {call.call_id!r} replaced the first")
    call._has_result = True
    call.result = None if event.get("result") is None else _text(event.get("result"))
    call.finished_at = _at(event)
    call.tool_name = call.tool_name or _str(event.get("tool_name"))
    call.call_id = call.call_id or _str(event.get("call_id"))
    if call.step is None:
        call.step = _int(event.get("step"))
    duration = event.get("duration_ms")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        call.duration_ms = float(duration)
    else:
        call.duration_ms = ms_between(call.called_at, call.finished_at)
    was_pending = call.state == "pending"
    if call.state != "error":
        failed = event.get("status") == "error" or tool_failed(event.get("raw"))
        call.state = "error" if failed else "done"
        if call.state == "error" and call.error is None:
            call.error = call.result
    # The decision may be logged after the result it let through: the run has resumed.
    if was_pending and turn.status == "waiting_approval" and not _pending_calls(turn):
        turn.status = "streaming"


def _pending_calls(turn: Turn) -> list[ToolCall]:
    """Tool calls still waiting for the user's decision."""
    return [c for c in turn.tool_calls if c.state == "pending"]


def _on_approval_requested(turn: Turn, event: dict) -> None:
    """The run waits for the user: the tool call it concerns becomes pending."""
    name = _str(event.get("tool_name"))
    approval = Approval(
        tool_name=name,
        arguments=event.get("arguments"),
        message=_str(event.get("text")),
        requested_at=_at(event),
    )
    call_id, open_calls = _str(event.get("call_id")), _open_calls(turn)
    call = next((c for c in open_calls if call_id is not None and c.call_id == call_id), None)
    if call is None:
        call = next((c for c in reversed(open_calls) if c.tool_name == name), None)
    if call is None:
        call = ToolCall(call_id=call_id, tool_name=name)
        call.arguments = event.get("arguments")
        call.step = _current_step(turn, event)
        call.called_at = _at(event)
        call._from_approval = True
        turn.tool_calls.append(call)
    call.state = "pending"
    approval._tool_call = call
    turn.approvals.append(approval)
    if not turn.finished:
        turn.status = "waiting_approval"


def _on_approval_resolved(turn: Turn, event: dict) -> None:
    """The user decided: the pending call runs (approved) or fails (denied)."""
    approval = next((a for a in turn.approvals if a.approved is None), None)
    if approval is None:
        turn.warnings.append("approval_resolved without a pending approval_requested")
        return
    decision = event.get("arguments") if isinstance(event.get("arguments"), dict) else {}
    approval.approved = bool(decision.get("approved"))
    approval.reason = _str(decision.get("reason"))
    approval.resolved_at = _at(event)
    call = approval._tool_call
    # Only a call still waiting changes: one whose result came first keeps its outcome.
    if call is not None and call.state == "pending":
        call.state = "running" if approval.approved else "error"
        if not approval.approved:
            call.error = "denied" + (f": {approval.reason}" if approval.reason else "")
    if turn.status == "waiting_approval" and all(a.approved is not None for a in turn.approvals):
        turn.status = "streaming"


def _fail(turn: Turn, event: dict, default_message: str) -> None:
    """Mark the turn failed (a stopped turn stays stopped); the first error's text is kept."""
    if turn.status != "stopped":
        turn.status = "failed"
    if turn.error_message is None:
        turn.error_message = _str(event.get("error_message")) or default_message
    if turn.error_code is None:
        turn.error_code = _str(event.get("error_code"))
    if turn.error_step is None:
        turn.error_step = _int(event.get("step"))
    turn.ended_at = _at(event)
    _close_open_calls(turn, "error", f"run {turn.status}")


def _close_open_calls(turn: Turn, state: ToolState, reason: str | None) -> None:
    """Settle tool calls that never got a result once the run is over."""
    for call in turn.tool_calls:
        if call.state in ("pending", "running"):
            call.state = state
            if state == "error" and call.error is None:
                call.error = reason


def _on_complete(turn: Turn, event: dict) -> None:
    """The run's end: authoritative text, usage, status; fills results from its summary."""
    failed = event.get("status") == "failed"
    text = event.get("text")
    if isinstance(text, str) and (text or not turn.text):
        _on_text(turn, {**event, "text_mode": "replace"})
    raw = event.get("raw") if isinstance(event.get("raw"), dict) else {}
    if _int(raw.get("steps")) is not None:
        turn.steps_reported = _int(raw.get("steps"))
    if isinstance(raw.get("tool_calls"), list):
        _merge_summary(turn, raw["tool_calls"], _at(event))
    if failed:
        _fail(turn, event, "the run failed")
        return
    if turn.status not in FINISHED:
        turn.status = "completed"
    turn.ended_at = _at(event)
    _close_open_calls(turn, "done", None)


def _merge_summary(turn: Turn, summary: list, received_at: str | None) -> None:
    """complete.tool_calls: full results for streamed calls (the stream sends ≤200-char
    previews), and any call the stream never showed."""
    for entry in summary:
        if not isinstance(entry, dict):
            continue
        name, step = entry.get("tool_name"), entry.get("step")
        call = next(
            (
                c
                for c in turn.tool_calls
                if not c._summarised
                and c.tool_name == name
                and (step is None or c.step is None or c.step == step)
            ),
            None,
        )
        if call is None:
            call = ToolCall(call_id=entry.get("call_id"), tool_name=name, step=step)
            call.arguments, call.state, call.finished_at = (
                entry.get("arguments"),
                "done",
                received_at,
            )
            call._has_result = True
            turn.tool_calls.append(call)
        call._summarised = True
        if entry.get("result") is not None:
            full = _text(entry["result"])
            if call.result is None or len(full) > len(call.result):
                call.result = full
        if call.arguments is None:
            call.arguments = entry.get("arguments")
        duration = entry.get("duration_ms")
        if call.duration_ms is None and isinstance(duration, (int, float)):
            call.duration_ms = float(duration)


def _on_error(turn: Turn, event: dict) -> None:
    """An error event from the server fails the run."""
    _fail(turn, event, "the run failed")


def _on_client_error(turn: Turn, event: dict) -> None:
    """A client-side failure (HTTP, connection, idle timeout) fails the run."""
    _fail(turn, event, "the connection failed")


def _on_stopped(turn: Turn, event: dict) -> None:
    """The user stopped the run; a finished run keeps its outcome."""
    if turn.finished:
        return
    turn.status = "stopped"
    turn.ended_at = _at(event)
    _close_open_calls(turn, "error", "run stopped")


def _on_malformed(turn: Turn, event: dict) -> None:
    """A frame that was not a JSON object: kept, and noted as a warning."""
    turn.warnings.append(f"malformed frame at seq {event.get('seq')}: {_brief(event.get('raw'))}")


HANDLERS: dict[str, Callable[[Turn, dict], None]] = {
    "start": _on_start,
    "step_started": _on_step_started,
    "step_completed": _on_step_completed,
    "chunk": _on_text,
    "content_delta": _on_text,
    "reasoning_delta": _on_reasoning,
    "reasoning": _on_reasoning,
    "tool_call": _on_tool_call,
    "tool_result": _on_tool_result,
    "approval_requested": _on_approval_requested,
    "approval_resolved": _on_approval_resolved,
    "complete": _on_complete,
    "error": _on_error,
    "client_error": _on_client_error,
    "stopped": _on_stopped,
    "malformed": _on_malformed,
}
