"""The canonical event: the one typed shape every layer past the normaliser takes.

`CanonicalEvent` is what `EventNormaliser.normalise` and `make_event` return, what the
fold (model/), the session, the sync, the exports and the evaluation read, and what a
transcript file holds one per line. Its keys are `EVENT_KEYS`, in order (docs/protocol.md,
"Canonical events"); its values are well-formed ("Odd values").
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["EVENT_KEYS", "CanonicalEvent", "Data", "Usage"]

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
