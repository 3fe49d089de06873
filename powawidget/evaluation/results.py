"""Result rows: one per prompt, read off the run's turn as the run's own fold left it."""

from __future__ import annotations

from typing import Any

from powawidget.evaluation.columns import PENDING, RUN_COLUMNS
from powawidget.evaluation.prompts import Prompt
from powawidget.model.turns import Turn
from powawidget.outputs import rows


def pending_row(prompt: Prompt, status: str = PENDING, **fields: Any) -> dict[str, Any]:
    """The row of a prompt with no outcome yet (pending, running, unfinished)."""
    row: dict[str, Any] = dict.fromkeys(RUN_COLUMNS)
    row.update(prompt=prompt.prompt, repeat=prompt.repeat, status=status, tool_calls=0)
    row.update(fields)
    return row


def run_row(prompt: Prompt, turn: Turn | None, status: str, error: str | None) -> dict[str, Any]:
    """The row of a finished run: answer, ids, timing, tokens and tool calls from its turn
    (folded once, as the run streamed: no second fold here).

    Timing and tokens are `Transcript.runs`' (`outputs.rows.run_row`), so
    `time_to_first_token_ms` is counted from the user's message to the first answer text.
    """
    run: dict[str, Any] = rows.run_row(turn) if turn is not None else {}
    return pending_row(
        prompt,
        status=status,
        answer=run.get("answer") or "",
        run_id=run.get("run_id"),
        session_id=run.get("session_id"),
        error=error,
        time_to_first_token_ms=run.get("time_to_first_token_ms"),
        duration_ms=run.get("duration_ms"),
        tokens=run.get("total_tokens"),
        tool_calls=run.get("tool_calls") or 0,
        tool_names=[call.tool_name for call in turn.tool_calls] if turn is not None else [],
    )


def with_carried(row: dict[str, Any], prompt: Prompt) -> dict[str, Any]:
    """A result row followed by the prompt's carried columns."""
    return {**row, **prompt.carried}
