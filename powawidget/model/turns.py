"""The shapes of a conversation: turns, steps, tool calls and approvals (data, no folding).

`Conversation` (powawidget.model.conversation) builds these from canonical events; transcripts,
handouts and the widget read them. Also the small readers of event fields they share:
ISO timestamps, durations between them, token counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from powawidget.model.status import turn_status
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.values import measure

ToolState = Literal["pending", "running", "done", "error", "denied"]
TurnStatus = Literal["streaming", "completed", "failed", "stopped", "waiting_approval"]
Outcome = Literal["completed", "failed", "stopped"]
ApprovalOutcome = Literal["approved", "denied", "timed_out"]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or offset; naive means UTC) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def ms_between(start: Any, end: Any) -> float | None:
    """Milliseconds from one ISO timestamp to another (None when either is missing)."""
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() * 1000.0, 3)


def usage_tokens(usage: Any) -> tuple[int | None, int | None, int | None]:
    """(prompt, completion, total) token counts from a usage dict; total derived if absent."""
    if not isinstance(usage, dict):
        return None, None, None
    prompt, completion, total = (
        _int(usage.get(key)) for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    )
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return prompt, completion, total


def usage_with_total(usage: Any) -> dict[str, Any] | None:
    """A usage dict with `total_tokens` filled in by `usage_tokens`' rule when the server
    left it out (the one place that rule lives: the panel and the sums read the field)."""
    if not isinstance(usage, dict):
        return None
    total = usage_tokens(usage)[2]
    if total is None or usage.get("total_tokens") == total:
        return usage
    return {**usage, "total_tokens": total}


def add_usage(total: dict[str, Any] | None, usage: Any) -> dict[str, Any] | None:
    """Usage summed key by key (measures only; `total_tokens` derived first where absent)."""
    usage = usage_with_total(usage)
    if usage is None:
        return total
    out = dict(total or {})
    for key, value in usage.items():
        kept = _int(value)
        if kept is not None:
            out[key] = out.get(key, 0) + kept
    return out


def _int(value: Any) -> int | None:
    """A measure as an int (docs/protocol.md, "Odd values"): a finite number from 0 to
    2**53 - 1, else None (bools, text, NaN, huge or negative numbers)."""
    kept = measure(value)
    return None if kept is None else int(kept)


def _str(value: Any) -> str | None:
    """A string field, or None when absent or not a string."""
    return value if isinstance(value, str) else None


def _at(event: CanonicalEvent) -> str | None:
    """When the event was received (ISO string), or None."""
    return _str(event.get("received_at"))


def _text(value: Any) -> str:
    """A text field as a string (non-strings JSON-dumped, None as empty)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _brief(value: Any, limit: int = 120) -> str:
    """A short printable excerpt of a value for warnings and reprs."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Joined:
    """A text attribute built from appended pieces and joined only when read, so a run of
    10,000 deltas costs O(n), not O(n²)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_{name}_parts"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        parts = obj.__dict__.setdefault(self.key, [])
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def __set__(self, obj: Any, value: str) -> None:
        obj.__dict__[self.key] = [value] if value else []

    def append(self, obj: Any, piece: str) -> None:
        """Add text at the end without joining."""
        if piece:
            obj.__dict__.setdefault(self.key, []).append(piece)


@dataclass
class Step:
    """One step of the agent loop (a model call and the tools it asked for)."""

    number: int | None
    started_at: str | None = None
    completed_at: str | None = None
    finish_reason: str | None = None
    is_last: bool | None = None


