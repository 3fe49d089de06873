"""Tool calls and approvals of a turn (docs/protocol.md, Tools and Approvals).

Results pair with their call by `call_id`, else first in, first out per tool name.
`approval_requested` carries no call id: it gates the latest open call of its tool name.
The outcome of an approval comes from the server's `hook_result` (`blocked`), whatever the
order of the stream and of the client's own `approval_resolved`; a result that is the
server's refusal text also says "denied", so a recording replayed alone shows it too.
The server's tool duration includes the approval's wait: the call keeps the two apart
(`ToolCall.duration_ms`, `ToolCall.approval_wait_ms`). Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from powawidget.model.turns import (
    Approval,
    ReasoningBlock,
    ToolCall,
    Turn,
    _at,
    _int,
    _str,
    _text,
    ms_between,
)
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.events import blocked_result, hook_outcome, raw_field, tool_failed
from powawidget.wire.values import measure
from powawidget.wire.values import name as value_name

DENIED_WORDS = {"denied": "Denied", "timed_out": "Approval timed out"}


def end_thinking(turn: Turn, at: str | None = None) -> None:
    """Close reasoning blocks still open: the agent moved on (text, a tool, a question)."""
    for item in turn.items:
        if isinstance(item, ReasoningBlock) and not item.done:
            item.done = True
            item.ended_at = item.ended_at or at


def open_calls(turn: Turn) -> list[ToolCall]:
    """Tool calls still waiting for their result, oldest first."""
    return [c for c in turn.tool_calls if not c._has_result]


def current_step(turn: Turn, event: CanonicalEvent) -> int | None:
    """The event's step, else the step in progress (the documented dialect omits it)."""
    step = _int(event.get("step"))
    if step is None and turn.steps:
        step = turn.steps[-1].number
    return step


def add_call(turn: Turn, call: ToolCall) -> ToolCall:
    """Append a tool call to the turn (and to what it shows)."""
    end_thinking(turn, call.called_at)
    turn.tool_calls.append(call)
    turn.items.append(call)
    return call


def on_tool_call(turn: Turn, event: CanonicalEvent) -> None:
    """A tool call starts running (or names the call an approval request announced)."""
    call_id, name = _str(event.get("call_id")), _str(event.get("tool_name"))
    existing = None
    if call_id is not None:
        existing = next((c for c in turn.tool_calls if c.call_id == call_id), None)
    if existing is None:
        existing = next(
            (
                c
                for c in open_calls(turn)
                if c._from_approval and c.call_id is None and c.tool_name == name
            ),
            None,
        )
    if existing is not None:
        existing.call_id = existing.call_id or call_id
        existing._from_approval = False
        if event.get("arguments") is not None:
            existing.arguments = event["arguments"]
        if existing.step is None:
            existing.step = current_step(turn, event)
        return
    add_call(
        turn,
        ToolCall(
            call_id=call_id,
            tool_name=name,
            arguments=event.get("arguments"),
            step=current_step(turn, event),
            called_at=_at(event),
        ),
    )


def _match_result(turn: Turn, event: CanonicalEvent) -> ToolCall | None:
    """The call a result answers: by call_id, else the oldest open call of that tool name."""
    call_id, name = _str(event.get("call_id")), _str(event.get("tool_name"))
    if call_id is not None:
        found = [c for c in turn.tool_calls if c.call_id == call_id]
        if found:
            return next((c for c in found if not c._has_result), found[0])
    candidates = open_calls(turn)
    if call_id is not None:
        candidates = [c for c in candidates if c.call_id is None]
    if name is not None:
        candidates = [c for c in candidates if c.tool_name == name]
    return candidates[0] if candidates else None


