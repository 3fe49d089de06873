"""Result rows: one per prompt, built from a run's canonical events by the transcript fold."""

from __future__ import annotations

from typing import Any

from powawidget.evaluation.columns import PENDING, RUN_COLUMNS
from powawidget.evaluation.prompts import Prompt
from powawidget.outputs.transcript import Transcript


def pending_row(prompt: Prompt, status: str = PENDING, **fields: Any) -> dict[str, Any]:
    """The row of a prompt with no outcome yet (pending, running, unfinished)."""
    row: dict[str, Any] = dict.fromkeys(RUN_COLUMNS)
    row.update(prompt=prompt.prompt, status=status, tool_calls=0)
    row.update(fields)
    return row


def run_row(
    prompt: Prompt, events: list[dict[str, Any]], status: str, error: str | None
) -> dict[str, Any]:
    """The row of a finished run: answer, ids, timing, tokens and tool calls from its events.

    Timing and tokens come from `Transcript.runs` (the same fold as the chat panel), so
    `time_to_first_token_ms` is counted from the user's message to the first answer text.
    """
    runs = Transcript(events).runs
    turn = runs[-1] if runs else {}
    return pending_row(
        prompt,
        status=status,
        answer=turn.get("answer") or "",
        run_id=turn.get("run_id"),
        session_id=turn.get("session_id"),
        error=error,
        time_to_first_token_ms=turn.get("time_to_first_token_ms"),
        duration_ms=turn.get("duration_ms"),
        tokens=turn.get("total_tokens"),
        tool_calls=turn.get("tool_calls") or 0,
    )


def with_carried(row: dict[str, Any], prompt: Prompt) -> dict[str, Any]:
    """A result row followed by the prompt's carried columns."""
    return {**row, **prompt.carried}
