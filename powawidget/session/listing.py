"""An agent's sessions as rows: id, first message, last activity, runs — newest first.

Servers name the fields differently (the local server: `last_activity_at`, `first_message`;
the open-source backend: `last_run_at`, `updated_at`, no first message), so each column
takes the first field present.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from powawidget.model.turns import parse_time

__all__ = ["ORCHESTRATION_COLUMNS", "SESSION_COLUMNS", "session_rows"]

SESSION_COLUMNS = ("session_id", "first_message", "last_activity", "runs")
ORCHESTRATION_COLUMNS = ("id", "name", "strategy", "agents", "description")


def session_rows(sessions: Iterable[Any]) -> list[dict[str, Any]]:
    """One row (`SESSION_COLUMNS`) per session, the most recently active first (sessions
    without a time last); the widget shows them as a `Table`."""
    rows = [_row(s) for s in sessions if isinstance(s, dict)]
    rows.sort(key=_recency, reverse=True)
    return rows


def _row(session: dict) -> dict[str, Any]:
    """The table's columns from one listing entry."""
    return {
        "session_id": _first(session, "session_id", "id"),
        "first_message": _first(session, "first_message", "title", "preview"),
        "last_activity": _first(
            session, "last_activity_at", "last_run_at", "updated_at", "created_at"
        ),
        "runs": _first(session, "run_count", "runs", "total_runs"),
    }


def _first(entry: dict, *keys: str) -> Any:
    """The first of `keys` the entry has a value for, else None."""
    return next((entry[k] for k in keys if entry.get(k) is not None), None)


def _recency(row: dict) -> float:
    """Seconds since the epoch of the row's last activity (sessions without one sort last)."""
    moment = parse_time(row["last_activity"])
    return moment.timestamp() if moment is not None else float("-inf")
