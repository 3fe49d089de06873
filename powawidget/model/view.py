"""What the chat panel draws: the folded conversation as JSON-ready entries.

The panel has no fold of its own (docs/architecture.md, "The front end draws"): it shows
exactly these entries — turns with their items in order, new-session dividers and history
notes — which `powawidget.notebook.sync` sends as a snapshot and then as patches. The
shapes are `EntryView` below; their JavaScript twin is `js/src/model/types.js`.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from powawidget.model.conversation import Conversation
from powawidget.model.structured import NotJson, answer_json
from powawidget.model.tools import plain_reason
from powawidget.model.turns import (
    Approval,
    Delegation,
    ReasoningBlock,
    Step,
    StepReset,
    TextSegment,
    ToolCall,
    Turn,
    add_usage,
    ms_between,
    usage_with_total,
)

MAX_RESULT_CHARS = 200_000
"""The longest tool result the panel receives (the full text stays in Python's views)."""


class StepView(TypedDict):
    kind: Literal["step"]
    step: int | None
    done: bool


class TextView(TypedDict):
    kind: Literal["text"]
    text: str


class ReasoningView(TypedDict):
    kind: Literal["reasoning"]
    step: int | None
    text: str
    done: bool
    durationMs: float | None


class ApprovalView(TypedDict):
    """The approval that gates a tool call, drawn in that call's card (`ToolView.approval`).

    `state` is decided here (the server's `hook_result`, else the refusal text, else the
    client's note); `reason` is the user's words without the server's jargon."""

    kind: Literal["approval"]
    callId: str | None
    toolName: str | None
    message: str | None
    state: Literal["pending", "approved", "denied", "timed_out"]
    reason: str | None
    timeoutS: float | None


class ToolView(TypedDict):
    """A tool call. `durationMs` is the tool's own time; `approvalWaitMs` how long it
    waited for a person (docs/protocol.md, Approvals); `approval` is None when no one
    was asked."""

    kind: Literal["tool"]
    callId: str | None
    toolName: str
    arguments: Any
    result: str | None
    resultTruncated: bool
    preview: bool
    state: Literal["pending", "running", "done", "error", "denied"]
    durationMs: float | None
    approvalWaitMs: float | None
    approval: ApprovalView | None
    step: int | None
    calledAt: str | None
    finishedAt: str | None
    note: str | None


class ResetView(TypedDict):
    kind: Literal["reset"]
    step: int | None
    reason: str | None


class DelegationView(TypedDict):
    """An orchestrator's delegation: one card holding the sub-agent's run, drawn as a turn."""

    kind: Literal["delegation"]
    agent: str | None
    task: str | None
    childRunId: str | None
    callId: str | None
    status: str
    startedAt: str | None
    durationMs: float | None
    steps: int
    usage: dict[str, Any] | None
    run: TurnView


class RunUsageView(TypedDict):
    """One run's token usage in an orchestration's footer (the orchestrator, each child)."""

    agent: str | None
    runId: str | None
    depth: int
    usage: dict[str, Any] | None


ItemView = StepView | TextView | ReasoningView | ToolView | ResetView | DelegationView
"""An item of a turn. Approvals are not items of their own: each is drawn in the card of
the call it gates, so the card reads in time order (asked → approved → ran, or denied)."""


class ErrorView(TypedDict):
    message: str
    code: str | None
    step: int | None


class TurnView(TypedDict):
    kind: Literal["turn"]
    runId: str | None
    sessionId: str | None
    userText: str | None
    answer: str | None
    items: list[ItemView]
    steps: int
    status: str
    usage: dict[str, Any] | None
    error: ErrorView | None
    fromHistory: bool
    citations: list[dict[str, Any]] | None
    startedAt: str | None
    endedAt: str | None
    runMs: float | None  #: the run time the footer shows (None: not over, or from history)
    agent: str | None
    depth: int
    runUsage: list[RunUsageView] | None
    usageTotal: dict[str, Any] | None
    context: list[dict[str, Any]] | None
    answerJson: Any


class DividerView(TypedDict):
    kind: Literal["divider"]
    at: str | None


class HistoryNoteView(TypedDict):
    kind: Literal["history-note"]
    tools: bool
    text: str


EntryView = TurnView | DividerView | HistoryNoteView


def _tool(call: ToolCall) -> ToolView:
    result = call.result
    cut = result is not None and len(result) > MAX_RESULT_CHARS
    approval = call.approval
    note = call.error if call.state in ("error", "denied") else None
    if call.state == "denied":  # the server's refusal text, in the user's words
        note = None if approval is not None else plain_reason(note)
    return {
        "kind": "tool",
        "callId": call.call_id,
        "toolName": call.tool_name or "tool",
        "arguments": call.arguments,
        "result": result[:MAX_RESULT_CHARS] if cut and result is not None else result,
        "resultTruncated": cut,
        "preview": call.preview,
        "state": call.state,
        "durationMs": call.duration_ms,
        "approvalWaitMs": call.approval_wait_ms,
        "approval": None if approval is None else _approval(approval, call),
        "step": call.step,
        "calledAt": call.called_at,
        "finishedAt": call.finished_at,
        "note": note,
    }


def _approval(approval: Approval, call: ToolCall) -> ApprovalView:
    state = approval.outcome
    if state is None and call.state == "denied":  # a refusal the stream told by its result
        state = "timed_out" if call.error and "timed out" in call.error.lower() else "denied"
    return {
        "kind": "approval",
        "callId": call.call_id,
        "toolName": approval.tool_name,
        "message": approval.message,
        "state": state or "pending",
        "reason": None
        if state in (None, "approved", "timed_out")
        else plain_reason(approval.reason),
        "timeoutS": approval.timeout_s,
    }


def _item(item: Any, finished: bool) -> ItemView | None:
    if isinstance(item, TextSegment):
        return {"kind": "text", "text": item.text}
    if isinstance(item, ToolCall):
        return _tool(item)
    if isinstance(item, Approval):
        return None  # drawn in the card of the call it gates
    if isinstance(item, Step):
        return {
            "kind": "step",
            "step": item.number,
            "done": finished or item.completed_at is not None,
        }
    if isinstance(item, ReasoningBlock):
        return {
            "kind": "reasoning",
            "step": item.step,
            "text": item.text,
            "done": item.done or finished,
            "durationMs": ms_between(item.started_at, item.ended_at) if item.done else None,
        }
    if isinstance(item, StepReset):
        return {"kind": "reset", "step": item.step, "reason": item.reason}
    if isinstance(item, Delegation):
        return _delegation(item)
    raise TypeError(f"not a turn item: {type(item).__name__}")


def _delegation(delegation: Delegation) -> DelegationView:
    run = delegation.run
    return {
        "kind": "delegation",
        "agent": delegation.agent,
        "task": delegation.task,
        "childRunId": delegation.child_run_id,
        "callId": delegation.call.call_id if delegation.call is not None else None,
        "status": delegation.status,
        "startedAt": delegation.started_at,
        "durationMs": delegation.duration_ms,
        "steps": run.step_count,
        "usage": usage_with_total(run.usage),
        "run": turn_view(run),
    }


def run_usages(turn: Turn) -> list[RunUsageView]:
    """The turn's own usage, then each delegated run's, depth first (an orchestration's
    usage counts only the orchestrator's own model calls: docs/protocol.md)."""
    out: list[RunUsageView] = [
        {
            "agent": turn.agent,
            "runId": turn.run_id,
            "depth": turn.depth,
            "usage": usage_with_total(turn.usage),
        }
    ]
    for delegation in turn.delegations:
        out.extend(run_usages(delegation.run))
    return out


def turn_view(turn: Turn) -> TurnView:
    """One turn as the panel draws it."""
    finished = turn.finished
    items = [view for view in (_item(i, finished) for i in turn.items) if view is not None]
    text = turn.text
    if text and not any(i["kind"] == "text" for i in items):
        items.append({"kind": "text", "text": text})  # a turn loaded from history
    shown = "".join(i["text"] for i in items if i["kind"] == "text")
    usages: list[RunUsageView] | None = None
    total: dict[str, Any] | None = None
    if turn.delegations:  # an orchestration: who spent what, and the sum
        usages = run_usages(turn)
        for row in usages:
            total = add_usage(total, row["usage"])
    error: ErrorView | None = None
    if turn.error_message is not None:
        error = {"message": turn.error_message, "code": turn.error_code, "step": turn.error_step}
    return {
        "kind": "turn",
        "runId": turn.run_id,
        "sessionId": turn.session_id,
        "userText": turn.user_text,
        "answer": None if shown == text else text,  # sent only when it differs from the items
        "items": items,
        "steps": turn.step_count,
        "status": turn.status,
        "usage": usage_with_total(turn.usage),
        "error": error,
        "fromHistory": turn.from_history,
        "citations": turn.citations,
        "startedAt": turn.started_at,
        "endedAt": turn.ended_at,
        "runMs": run_ms(turn),
        "agent": turn.agent,
        "depth": turn.depth,
        "runUsage": usages,
        "usageTotal": total,
        "context": turn.context_shown or turn.context,
        "answerJson": _answer_json(turn),
    }


def run_ms(turn: Turn) -> float | None:
    """The run's time, from the user's message to the end of the run, however short (a run
    started from Python against a fast server ends within ~50 ms); None while it runs, for
    a turn loaded from history (its times are the server's, not the run's) and for a clock
    that went backwards."""
    if turn.from_history:
        return None
    ms = ms_between(turn.started_at, turn.ended_at)
    return ms if ms is not None and ms >= 0 else None


def _answer_json(turn: Turn) -> Any:
    """A finished structured answer's JSON object or list (the panel's table), else None."""
    if turn.response_format is None or not turn.finished or not turn.text:
        return None
    try:
        value = answer_json(turn.text)
    except NotJson:
        return None
    return value if isinstance(value, (dict, list)) else None


def entry_positions(conversation: Conversation) -> list[tuple[str, int]]:
    """The panel's entries in order as (kind, index): turns by turn index, dividers by
    divider index, history notes by the index of the turn they introduce."""
    out: list[tuple[str, int]] = []
    dividers = conversation.dividers
    d = 0
    previous: Turn | None = None
    for turn in conversation.turns:
        while d < len(dividers) and dividers[d][0] <= turn.index:
            out.append(("divider", d))
            d += 1
            previous = None
        if turn.from_history and (previous is None or not previous.from_history):
            out.append(("history-note", turn.index))
        out.append(("turn", turn.index))
        previous = turn
    out.extend(("divider", k) for k in range(d, len(dividers)))
    return out


def entry_view(conversation: Conversation, position: tuple[str, int]) -> EntryView:
    """The view of one entry named by `entry_positions`."""
    kind, index = position
    if kind == "turn":
        return turn_view(conversation.turns[index])
    if kind == "divider":
        return {"kind": "divider", "at": conversation.dividers[index][1]}
    group = history_group(conversation, index)
    return {"kind": "history-note", "tools": _restored(group), "text": history_note(group)}


def history_group(conversation: Conversation, index: int) -> list[Turn]:
    """The turns loaded from history that run on from turn `index` in its session: the
    turns one history note introduces."""
    first = conversation.turns[index]
    group: list[Turn] = []
    for turn in conversation.turns[index:]:
        if not turn.from_history or turn.session_index != first.session_index:
            break
        group.append(turn)
    return group


def _restored(turns: list[Turn]) -> bool:
    """Whether any of these history turns came back with its tool calls."""
    return any(isinstance(i, ToolCall) for t in turns for i in t.items)


def history_note(turns: list[Turn]) -> str:
    """The note above turns loaded from session history, true of the turns it introduces:
    it says tool calls are missing only when none came back (servers that keep no run
    events). The panel, the static copy and the handouts all show this text."""
    if _restored(turns):
        return "Loaded from session history."
    return "Loaded from session history (tool calls are not stored there)."


def entries(conversation: Conversation) -> list[EntryView]:
    """Every entry of the conversation, as a snapshot holds them."""
    return [entry_view(conversation, p) for p in entry_positions(conversation)]
