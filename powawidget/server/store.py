"""SQLite storage for the local server: sessions, runs and messages, surviving restarts.

One connection guarded by a lock, WAL journal: concurrent runs write safely, and a second
server process on the same file waits (busy timeout) instead of failing. Methods are
synchronous and short; the transport calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    first_message TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    content TEXT,
    usage TEXT,
    tool_calls TEXT NOT NULL DEFAULT '[]',
    events TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    reasoning_steps TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    completed_at TEXT,
    duration_ms REAL
);
CREATE INDEX IF NOT EXISTS runs_by_agent ON runs (agent_id, created_at);
CREATE INDEX IF NOT EXISTS runs_by_session ON runs (session_id, created_at);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    timestamp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages (session_id, id);
"""

UNFINISHED = ("running", "waiting_approval")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with milliseconds, like Powabase's timestamps."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _loads(text: str | None) -> Any:
    """JSON column → value (None stays None)."""
    return None if text is None else json.loads(text)


def _dumps(value: Any) -> str:
    """Value → compact JSON column text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Store:
    """Sessions, runs and messages in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, timeout=30.0, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(runs)")}
            if "reasoning_steps" not in columns:  # a data file from an older version
                self._db.execute(
                    "ALTER TABLE runs ADD COLUMN reasoning_steps TEXT NOT NULL DEFAULT '[]'"
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One locked write transaction (committed on success, rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read query, under the lock."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def fail_unfinished_runs(self) -> int:
        """Mark runs left running by a server that stopped as failed; returns how many."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET status='failed', error=?, completed_at=? WHERE status IN (?, ?)",
                ("the server stopped during the run", utc_now(), *UNFINISHED),
            )
            return cursor.rowcount

    # Sessions and runs -------------------------------------------------------------------

    def begin_run(
        self, *, run_id: str, agent_id: str, session_id: str, message: str, options: dict
    ) -> list[dict]:
        """Record a new running run (creating its session); returns the session's history."""
        now = utc_now()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sessions (session_id, agent_id, created_at, last_activity_at, "
                "first_message) VALUES (?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET "
                "last_activity_at=excluded.last_activity_at",
                (session_id, agent_id, now, now, message),
            )
            db.execute(
                "INSERT INTO runs (run_id, agent_id, session_id, status, message, options, "
                "created_at) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (run_id, agent_id, session_id, message, _dumps(options), now),
            )
            rows = db.execute(
                "SELECT role, content FROM messages WHERE session_id=? ORDER BY id",
                (session_id,),
            ).fetchall()
        return [{"role": row["role"], "content": row["content"]} for row in rows]

    def set_status(self, run_id: str, status: str) -> None:
        """Change a run's status while it runs (e.g. waiting_approval)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status=? WHERE run_id=? AND status IN (?, ?)",
                (status, run_id, *UNFINISHED),
            )

    def finish_run(
        self,
        *,
        run_id: str,
        status: str,
        content: str | None,
        usage: dict | None,
        tool_calls: list,
        events: list,
        error: str | None,
        duration_ms: float,
        reasoning_steps: list | None = None,
    ) -> None:
        """Store a finished run; a completed run adds the user and assistant messages."""
        now = utc_now()
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status=?, content=?, usage=?, tool_calls=?, events=?, error=?, "
                "reasoning_steps=?, completed_at=?, duration_ms=? WHERE run_id=?",
                (
                    status,
                    content,
                    None if usage is None else _dumps(usage),
                    _dumps(tool_calls),
                    _dumps(events),
                    error,
                    _dumps(reasoning_steps or []),
                    now,
                    duration_ms,
                    run_id,
                ),
            )
            row = db.execute(
                "SELECT session_id, message, created_at FROM runs WHERE run_id=?", (run_id,)
            ).fetchone()
            if row is None:
                return
            db.execute(
                "UPDATE sessions SET last_activity_at=? WHERE session_id=?",
                (now, row["session_id"]),
            )
            if status == "completed":
                db.executemany(
                    "INSERT INTO messages (session_id, run_id, role, content, timestamp) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (row["session_id"], run_id, "user", row["message"], row["created_at"]),
                        (row["session_id"], run_id, "assistant", content or "", now),
                    ],
                )

    def get_run(self, run_id: str) -> dict | None:
        """The stored run (its raw frames under `events`), or None."""
        rows = self._query("SELECT * FROM runs WHERE run_id=?", (run_id,))
        return _run(rows[0]) if rows else None

    def session_runs(self, session_id: str) -> list[dict]:
        """Every run of the session (failed and running too), oldest first."""
        rows = self._query(
            "SELECT * FROM runs WHERE session_id=? ORDER BY created_at, rowid", (session_id,)
        )
        return [_run(row) for row in rows]

    def create_session(self, session_id: str, agent_id: str, messages: list[dict]) -> dict:
        """A new session holding `messages` ({role, content}) as its earlier turns."""
        now = utc_now()
        first = next((m["content"] for m in messages if m["role"] == "user"), None)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sessions (session_id, agent_id, created_at, last_activity_at, "
                "first_message) VALUES (?, ?, ?, ?, ?)",
                (session_id, agent_id, now, now, first),
            )
            db.executemany(
                "INSERT INTO messages (session_id, run_id, role, content, timestamp) "
                "VALUES (?, '', ?, ?, ?)",
                [(session_id, m["role"], m["content"], now) for m in messages],
            )
        return {
            "session_id": session_id,
            "agent_id": agent_id,
            "run_count": 0,
            "message_count": len(messages),
            "created_at": now,
            "last_activity_at": now,
            "first_message": first,
        }

    def session_agent(self, session_id: str) -> str | None:
        """The agent a session belongs to, or None when there is no such session."""
        rows = self._query("SELECT agent_id FROM sessions WHERE session_id=?", (session_id,))
        return rows[0]["agent_id"] if rows else None

    def delete_session(self, session_id: str, agent_id: str) -> bool:
        """Forget a session of `agent_id` with its runs and messages; False if there is none."""
        with self._transaction() as db:
            gone = db.execute(
                "DELETE FROM sessions WHERE session_id=? AND agent_id=?", (session_id, agent_id)
            ).rowcount
            if gone:
                db.execute("DELETE FROM runs WHERE session_id=?", (session_id,))
                db.execute("DELETE FROM messages WHERE session_id=?", (session_id,))
        return bool(gone)

    def session_exists(self, session_id: str) -> bool:
        """Whether the session was ever used."""
        return bool(self._query("SELECT 1 FROM sessions WHERE session_id=?", (session_id,)))

    def session_messages(self, session_id: str) -> list[dict]:
        """The session's messages from completed runs, oldest first."""
        rows = self._query(
            "SELECT role, content, run_id, timestamp FROM messages WHERE session_id=? ORDER BY id",
            (session_id,),
        )
        return [dict(row) for row in rows]

    def agent_sessions(self, agent_id: str) -> list[dict]:
        """The agent's sessions, most recently active first, with their run counts."""
        rows = self._query(
            "SELECT s.session_id, COUNT(r.run_id) AS run_count, s.last_activity_at, "
            "s.created_at, s.first_message FROM sessions s "
            "LEFT JOIN runs r ON r.session_id = s.session_id "
            "WHERE s.agent_id=? GROUP BY s.session_id "
            "ORDER BY s.last_activity_at DESC, s.created_at DESC",
            (agent_id,),
        )
        return [dict(row) for row in rows]

    def agent_stats(self) -> dict[str, dict]:
        """Per agent: session_count, total_runs and last_run_at."""
        stats: dict[str, dict] = {}
        for row in self._query(
            "SELECT agent_id, COUNT(*) AS total_runs, MAX(created_at) AS last_run_at "
            "FROM runs GROUP BY agent_id"
        ):
            stats[row["agent_id"]] = {
                "session_count": 0,
                "total_runs": row["total_runs"],
                "last_run_at": row["last_run_at"],
            }
        for row in self._query("SELECT agent_id, COUNT(*) AS n FROM sessions GROUP BY agent_id"):
            entry = stats.setdefault(
                row["agent_id"], {"session_count": 0, "total_runs": 0, "last_run_at": None}
            )
            entry["session_count"] = row["n"]
        return stats


def _run(row: sqlite3.Row) -> dict:
    """One runs row as a dict (JSON columns decoded)."""
    return {
        "id": row["run_id"],
        "run_id": row["run_id"],
        "agent_id": row["agent_id"],
        "session_id": row["session_id"],
        "status": row["status"],
        "message": row["message"],
        "content": row["content"],
        "usage": _loads(row["usage"]),
        "tool_calls": _loads(row["tool_calls"]),
        "events": _loads(row["events"]),
        "error": row["error"],
        "reasoning_steps": _loads(row["reasoning_steps"]),
        "options": _loads(row["options"]),
        "created_at": row["created_at"],
        "completed_at": row["completed_at"],
        "duration_ms": row["duration_ms"],
    }
