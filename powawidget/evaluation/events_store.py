"""Where an evaluation keeps its runs' events: on disk, read back when asked for.

Rows and scores stay in memory; a run's canonical events (the bulk: ~50 KB a run) go to
the checkpoint's `finished` line when there is a checkpoint, else to an anonymous spill
file, and only their place (offset, length) is kept. `ev.transcript`, `ev.tool_calls`,
`ev.show(i)` and the panel's detail view read them back then, so memory stays flat
however many prompts run.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from powawidget.wire.canonical import CanonicalEvent

Place = tuple[Path | None, int, int]
"""(the checkpoint file, or None for the spill file; offset; length) of one stored line."""


class EventStore:
    """The events of each run, by prompt key, kept in files; thread-safe."""

    def __init__(self) -> None:
        self._places: dict[str, Place] = {}
        self._lock = threading.Lock()
        self._spill: Any = None

    def __contains__(self, key: str) -> bool:
        return key in self._places

    def put(self, key: str, events: list[CanonicalEvent]) -> None:
        """Spill `events` (a run with none keeps no place)."""
        if not events:
            self._places.pop(key, None)
            return
        line = json.dumps(events, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
        with self._lock:
            if self._spill is None:
                # lives as long as the evaluation; deleted when closed or collected
                self._spill = tempfile.TemporaryFile(prefix="powawidget-events-")  # noqa: SIM115
            offset = self._spill.seek(0, os.SEEK_END)
            self._spill.write(line)
            self._places[key] = (None, offset, len(line))

    def at(self, key: str, place: Place) -> None:
        """The events of `key` are the `events` of the checkpoint line at `place`."""
        with self._lock:
            self._places[key] = place

    def get(self, key: str) -> list[CanonicalEvent]:
        """The events of `key`, read back (empty when it has none)."""
        with self._lock:
            place = self._places.get(key)
            if place is None:
                return []
            path, offset, length = place
            if path is None:
                self._spill.flush()
                self._spill.seek(offset)
                data = self._spill.read(length)
        if path is not None:
            with path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read(length)
            record = json.loads(data)
            return list(record.get("events") or [])
        return list(json.loads(data))

    def share(self, other: EventStore) -> None:
        """Read `other`'s events (a rescored evaluation shares its runs)."""
        self._places = other._places
        self._lock = other._lock
        self._spill = other._spill

    def close(self) -> None:
        """Drop the spill file."""
        with self._lock:
            if self._spill is not None:
                self._spill.close()
                self._spill = None