@dataclass
class ToolCall:
    """A tool call and its result; `state` goes pending → running → done | error | denied.

    `pending` means it waits for the user's approval (`approval`). `duration_ms` is the
    tool's own time and `approval_wait_ms` how long it waited for a person: the server's
    duration (else the time between the call and its result being received) runs from the
    call to the result and so holds both (docs/protocol.md, Approvals). A denied call never
    ran: no duration of its own.
    """

    call_id: str | None
    tool_name: str | None
    arguments: Any = None
    result: str | None = None
    state: ToolState = "running"
    duration_ms: float | None = None
    step: int | None = None
    called_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    preview: bool = False  #: `result` is the stream's short preview, not the full result
    approval_wait_ms: float | None = None
    approval: Approval | None = field(default=None, repr=False, compare=False)
    _reported_ms: float | None = field(default=None, repr=False, compare=False)
    _has_result: bool = field(default=False, repr=False, compare=False)
    _summarised: bool = field(default=False, repr=False, compare=False)
    _from_approval: bool = field(default=False, repr=False, compare=False)


@dataclass
class Approval:
    """A tool run the agent asked the user to approve; `outcome` is None until decided.

    The server's `hook_result` decides the outcome (docs/protocol.md, Approvals); the
    client's own `approval_resolved` only fills it in when the stream has not yet.
    `wait_ms` is how long it waited for its answer: the hook's own `latency_ms`, else
    from the request to the decision being received.
    """

    tool_name: str | None
    arguments: Any
    message: str | None
    requested_at: str | None
    outcome: ApprovalOutcome | None = None
    reason: str | None = None
    resolved_at: str | None = None
    timeout_s: float | None = None
    wait_ms: float | None = None
    _tool_call: ToolCall | None = field(default=None, repr=False, compare=False)
    _decided_by_client: bool = field(default=False, repr=False, compare=False)

    @property
    def approved(self) -> bool | None:
        """True / False once decided (a timeout is a refusal), None while it waits."""
        return None if self.outcome is None else self.outcome == "approved"

    @property
    def call_id(self) -> str | None:
        """The call id of the tool call it gates (the server's request carries none)."""
        return self._tool_call.call_id if self._tool_call is not None else None

    @property
    def waiting(self) -> bool:
        """True while the run waits on this approval: undecided and its call still pending."""
        call = self._tool_call
        return self.outcome is None and (call is None or call.state == "pending")


@dataclass(eq=False)
class TextSegment:
    """Answer text shown between tool cards (the answer itself is `Turn.text`)."""

    step: int | None = None
    text = _Joined()  #: the segment's words so far (str)


@dataclass(eq=False)
class ReasoningBlock:
    """The model's thinking in one step; a whole `reasoning` event replaces its deltas."""

    step: int | None = None
    started_at: str | None = None
    ended_at: str | None = None
    done: bool = False
    text = _Joined()  #: the thinking so far (str)


@dataclass(eq=False)
class StepReset:
    """The server restarted a step (rate limit, model error, ...): a marker with its reason."""

    step: int | None
    reason: str | None
    at: str | None = None


@dataclass(eq=False)
class Delegation:
    """An orchestrator handed a task to one of its agents: the card of a child run.

    `run` is the sub-agent's own run (a `Turn` with `depth` one more than its parent's),
    folded from the events between `delegation_started` and `delegation_completed`.
    `call` is the orchestrator's `delegate_to_<agent>` tool call the delegation answers
    (its result is the sub-agent's answer, or its error text).
    """

    agent: str | None
    task: str | None
    child_run_id: str | None
    run: Turn
    started_at: str | None = None
    ended_at: str | None = None
    call: ToolCall | None = field(default=None, repr=False)
    server_times: list[str | None] = field(default_factory=lambda: [None, None], repr=False)

    @property
    def duration_ms(self) -> float | None:
        """From `delegation_started` to `delegation_completed`: by the server's `ts` when both
        carry one (a replay keeps it), else by when they were received."""
        began, ended = self.server_times
        if began is not None and ended is not None:
            return ms_between(began, ended)
        return ms_between(self.started_at, self.ended_at)

    @property
    def open(self) -> bool:
        """True until `delegation_completed` (or the end of the orchestration) closed it."""
        return self.run.outcome is None

    @property
    def status(self) -> str:
        """running, completed, failed or stopped: the child run's own status."""
        return "running" if self.run.outcome is None else self.run.outcome


