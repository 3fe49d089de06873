"""The canonical event: the one typed shape every layer past the normaliser takes.

`CanonicalEvent` is what `EventNormaliser.normalise` and `make_event` return, what the
fold (model/), the session, the sync, the exports and the evaluation read, and what a
transcript file holds one per line. Its keys are `EVENT_KEYS`, in order (docs/protocol.md,
"Canonical events"); its values are well-formed ("Odd values").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from powawidget.wire import values

__all__ = [
    "EVENT_KEYS",
    "CanonicalEvent",
    "Data",
    "Usage",
    "canonical",
    "clean_usage",
    "note_dropped",
]

Data = Any
"""A JSON value past the door: str (valid Unicode), int (|n| < 2**53), finite float, bool,
None, and lists and str-keyed dicts of them, nested at most `MAX_DEPTH` deep."""

Usage = dict[str, Any]
"""Token counts by name (`prompt_tokens`, ...): every number a finite, non-negative int or
float below 2**53; anything else the server put there is data (see `Data`)."""


class CanonicalEvent(TypedDict):
    """One event, from the server or made by the client, after the normaliser.

    `seq` is the reader's own count from 0 (-1 for client-made events). `dropped` names
    the measures that arrived out of range (as `"field"` or `"usage.<name>"`) with the
    JSON text that came, or a text field's original when it held a lone surrogate; None
    when nothing was coerced. `raw` is the JSON object as it came, made well-formed; a
    malformed frame's text; None for client-made events.
    """

    event: str
    seq: int
    received_at: str | None
    run_id: str | None
    session_id: str | None
    step: int | None
    text: str | None
    text_mode: str | None
    tool_name: str | None
    call_id: str | None
    arguments: Data
    result: str | None
    duration_ms: float | None
    usage: Usage | None
    status: str | None
    error_message: str | None
    error_code: str | None
    dropped: dict[str, str] | None
    raw: Data


EVENT_KEYS: tuple[str, ...] = tuple(CanonicalEvent.__annotations__)
"""Every key of a canonical event, in order (the one list: save, load and views use it)."""


_TEXT_KEYS = (
    "received_at",
    "run_id",
    "session_id",
    "text",
    "text_mode",
    "tool_name",
    "call_id",
    "result",
    "status",
    "error_message",
    "error_code",
)


def canonical(value: Mapping[str, Any]) -> CanonicalEvent:
    """A canonical event from a mapping that did not come through the normaliser (a loaded
    transcript line, a client-made event): every key present and well-formed.

    Same rules as the normaliser (docs/protocol.md, "Odd values"): text keys hold valid
    text (a non-string is its JSON text), `step`/`duration_ms`/usage counts are measures
    (else None, noted in `dropped`), `arguments`/`raw` are data. Keys outside `EVENT_KEYS`
    are kept (as data). Raises ValueError without an `event` name."""
    name = value.get("event")
    if not isinstance(name, str):
        raise ValueError("a canonical event needs an 'event' name (a string)")
    dropped_in = value.get("dropped")
    dropped: dict[str, str] | None = None
    if isinstance(dropped_in, dict):
        dropped = {values.text(str(k)): values.name(v) or "null" for k, v in dropped_in.items()}
    out: dict[str, Any] = {"event": values.text(name)}
    seq = value.get("seq")
    out["seq"] = seq if type(seq) is int and -1 <= seq <= values.MAX_SAFE_INTEGER else -1
    for key in _TEXT_KEYS:
        out[key] = values.name(value.get(key))
    step = value.get("step")
    if step is not None and not (type(step) is int and values.measure(step) is not None):
        dropped = note_dropped(dropped, "step", step)
        step = None
    out["step"] = step
    duration = value.get("duration_ms")
    if duration is not None:
        kept = values.measure(duration)
        if kept is None:
            dropped = note_dropped(dropped, "duration_ms", duration)
        duration = None if kept is None else float(kept)
    out["duration_ms"] = duration
    usage, dropped = clean_usage(value.get("usage"), dropped)
    out["usage"] = usage
    out["arguments"] = values.data(value.get("arguments"))
    out["dropped"] = dropped
    out["raw"] = values.data(value.get("raw"))
    ordered = {key: out[key] for key in EVENT_KEYS}
    for key, extra in value.items():
        if key not in ordered:
            ordered[values.text(str(key))] = values.data(extra)
    return ordered  # type: ignore[return-value]  # every key set: a CanonicalEvent


def note_dropped(dropped: dict[str, str] | None, field: str, value: Any) -> dict[str, str]:
    """Note that `field` arrived as `value` (kept as its JSON text) and was left out."""
    out = {} if dropped is None else dropped
    out[field] = values.as_written(value)
    return out


def clean_usage(
    value: Any, dropped: dict[str, str] | None
) -> tuple[Usage | None, dict[str, str] | None]:
    """A usage object whose counts are measures: a count out of range or not a number
    becomes None and is noted in `dropped` as `usage.<name>`; nested objects stay data."""
    if value is None:
        return None, dropped
    if not isinstance(value, dict):
        return None, note_dropped(dropped, "usage", value)
    out: Usage = {}
    for key, count in value.items():
        key_text = values.text(key) if isinstance(key, str) else values.deep_text(key)
        if count is None or isinstance(count, dict):
            out[key_text] = values.data(count, 2)
            continue
        kept = values.measure(count)
        if kept is None:
            dropped = note_dropped(dropped, f"usage.{key_text}", count)
        out[key_text] = kept
    return out, dropped