def on_tool_result(turn: Turn, event: CanonicalEvent) -> None:
    """A result finishes its call: done, error when the payload says the tool failed, or
    denied when it is the server's refusal of an approval."""
    call = _match_result(turn, event)
    if call is None:
        turn.warnings.append(
            f"tool_result without a matching tool_call ({event.get('tool_name')!r}, "
            f"call_id {event.get('call_id')!r}); kept as its own tool call"
        )
        call = add_call(
            turn,
            ToolCall(call_id=_str(event.get("call_id")), tool_name=_str(event.get("tool_name"))),
        )
        call.step = current_step(turn, event)
    elif call._has_result:
        turn.warnings.append(f"second tool_result for call_id {call.call_id!r} replaced the first")
    call._has_result = True
    call.result = None if event.get("result") is None else _text(event.get("result"))
    raw = event.get("raw")
    call.preview = isinstance(raw, dict) and "result" not in raw and "result_preview" in raw
    call.finished_at = _at(event)
    call.tool_name = call.tool_name or _str(event.get("tool_name"))
    call.call_id = call.call_id or _str(event.get("call_id"))
    if call.step is None:
        call.step = _int(event.get("step"))
    duration = _ms(event.get("duration_ms"))
    call._reported_ms = (
        duration if duration is not None else ms_between(call.called_at, call.finished_at)
    )
    refusal, words = blocked_result(call.result)
    approval = _approval_of(turn, call)
    if refusal is not None:
        if approval is not None and approval.outcome is None:
            _decide(approval, refusal, words, _at(event))
        _refuse(call, refusal, words)
    elif call.state != "denied":
        failed = event.get("status") == "error" or tool_failed(raw)
        call.state = "error" if failed else "done"
        if failed and call.error is None:
            call.error = call.result
    time_call(call)


def _ms(value: object) -> float | None:
    """A duration in milliseconds (a measure: docs/protocol.md, "Odd values"), as a float."""
    kept = measure(value)
    return None if kept is None else float(kept)


def time_call(call: ToolCall) -> None:
    """Split the call's reported duration into the approval's wait and the tool's own time.

    The server's duration runs from the call to the result, the person's wait included;
    own time = duration − wait (never below 0). A denied call never ran: no own time.
    """
    approval = call.approval
    wait = approval.wait_ms if approval is not None else None
    call.approval_wait_ms = wait
    total = call._reported_ms
    if total is None or call.state == "denied":
        call.duration_ms = None
    else:
        call.duration_ms = total if wait is None else max(0.0, round(total - wait, 3))


def _approval_of(turn: Turn, call: ToolCall) -> Approval | None:
    """The approval that gates `call`, if any."""
    return next((a for a in turn.approvals if a._tool_call is call), None)


def _refuse(call: ToolCall, outcome: str, words: str | None) -> None:
    """Mark a call refused by the user (or by the approval's timeout)."""
    call.state = "denied"
    call.error = words or DENIED_WORDS.get(outcome, "Denied")


def on_approval_requested(turn: Turn, event: CanonicalEvent) -> None:
    """The run waits for the user: the latest open call of that tool becomes pending."""
    name = _str(event.get("tool_name"))
    approval = Approval(
        tool_name=name,
        arguments=event.get("arguments"),
        message=_str(event.get("text")),
        requested_at=_at(event),
    )
    timeout = (
        event.get("raw", {}).get("timeout_seconds") if isinstance(event.get("raw"), dict) else None
    )
    kept = measure(timeout)  # a positive measure (docs/protocol.md, "Odd values")
    if kept:
        approval.timeout_s = float(kept)
    call_id, candidates = _str(event.get("call_id")), open_calls(turn)
    gated = {id(a._tool_call) for a in turn.approvals}
    candidates = [c for c in candidates if id(c) not in gated]
    call = next((c for c in candidates if call_id is not None and c.call_id == call_id), None)
    if call is None:
        call = next((c for c in reversed(candidates) if c.tool_name == name), None)
    if call is None:  # the tool_call may come later: the card exists now and waits
        call = add_call(turn, ToolCall(call_id=call_id, tool_name=name))
        call.arguments = event.get("arguments")
        call.step = current_step(turn, event)
        call.called_at = _at(event)
        call._from_approval = True
    if call.state == "running":
        call.state = "pending"
    end_thinking(turn, _at(event))
    approval._tool_call = call
    call.approval = approval
    turn.approvals.append(approval)
    turn.items.append(approval)


def _decide(approval: Approval, outcome: str, words: str | None, at: str | None) -> None:
    """Settle an approval and the call it gates (a call already finished keeps its result)."""
    approval.outcome = outcome  # type: ignore[assignment]
    approval.resolved_at = approval.resolved_at or at
    if outcome != "approved" and words and approval.reason is None:
        approval.reason = _reason(words)
    if approval.wait_ms is None:
        approval.wait_ms = ms_between(approval.requested_at, approval.resolved_at)
    call = approval._tool_call
    if call is None:
        return
    if outcome == "approved":
        if call.state == "pending":
            call.state = "running"
    elif call.state in ("pending", "running") or (call.state == "done" and call.result is None):
        _refuse(call, outcome, words)
    time_call(call)