Item = Step | TextSegment | ReasoningBlock | ToolCall | Approval | StepReset | Delegation
"""What a turn shows, in the order it arrived (see `Turn.items`)."""


@dataclass(eq=False, repr=False)
class Turn:
    """One user message and everything the agent did to answer it (one run).

    `index` is the turn's position in `Conversation.turns` (from 0); `session_index`
    counts `new_session` dividers before it. `from_history` marks turns loaded from
    /api/sessions/{id}/messages, which carry no tool calls. `text` is the authoritative
    answer so far; `events` holds every event folded into the turn, unknown ones included.
    `items` is what the turn shows, in arrival order (steps, text segments, reasoning, tool
    calls, approvals, step resets, delegations): the panel draws exactly these. An
    orchestration's turn holds its sub-agents' runs as `delegations` (docs/protocol.md,
    Orchestrations); `text` is the orchestrator's own answer and `server_text` the glued
    string the server sent where it differs. `status` is derived
    (`powawidget.model.status.turn_status`): `outcome` once the run ended, else live.
    """

    index: int
    run_id: str | None = None
    session_id: str | None = None
    user_text: str | None = None
    steps: list[Step] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    outcome: Outcome | None = None
    error_message: str | None = None
    error_code: str | None = None
    error_step: int | None = None
    started_at: str | None = None
    first_token_at: str | None = None
    ended_at: str | None = None
    session_index: int = 0
    from_history: bool = False
    steps_reported: int | None = None
    warnings: list[str] = field(default_factory=list)
    events: list[CanonicalEvent] = field(default_factory=list, repr=False)
    items: list[Item] = field(default_factory=list, repr=False)
    citations: list[dict[str, Any]] | None = None
    citation_candidates: list[dict[str, Any]] | None = None
    agent: str | None = None  #: who answered: the sub-agent's name on a child run
    parent_run_id: str | None = None  #: the orchestration run a child run belongs to
    depth: int = 0  #: 0 for a turn, 1 for a delegation's run, 2 for its own delegations…
    delegations: list[Delegation] = field(default_factory=list, repr=False)
    orchestration: dict[str, Any] | None = None  #: `orchestration_started`'s name and strategy
    server_text: str | None = None  #: the server's answer when it differs from `text`
    #: what the message sent as context (records, no content)
    context: list[dict[str, Any]] | None = None
    response_format: dict[str, Any] | None = None  #: the structured answer the message asked for
    #: What the context chip shows (the text or image sent): set by the session that sent
    #: it, never logged (the server keeps no context, and the transcript keeps no image).
    context_shown: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    _has_start: bool = field(default=False, repr=False, compare=False)

    text = _Joined()  #: the answer so far (str)

    @property
    def status(self) -> TurnStatus:
        """streaming, waiting_approval, completed, failed or stopped (decided in one place)."""
        return turn_status(self)

    @property
    def reasoning(self) -> str:
        """All the turn's reasoning, its steps' blocks joined by blank lines."""
        blocks = [b.text for b in self.items if isinstance(b, ReasoningBlock) and b.text]
        return "\n\n".join(blocks)

    def __repr__(self) -> str:
        """A one-line summary: index, status, ids, the start of the texts, counts."""
        return (
            f"Turn(index={self.index}, status={self.status!r}, run_id={self.run_id!r}, "
            f"user_text={_brief(self.user_text, 40)!r}, text={_brief(self.text, 60)!r}, "
            f"tool_calls={len(self.tool_calls)}, warnings={len(self.warnings)})"
        )

    @property
    def finished(self) -> bool:
        """Whether the run is over (completed, failed or stopped)."""
        return self.outcome is not None

    @property
    def step_count(self) -> int:
        """Steps seen in the stream, or the count the server reported if larger."""
        return max(len(self.steps), self.steps_reported or 0)
