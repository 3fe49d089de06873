"""How each canonical event changes a turn: one handler per event name (docs/protocol.md).

The text rule: deltas are provisional, a `chunk` replaces them, a non-null
`complete.content` replaces the chunk (`""` included: a hook redacted the answer) — except
that a failed run keeps the partial text it streamed. Failure is decided at the end of the
stream: an `error` fails the turn, but the `chunk` and `complete` that may follow still
apply, and a failed `complete` never wipes tool calls or steps already shown. A
`step_reset` keeps the text, clears that step's reasoning and unfinished tool calls, and
leaves a marker. Tools and approvals are in `powawidget.model.tools`. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from powawidget.model import delegations, tools
from powawidget.model.turns import (
    ReasoningBlock,
    Step,
    StepReset,
    TextSegment,
    Turn,
    _at,
    _brief,
    _int,
    _str,
    _text,
)
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.events import citations, raw_field


def _on_start(turn: Turn, event: CanonicalEvent) -> None:
    """The server names the run and its session (authoritative over the user_message's)."""
    turn._has_start = True
    for key in ("run_id", "session_id"):
        if isinstance(event.get(key), str):
            setattr(turn, key, event[key])
    candidates = citations(event, "citation_candidates")
    if candidates is not None:
        turn.citation_candidates = candidates


def _on_step_started(turn: Turn, event: CanonicalEvent) -> None:
    """A step of the agent loop begins (a step restarted after a reset keeps its marker)."""
    number = _int(event.get("step"))
    last = turn.steps[-1] if turn.steps else None
    if last is not None and number is not None and last.number == number:
        last.completed_at = None
        return
    step = Step(number=number, started_at=_at(event))
    is_last = raw_field(event, "is_last_step")
    step.is_last = is_last if isinstance(is_last, bool) else None
    turn.steps.append(step)
    turn.items.append(step)


def _on_step_completed(turn: Turn, event: CanonicalEvent) -> None:
    """A step ends (with its finish reason when the server sends one)."""
    number = _int(event.get("step"))
    step = next((s for s in reversed(turn.steps) if s.number == number), None)
    if step is None:
        step = Step(number=number)
        turn.steps.append(step)
        turn.items.append(step)
    step.completed_at = _at(event)
    reason = raw_field(event, "finish_reason")
    if isinstance(reason, str):
        step.finish_reason = reason
    tools.end_thinking(turn, _at(event))


def _segments(turn: Turn) -> list[TextSegment]:
    """The answer's text segments, in order."""
    return [i for i in turn.items if isinstance(i, TextSegment)]


def _append_text(turn: Turn, piece: str, event: CanonicalEvent) -> None:
    """Streamed text: to the segment being written, or a new one after a card or a step."""
    Turn.text.append(turn, piece)
    last = turn.items[-1] if turn.items else None
    if isinstance(last, TextSegment):
        TextSegment.text.append(last, piece)
    elif piece:
        tools.end_thinking(turn, _at(event))
        segment = TextSegment(step=tools.current_step(turn, event))
        segment.text = piece
        turn.items.append(segment)


def _replace_text(turn: Turn, text: str, event: CanonicalEvent) -> None:
    """The whole answer: keep the segments shown when they already say the same thing."""
    turn.text = text
    segments = _segments(turn)
    if not segments:
        if text:
            tools.end_thinking(turn, _at(event))
            segment = TextSegment(step=tools.current_step(turn, event))
            segment.text = text
            turn.items.append(segment)
        return
    shown = [s.text for s in segments]
    if "".join(shown) == text or shown[-1] == text:
        return  # the same words, or the final step's words after earlier steps' prose
    before = "".join(shown[:-1])
    if before and text.startswith(before):
        segments[-1].text = text[len(before) :]
        return
    for segment in segments[:-1]:
        segment.text = ""
    segments[-1].text = text


def _on_text(turn: Turn, event: CanonicalEvent) -> None:
    """Assistant text: deltas append, a whole text replaces."""
    text = event.get("text")
    if text is None:
        return
    if not isinstance(text, str):
        turn.warnings.append(f"{event.get('event')} text is not a string: {_brief(text)}")
        text = _text(text)
    if (event.get("text_mode") or "append") == "replace":
        _replace_text(turn, text, event)
    else:
        _append_text(turn, text, event)
    if text and turn.first_token_at is None:
        turn.first_token_at = _at(event)


def _on_reasoning(turn: Turn, event: CanonicalEvent) -> None:
    """Reasoning: deltas append to the step's open block; a whole `reasoning` replaces the
    step's block (on the tool-less path it comes after the answer: it goes before it — that
    answer's text has no step, so a stepless segment counts as the reasoning's own). A whole
    reasoning of step N with no block of that step replaces the latest block whose deltas
    named no step: it is the same reasoning, and it takes the step."""
    if event.get("text") is None:
        return
    text = _text(event.get("text"))
    step = _int(event.get("step"))
    default = "replace" if event.get("event") == "reasoning" else "append"
    replace = (event.get("text_mode") or default) == "replace"
    last = turn.items[-1] if turn.items else None
    block = (
        last if isinstance(last, ReasoningBlock) and last.step == step and not last.done else None
    )
    if block is None and replace:
        blocks = [i for i in turn.items if isinstance(i, ReasoningBlock)]
        if step is None and blocks:  # the whole reasoning of the run: one block holds it
            block = blocks[0]
            turn.items = [i for i in turn.items if i is block or i not in blocks[1:]]
        else:
            block = next((b for b in reversed(blocks) if b.step == step), None)
            if block is None and step is not None:  # its deltas named no step: the same
                block = next((b for b in reversed(blocks) if b.step is None), None)
                if block is not None:
                    block.step = step
    if block is None:
        block = ReasoningBlock(step=step, started_at=_at(event))
        first_text = next(
            (
                n
                for n, i in enumerate(turn.items)
                if isinstance(i, TextSegment) and (step is None or i.step in (step, None))
            ),
            None,
        )
        if replace and first_text is not None:
            turn.items.insert(first_text, block)
        else:
            turn.items.append(block)
    if replace:
        block.text = text
        block.done = True
        block.ended_at = block.ended_at or _at(event)
    else:
        ReasoningBlock.text.append(block, text)
    if text and turn.first_token_at is None:
        turn.first_token_at = _at(event)


def _on_step_reset(turn: Turn, event: CanonicalEvent) -> None:
    """The server restarts a step: its reasoning and unfinished tool calls go, text stays."""
    step = _int(event.get("step"))
    if step is None and turn.steps:
        step = turn.steps[-1].number
    gated = {id(a._tool_call) for a in turn.approvals}
    dropped = {
        id(c)
        for c in turn.tool_calls
        if c.step == step and not c._has_result and id(c) not in gated
    }
    turn.tool_calls = [c for c in turn.tool_calls if id(c) not in dropped]
    turn.items = [
        i
        for i in turn.items
        if id(i) not in dropped and not (isinstance(i, ReasoningBlock) and i.step == step)
    ]
    turn.items.append(StepReset(step=step, reason=_str(event.get("text")), at=_at(event)))


def _fail(turn: Turn, event: CanonicalEvent, default_message: str) -> None:
    """Mark the turn failed (a stopped turn stays stopped); the first error's text is kept."""
    if turn.outcome != "stopped":
        turn.outcome = "failed"
    if turn.error_message is None:
        turn.error_message = _str(event.get("error_message")) or default_message
    if turn.error_code is None:
        turn.error_code = _str(event.get("error_code"))
    if turn.error_step is None:
        turn.error_step = _int(event.get("step"))
    turn.ended_at = _at(event) or turn.ended_at
    _settle(turn)


def _settle(turn: Turn) -> None:
    """The run is over: open calls, reasoning and steps close."""
    tools.close_open_calls(turn, turn.outcome or "completed")
    tools.end_thinking(turn, turn.ended_at)


def _on_complete(turn: Turn, event: CanonicalEvent) -> None:
    """The run's end: authoritative text, usage, citations, status; full tool results."""
    failed = event.get("status") == "failed"
    text = event.get("text")
    if isinstance(text, str) and (text or not failed):
        _replace_text(turn, text, event)
    steps = _int(raw_field(event, "steps"))
    if steps is not None:
        turn.steps_reported = steps
    summary = raw_field(event, "tool_calls")
    if isinstance(summary, list):
        tools.merge_summary(turn, summary, _at(event))
    cited = citations(event)
    if cited:
        turn.citations = cited
    if failed:
        _fail(turn, event, "the run failed")
        return
    if turn.outcome is None:
        turn.outcome = "completed"
    turn.ended_at = _at(event)
    _settle(turn)


def _on_run_complete(turn: Turn, event: CanonicalEvent) -> None:
    """`on_run_complete` (agents with hooks): the step count, before the terminal chunk."""
    steps = _int(raw_field(event, "steps"))
    if steps is not None:
        turn.steps_reported = max(steps, turn.steps_reported or 0)


def _on_error(turn: Turn, event: CanonicalEvent) -> None:
    """An error event from the server fails the run (its chunk and complete may follow)."""
    _fail(turn, event, "the run failed")


def _on_client_error(turn: Turn, event: CanonicalEvent) -> None:
    """A client-side failure (HTTP, connection, idle timeout) fails the run."""
    _fail(turn, event, "the connection failed")


def _on_stopped(turn: Turn, event: CanonicalEvent) -> None:
    """The user stopped the run; a finished run keeps its outcome."""
    if turn.finished:
        return
    turn.outcome = "stopped"
    turn.ended_at = _at(event)
    _settle(turn)


def _on_malformed(turn: Turn, event: CanonicalEvent) -> None:
    """A frame that was not a JSON object: kept, and noted as a warning."""
    turn.warnings.append(f"malformed frame at seq {event.get('seq')}: {_brief(event.get('raw'))}")


HANDLERS: dict[str, Callable[[Turn, CanonicalEvent], None]] = {
    "start": _on_start,
    "step_started": _on_step_started,
    "step_completed": _on_step_completed,
    "step_reset": _on_step_reset,
    "chunk": _on_text,
    "content_delta": _on_text,
    "reasoning_delta": _on_reasoning,
    "reasoning": _on_reasoning,
    "tool_call": tools.on_tool_call,
    "tool_result": tools.on_tool_result,
    "approval_requested": tools.on_approval_requested,
    "approval_resolved": tools.on_approval_resolved,
    "hook_result": tools.on_hook_result,
    "on_run_complete": _on_run_complete,
    "complete": _on_complete,
    "error": _on_error,
    "client_error": _on_client_error,
    "stopped": _on_stopped,
    "malformed": _on_malformed,
    "orchestration_started": delegations.on_orchestration_started,
    "delegation_started": delegations.on_delegation_started,
    "delegation_completed": delegations.on_delegation_completed,
}
