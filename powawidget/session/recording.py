"""Transcript files: canonical events as JSON Lines, saved atomically, loaded tolerantly.

The one reader and writer of saved conversations (`Transcript.save/load` and replay use
it): a save never leaves half a file, and a load keeps everything before a last line that
a crash cut short.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from powawidget.wire.canonical import CanonicalEvent, canonical
from powawidget.wire.values import careful_loads

__all__ = ["checked_event", "load_events", "save_events"]


def save_events(events: Iterable[CanonicalEvent], path: str | os.PathLike[str]) -> Path:
    """Write `events` as JSON Lines (one canonical event a line), atomically; returns the path.

    The file is written beside `path` and renamed over it, so a crash mid-save leaves
    the old file or the new one, never half of one.
    """
    target = Path(path)
    lines = []
    for number, event in enumerate(events):
        try:
            line = _line(event)
        except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
            try:  # built by hand, not by the normaliser: the same rules make it well-formed
                line = _line(canonical(event))
            except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as exc:
                name = event.get("event")
                raise ValueError(f"event {number} ({name!r}) is not JSON: {exc}") from exc
        lines.append(line)
    _write_atomically(target, "".join(line + "\n" for line in lines))
    return target


def _line(event: CanonicalEvent) -> str:
    """One JSON Lines line; U+2028/9 stay escaped (line breaks to some JSONL readers)."""
    line = json.dumps(event, ensure_ascii=False, allow_nan=False)
    line.encode("utf-8")  # a lone surrogate would fail the write: fail here instead
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def load_events(source: str | os.PathLike[str] | Iterable[Any]) -> list[CanonicalEvent]:
    """Canonical events from a file written by `save_events` (or from a list of events).

    A last line cut short (no newline, not JSON) is skipped with a warning (attributed to
    the caller of `Transcript.load`); any other bad line raises ValueError naming its line.
    """
    if not isinstance(source, (str, os.PathLike)):
        return [checked_event(event, f"event {n}") for n, event in enumerate(source)]
    path = Path(source)
    events = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                value = careful_loads(line)
            except ValueError as exc:
                if not line.endswith("\n"):
                    # The last line, cut short (a write that never finished): keep the rest.
                    warnings.warn(
                        f"{where}: skipped an unfinished last line (not valid JSON)",
                        stacklevel=3,
                    )
                    break
                raise ValueError(f"{where}: not valid JSON ({exc})") from None
            events.append(checked_event(value, where))
    return events


def checked_event(value: Any, where: str) -> CanonicalEvent:
    """A canonical event from loaded data: an object with an `event` name, made well-formed
    by the normaliser's rules (`wire.canonical.canonical`); missing keys None."""
    if not isinstance(value, dict) or not isinstance(value.get("event"), str):
        raise ValueError(f"{where}: expected a canonical event (a JSON object with an 'event')")
    return canonical(value)


def _write_atomically(target: Path, text: str) -> None:
    """Write `text` to a temp file beside `target`, then rename it over: never half a file."""
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with temp.open("x", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):  # keep an existing file's permissions
            os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