def plain_reason(words: str | None) -> str | None:
    """A refusal's words as a user reads them: the server's "Error: Blocked by hook —" and
    "Denied by user:" cut, and None when nothing is left beyond a bare "Denied"."""
    if words is None:
        return None
    text = _JARGON.sub("", words).strip()
    return None if not text or _BARE.match(text) else text


_JARGON = re.compile(
    r"^(?:\s*(?:error:\s*)?blocked by (?:a )?hook\s*[—–:-]+\s*"
    r"|\s*denied by (?:the )?user\s*[:—–-]\s*|\s*denied\s*:\s*)+",
    re.IGNORECASE,
)
_BARE = re.compile(r"^(?:denied|rejected)(?: by (?:the )?user)?\.?$", re.IGNORECASE)


def _reason(words: str) -> str | None:
    """The user's reason inside the hook's message ("Denied by user: too expensive")."""
    head, sep, tail = words.partition(":")
    return tail.strip() or None if sep and "denied" in head.lower() else None


def on_hook_result(turn: Turn, event: CanonicalEvent) -> None:
    """The server's decision on the oldest approval it has not yet decided, and how long
    that approval waited (the hook's `latency_ms`: the server's clock, like the tool's
    duration)."""
    outcome, words = hook_outcome(event)
    if outcome is None:
        return
    waited = _ms(raw_field(event, "latency_ms"))
    approval = next((a for a in turn.approvals if a.outcome is None), None)
    if approval is None:
        # The client's approval_resolved came first: the hook's word wins if they differ.
        approval = next((a for a in reversed(turn.approvals) if a._decided_by_client), None)
        if approval is None:
            return
        approval._decided_by_client = False
        approval.wait_ms = waited if waited is not None else approval.wait_ms
        if approval.outcome == outcome:
            if approval._tool_call is not None:
                time_call(approval._tool_call)
            return
        approval.outcome = None
    approval._decided_by_client = False
    if waited is not None:
        approval.wait_ms = waited
    _decide(approval, outcome, words, _at(event))


def on_approval_resolved(turn: Turn, event: CanonicalEvent) -> None:
    """The client's own note of the user's answer, logged once the approve call returned:
    it decides only what the stream has not decided yet, and keeps the user's reason."""
    arguments = event.get("arguments")
    decision: dict[str, Any] = arguments if isinstance(arguments, dict) else {}
    approved, reason = bool(decision.get("approved")), _str(decision.get("reason"))
    if not turn.approvals:
        turn.warnings.append("approval_resolved without a pending approval_requested")
        return
    approval = next((a for a in turn.approvals if a.outcome is None), None)
    if approval is None:
        late = next((a for a in reversed(turn.approvals) if a.reason is None), None)
        if late is not None and reason and late.outcome != "approved":
            late.reason = reason
        return
    approval.reason = reason
    approval._decided_by_client = True
    words = f"Denied by user: {reason}" if reason else None
    _decide(approval, "approved" if approved else "denied", words, _at(event))


def close_open_calls(turn: Turn, outcome: str) -> None:
    """Settle tool calls and approvals left open when the run ended."""
    for call in turn.tool_calls:
        if call.state in ("pending", "running"):
            if outcome == "completed":
                call.state = "done"
            else:
                call.state = "error"
                call.error = call.error or (
                    "No result: the run was stopped."
                    if outcome == "stopped"
                    else "No result received."
                )


def merge_summary(turn: Turn, summary: list[Any], received_at: str | None) -> None:
    """complete.tool_calls: full results for streamed calls (the stream sends ≤ 200-char
    previews) matched by (step, name), and any call the stream never showed."""
    for entry in summary:
        if not isinstance(entry, dict):
            continue
        name, step = value_name(entry.get("tool_name")), _int(entry.get("step"))
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
            call_id = value_name(entry.get("call_id"))
            call = add_call(turn, ToolCall(call_id=call_id, tool_name=name, step=step))
            call.arguments, call.state, call.finished_at = (
                entry.get("arguments"),
                "done",
                received_at,
            )
            call._has_result = True
        call._summarised = True
        if entry.get("result") is not None:
            full = _text(entry["result"])
            if call.result is None or call.preview or len(full) > len(call.result):
                call.result = full
                call.preview = False
        if call.arguments is None:
            call.arguments = entry.get("arguments")
        duration = _ms(entry.get("duration_ms"))
        if call._reported_ms is None and duration is not None:
            call._reported_ms = duration
            time_call(call)
