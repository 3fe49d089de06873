"""The checkpoint: a JSON Lines file appended (and flushed) as runs start and finish.

Lines: `started` (written as a run's request is about to leave, without a run id, and again
the moment its `start` event names the run id, so a crash mid-run still leaves a trace),
`unsent` (the request never left after all) and `finished` (the result row and the run's
canonical events). Each line is one `write` of bytes ending in a newline followed by a
flush, so a kernel crash loses at most the line being written; `load` skips a line cut
short (a later append first ends it with a newline). The API key is never written: rows
and events hold none (the client scrubs it).
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from powawidget.wire.canonical import CanonicalEvent


@dataclass
class CheckpointState:
    """What a checkpoint file says: finished runs (row + events) and started run ids."""

    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: dict[str, dict[str, Any]] = field(default_factory=dict)

    def unfinished(self) -> dict[str, dict[str, Any]]:
        """Runs that started but have no `finished` line (the process died meanwhile)."""
        return {k: v for k, v in self.started.items() if k not in self.finished}


KINDS = ("started", "unsent", "finished")


def record_problem(record: Any) -> str | None:
    """What is wrong with one checkpoint line's record (None when it is well-formed)."""
    if not isinstance(record, dict):
        shown = json.dumps(record)[:80]
        return f"{shown} is a JSON {type(record).__name__}, not a record object"
    kind, key = record.get("type"), record.get("key")
    if kind not in KINDS:
        return f"unknown record type {kind!r} (expected one of {', '.join(KINDS)})"
    if not isinstance(key, str) or not key:
        return f"a {kind!r} record without a prompt key (its 'key' is {key!r})"
    if kind == "started":
        if not isinstance(record.get("prompt"), str):
            return f"a 'started' record of {key!r} whose 'prompt' is not text"
        for name in ("run_id", "session_id"):
            if record.get(name) is not None and not isinstance(record.get(name), str):
                return f"a 'started' record of {key!r} whose {name!r} is {record[name]!r}"
    if kind == "finished":
        return _finished_problem(key, record)
    return None


def _finished_problem(key: str, record: dict[str, Any]) -> str | None:
    row = record.get("row")
    if not isinstance(row, dict):
        what = "without 'row'" if row is None else f"whose 'row' is a {type(row).__name__}"
        return f"a 'finished' record of {key!r} {what}"
    if not isinstance(row.get("status"), str):
        return f"a 'finished' record of {key!r} whose row has no status"
    events = record.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        shown = json.dumps(events)[:60]
        return f"a 'finished' record of {key!r} whose 'events' is {shown}, not a list of events"
    scores = record.get("scores")
    if scores is not None and not isinstance(scores, dict):
        return f"a 'finished' record of {key!r} whose 'scores' is not an object"
    return None


class Checkpoint:
    """An append-only JSONL checkpoint at `path` (created on first write)."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._file: Any = None

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r})"

    def load(self) -> CheckpointState:
        """Read the file (missing: empty); a record cut short is skipped with a warning."""
        state = CheckpointState()
        if not self.path.exists():
            return state
        with self.path.open("rb") as handle:  # line by line: one run's events at a time
            offset = 0
            for number, line in enumerate(handle, start=1):
                self._take(state, number, line, offset)
                offset += len(line)
        return state

    def _take(self, state: CheckpointState, number: int, line: bytes, offset: int) -> None:
        """Apply one line to `state`; a `finished` record keeps where its events are
        (`events_at`: offset, length), not the events themselves."""
        if not line.strip():
            return
        try:
            record = json.loads(line)
        except ValueError:
            if line.lstrip().startswith(b"{"):  # a record cut short by a crash
                warnings.warn(
                    f"{self.path}, line {number}: cut short (the process died while "
                    "writing it); that run counts as not finished.",
                    RuntimeWarning,
                    stacklevel=4,
                )
                return
            raise ValueError(
                f"{self.path}, line {number}: not JSON. Is this an evaluation checkpoint?"
            ) from None
        problem = record_problem(record)
        if problem is not None:
            raise ValueError(
                f"{self.path}, line {number}: {problem}. The checkpoint was edited or "
                "damaged: fix or delete that line (a prompt whose lines are gone is sent "
                "again), or use a new checkpoint file."
            )
        kind, key = record["type"], record["key"]
        if kind == "started":
            state.started[key] = record
        elif kind == "unsent":  # handed back before its request left (a stop, a 402)
            state.started.pop(key, None)
        else:
            record.pop("events", None)
            record["events_at"] = (offset, len(line))
            state.finished[key] = record

    def started(self, key: str, prompt: str, run_id: str | None, session_id: str | None) -> None:
        """Record that a run's request is leaving (no run id yet: with the time, so a resume
        can find its session) or that it started (its run id is known)."""
        record: dict[str, Any] = {
            "type": "started",
            "key": key,
            "prompt": prompt,
            "run_id": run_id,
            "session_id": session_id,
        }
        if run_id is None:
            record["sent_at"] = round(time.time(), 3)
        self._append(record)

    def unsent(self, key: str) -> None:
        """Record that a prompt marked as sent never left (a stop before the request, a 402)."""
        self._append({"type": "unsent", "key": key})

    def finished(
        self,
        key: str,
        row: dict[str, Any],
        events: list[CanonicalEvent],
        scores: dict[str, Any] | None = None,
    ) -> tuple[Path, int, int]:
        """Record a run's outcome: its result row, its canonical events and its scores;
        returns where the line is (the file, offset, length), to read the events back."""
        record: dict[str, Any] = {"type": "finished", "key": key, "row": row, "events": events}
        if scores is not None:
            record["scores"] = scores
        offset, length = self._append(record)
        return self.path, offset, length

    def close(self) -> None:
        """Close the file (a later write opens it again)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _append(self, record: dict[str, Any]) -> tuple[int, int]:
        """One line, one write, then flush (and fsync when asked); its offset and length."""
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            if self._file is None:
                self._file = self._open()
            offset = self._file.seek(0, os.SEEK_END)
            self._file.write(line)
            self._file.flush()
            if self._fsync:
                os.fsync(self._file.fileno())
        return offset, len(line)

    def _open(self) -> Any:
        """Open for appending; end a line cut short by a crash so the next one stands alone."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab", buffering=0)
        if handle.tell() > 0:
            with self.path.open("rb") as reader:
                reader.seek(-1, os.SEEK_END)
                if reader.read(1) != b"\n":
                    handle.write(b"\n")
        return handle
