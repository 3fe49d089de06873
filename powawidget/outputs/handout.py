"""What both handouts (`export`: Markdown and HTML) say about a conversation, in words.

The conversation of whatever was passed, a tool call's and a delegation's one-line
summaries, durations, token usage, approvals' verdicts, the order tool calls and approvals
read in, the history note before loaded turns and the context a message sent. Each
format's rendering lives in `export_markdown` and `export_html`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from powawidget.model.conversation import Approval, Conversation, ToolCall, Turn
from powawidget.model.turns import Delegation
from powawidget.model.view import history_group, history_note
from powawidget.wire.canonical import CanonicalEvent

if TYPE_CHECKING:
    from powawidget.outputs.transcript import Transcript


#: Tool results longer than this are cut in handouts (the transcript keeps them whole).
MAX_RESULT_CHARS = 20_000

_STATE_LABEL = {
    "pending": "waiting for approval",
    "running": "running",
    "done": "done",
    "denied": "not run",
}
STATUS_LABEL = {
    "completed": "completed",
    "failed": "failed",
    "stopped": "stopped by the user",
    "streaming": "unfinished",
    "waiting_approval": "waiting for approval",
}


def conversation_of(source: Transcript | Conversation | Iterable[CanonicalEvent]) -> Conversation:
    """The conversation of a Transcript, a Conversation, or a list of canonical events."""
    if isinstance(source, Conversation):
        return source
    inner = getattr(source, "conversation", None)
    if isinstance(inner, Conversation):
        return inner
    return Conversation(source)


def pretty(value: Any) -> str:
    """Arguments or a result for reading: JSON pretty-printed, other text as it is."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                value = json.loads(stripped)
            except ValueError:
                return value
        else:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def cut(text: str, limit: int) -> str:
    """Text cut to `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit:,} more characters)"


def duration(ms: float | None) -> str:
    """A duration for people: 12 ms, 1.25 s."""
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def usage_line(usage: dict | None) -> str:
    """'12 prompt · 30 completion · 42 total tokens', or '' without usage."""
    if not isinstance(usage, dict):
        return ""
    parts = [
        f"{usage[key]:,} {label}"
        for key, label in (
            ("prompt_tokens", "prompt"),
            ("completion_tokens", "completion"),
            ("total_tokens", "total"),
        )
        if isinstance(usage.get(key), int)
    ]
    return " · ".join(parts) + " tokens" if parts else ""


def count_turns(conv: Conversation) -> str:
    """'1 turn', '3 turns'."""
    return f"{len(conv.turns)} turn" + ("" if len(conv.turns) == 1 else "s")


def tool_summary(call: Any) -> str:
    """'done · 12 ms' (the tool's own time), '… · waited 36 s for approval', or
    'error: …' for a tool call."""
    label = _STATE_LABEL.get(call.state) or (f"error: {call.error}" if call.error else "error")
    wait = call.approval_wait_ms
    waited = f"waited {duration(wait)} for approval" if wait is not None else ""
    return " · ".join(part for part in (label, duration(call.duration_ms), waited) if part)


def approval_verdict(approval: Approval, waiting: str) -> str:
    """How an approval ended, in words."""
    if approval.outcome == "timed_out":
        return "timed out"
    return {True: "approved", False: "denied", None: waiting}[approval.approved]


def in_order(turn: Turn) -> list[tuple[ToolCall | None, Approval | None]]:
    """The turn's tool calls, each followed by the approval that gated it (time order:
    asked, then approved and run, or denied); an approval without a call comes last."""
    out: list[tuple[ToolCall | None, Approval | None]] = []
    for call in turn.tool_calls:
        out.append((call, None))
        if call.approval is not None:
            out.append((None, call.approval))
    gated = {id(call.approval) for call in turn.tool_calls}
    out += [(None, a) for a in turn.approvals if id(a) not in gated]
    return out


def turn_history_note(conv: Conversation, turn: Turn) -> str:
    """The history note that introduces `turn` (the first of a run of turns loaded from
    session history, as the panel places it), else ""."""
    if not turn.from_history:
        return ""
    previous = conv.turns[turn.index - 1] if turn.index else None
    if (
        previous is not None
        and previous.from_history
        and previous.session_index == turn.session_index
    ):
        return ""
    return history_note(history_group(conv, turn.index))


def context_summary(turn: Turn) -> str | None:
    """One line naming what the turn's message sent as context (from its records: kind,
    name and size; the content is never in a transcript), or None when it sent none."""
    parts = []
    for record in turn.context or []:
        if not isinstance(record, dict):
            continue
        facts = []
        if isinstance(record.get("rows"), int) and isinstance(record.get("columns"), int):
            facts.append(f"{record['rows']:,} rows × {record['columns']:,} columns")
        if isinstance(record.get("width"), int) and isinstance(record.get("height"), int):
            facts.append(f"{record['width']}×{record['height']} px")
        if isinstance(record.get("size"), int):
            facts.append(f"{record['size']:,} bytes")
        label = f"{record.get('kind') or 'item'} {record.get('name') or ''}".strip()
        parts.append(f"{label} ({', '.join(facts)})" if facts else label)
    return "Context sent: " + "; ".join(parts) if parts else None


def delegation_of(run: Turn, call: ToolCall) -> Delegation | None:
    """The delegation an orchestrator's `delegate_to_…` call answers, if any."""
    return next((d for d in run.delegations if d.call is call), None)


def delegation_summary(delegation: Delegation) -> str:
    """'completed · 2 steps · 301 tokens · 660 ms' for a delegation's line."""
    child = delegation.run
    tokens = usage_line(child.usage)
    took = duration(delegation.duration_ms)
    steps = f"{child.step_count} step" + ("" if child.step_count == 1 else "s")
    return " · ".join(part for part in (delegation.status, steps, tokens, took) if part)
