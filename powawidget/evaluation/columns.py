"""The columns of `Evaluation.runs` and the statuses a prompt goes through."""

from __future__ import annotations

RUN_COLUMNS: tuple[str, ...] = (
    "prompt",
    "repeat",
    "answer",
    "status",
    "run_id",
    "session_id",
    "error",
    "time_to_first_token_ms",
    "duration_ms",
    "tokens",
    "tool_calls",
    "tool_names",
)
"""One row per (prompt, repeat), then the prompt's carried columns (id, expected answer,
tags...), then the scorers' columns with `passed`, `score` and `errors`."""

PENDING = "pending"  # not sent (yet): a stop, a budget or a 402 keeps it unsent
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
STOPPED = "stopped"  # sent, then stopped by the user before it ended
UNFINISHED = "unfinished"  # started in an earlier evaluation that died before it ended

DONE_STATUSES = frozenset({COMPLETED, FAILED})
"""Statuses a resumed evaluation skips; STOPPED and UNFINISHED are re-sent only with
`retry_unfinished=True` (a run bills and acts, so it is never repeated by accident)."""

SCORED_STATUSES = frozenset({COMPLETED, FAILED, STOPPED})
"""Statuses whose runs are scored (they have an outcome, even an empty answer)."""

STORED_COLUMNS: tuple[str, ...] = ("key", "events")
"""Extra columns of a saved evaluation (Parquet): the prompt's key and its events as JSON."""

RESERVED = frozenset(RUN_COLUMNS) | frozenset(STORED_COLUMNS) | {"passed", "score", "errors"}
"""Names a prompt's carried columns may not use."""
