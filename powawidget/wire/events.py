"""One event model for every Powabase stream: both wire dialects become canonical dicts.

The server dialect (`step`, `result_preview`, `error`, `content_delta`, a terminal `chunk`
holding the whole answer) and the documented one (`step_number`, `result`, `message` +
`code`, `chunk` deltas) both map onto the keys of `EVENT_KEYS` (docs/protocol.md, Events).
Nothing is lost: `raw` keeps the JSON object as it came, unknown events pass through, and
a data frame that is not a JSON object becomes a `malformed` event while the stream goes on.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from powawidget.wire.canonical import (
    EVENT_KEYS,
    CanonicalEvent,
    canonical,
    clean_usage,
    note_dropped,
)
from powawidget.wire.sse import ServerSentEvent
from powawidget.wire.values import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    careful_loads,
    careful_scan,
    deep_text,
    measure,
)
from powawidget.wire.values import data as clean_data
from powawidget.wire.values import text as clean_text

__all__ = [
    "BLOCKED_PREFIX",
    "EVENT_KEYS",
    "REASONING_EVENTS",
    "TERMINAL_EVENTS",
    "TEXT_EVENTS",
    "CanonicalEvent",
    "EventNormaliser",
    "blocked_result",
    "citations",
    "format_timestamp",
    "from_server",
    "hook_outcome",
    "is_failure",
    "make_event",
    "normalise_stream",
    "raw_field",
]


TERMINAL_EVENTS: frozenset[str] = frozenset({"complete", "error", "client_error"})
"""The events that end a run: after one, a stop changes nothing (the one home of the rule)."""

TEXT_EVENTS: frozenset[str] = frozenset({"chunk", "content_delta", "complete"})
REASONING_EVENTS: frozenset[str] = frozenset({"reasoning_delta", "reasoning"})

Clock = Callable[[], float]
"""Seconds since the epoch, like `time.time` (inject a fixed one in tests)."""

_KEY_SET = frozenset(EVENT_KEYS)
_second_cache: tuple[int, str] = (-1, "")
_milli_cache: tuple[int, str] = (-1, "")


def format_timestamp(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, e.g. "2026-11-24T08:00:00.123Z"."""
    global _second_cache, _milli_cache
    millis = round(seconds * 1000)  # round: 0.123 s must not print as .122 (float error)
    cached_milli, stamp = _milli_cache
    if millis == cached_milli:  # fast streams deliver many events within a millisecond
        return stamp
    whole, ms = divmod(millis, 1000)
    cached_second, prefix = _second_cache
    if whole != cached_second:  # one strftime per second of stream, not per event
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second_cache = (whole, prefix)
    stamp = f"{prefix}.{ms:03d}Z"
    _milli_cache = (millis, stamp)
    return stamp


def make_event(event: str, **fields: Any) -> CanonicalEvent:
    """A canonical event with every key (None when not given), seq -1 and received_at now.

    For client-side events (`user_message`, `client_error`, `stopped`, ...) made by the
    layers above the parser. Unknown field names raise TypeError: a typo must not vanish.
    """
    unknown = fields.keys() - _KEY_SET
    if unknown:
        raise TypeError(f"make_event() got unknown fields: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = dict.fromkeys(EVENT_KEYS)
    out["event"] = event
    out["seq"] = -1
    out.update(fields)
    if out["received_at"] is None:
        out["received_at"] = format_timestamp(time.time())
    return canonical(out)  # the client's values go through the same rules


def from_server(event: Mapping[str, Any]) -> bool:
    """True for an event the server sent (client-made events have seq -1)."""
    seq = event.get("seq")
    return isinstance(seq, int) and seq >= 0


def is_failure(event: Mapping[str, Any]) -> bool:
    """True for an error event, a failed complete, or a client-side error."""
    name = event.get("event")
    return (
        name == "error"
        or name == "client_error"
        or (name == "complete" and event.get("status") == "failed")
    )


def _str_or_none(value: Any) -> str | None:
    """The value when it is a string, else None (ids and names must be text)."""
    return value if isinstance(value, str) else None


def _as_text(value: Any) -> str | None:
    """Strings as they are, None as None, anything else as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _error_text(value: Any) -> str | None:
    """Error text from a string, or from an object's `message`/`error`, else its JSON."""
    if isinstance(value, dict):
        inner = value.get("message", value.get("error"))
        if isinstance(inner, str):
            return inner
    return _as_text(value)


_MALFORMED = object()
_LONE_SURROGATE = re.compile(  # an escape of half a pair (an emoji's two halves are fine)
    r"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|[c-fC-F][0-9a-fA-F]{2}(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}))"
)
_DEEP_TEXT = 2 * MAX_DEPTH  # a frame shorter than this cannot nest past MAX_DEPTH


class EventNormaliser:
    """Maps the frames of ONE stream to canonical events; carries run/session ids forward.

    Stateful per stream: `seq` counts from 0, `run_id`/`session_id` stick once named, and
    it remembers whether `content_delta`s came in the current run (a later `chunk` then
    holds the whole answer and replaces the text instead of appending to it).
    """

    __slots__ = ("_clock", "_deltas_in_run", "_seq", "run_id", "session_id")

    def __init__(self, clock: Clock | None = None) -> None:
        """Start a stream; `clock` returns epoch seconds for `received_at` (default time.time)."""
        self._clock: Clock = clock or time.time
        self._seq = 0
        self._deltas_in_run = False
        self.run_id: str | None = None
        self.session_id: str | None = None

    def normalise(self, sse: ServerSentEvent) -> CanonicalEvent:
        """The canonical event for one server-sent event (never raises on bad data)."""
        seq = self._seq
        self._seq = seq + 1
        received_at = format_timestamp(self._clock())
        data = sse.data
        try:
            obj = _MALFORMED
            if data[:1] == "{":  # json.loads minus its wrapper layers (~0.5 µs an event)
                obj, end = careful_scan(data, 0)  # huge ints, NaN, 1e999 come as text
                if end != len(data):  # trailing space or garbage: let json.loads judge
                    obj = careful_loads(data)
            else:
                obj = careful_loads(data)
        except (ValueError, StopIteration, RecursionError):
            obj = _MALFORMED
        if type(obj) is not dict:
            return self._malformed(data, seq, received_at)
        dropped: dict[str, str] | None = None
        surrogates = ("\\ud" in data or "\\uD" in data) and _LONE_SURROGATE.search(data)
        if surrogates or (
            len(data) > _DEEP_TEXT and data.count("{") + data.count("[") > MAX_DEPTH
        ):  # the rare frame: a surrogate escape or deep nesting (docs/protocol.md, Odd values)
            clean = clean_data(obj)
            if clean is not obj:
                if surrogates:  # the one lossy change: keep the frame exactly as it came
                    dropped = {"raw": data}
                obj = clean

        name = obj.get("event")
        if not isinstance(name, str):
            name = obj.get("type")
            if not isinstance(name, str):
                name = sse.event

        get = obj.get
        run_id = get("run_id")
        if isinstance(run_id, str):
            if run_id != self.run_id:  # a new run: its chunks are deltas until deltas come
                self.run_id = run_id
                self._deltas_in_run = False
        elif name == "start":
            self._deltas_in_run = False
        session_id = get("session_id")
        if isinstance(session_id, str):
            self.session_id = session_id

        step = get("step")
        if step is None:
            step = get("step_number")
        if step is not None and not (type(step) is int and 0 <= step <= MAX_SAFE_INTEGER):
            dropped = note_dropped(dropped, "step", step)
            step = None

        text = text_mode = status = error_message = error_code = None
        if name == "content_delta":
            text = _str_or_none(get("delta", get("content")))
            text_mode = "append"
            self._deltas_in_run = True
        elif name == "chunk":
            text = _str_or_none(get("content", get("delta")))
            text_mode = "replace" if self._deltas_in_run else "append"
        elif name == "reasoning_delta":
            text = _str_or_none(get("delta", get("content")))
            text_mode = "append"
        elif name == "reasoning":
            text = _str_or_none(get("content", get("delta")))
            text_mode = "replace"
        elif name == "complete":
            text = _str_or_none(get("content"))
            text_mode = "replace"
            status = _str_or_none(get("status"))
            if status == "failed":
                error_message = _error_text(get("error"))
                error_code = _str_or_none(get("code")) or "run_failed"
        elif name == "error":
            error = get("error")
            error_message = _error_text(get("message", error))
            error_code = _str_or_none(get("code"))
            if error_code is None and isinstance(error, dict):  # {"error": {"code": ...}}
                error_code = _str_or_none(error.get("code"))
        elif name == "approval_requested":
            text = _str_or_none(get("message"))
        elif name == "hook_result":
            text = _str_or_none(get("message"))
            status = _str_or_none(get("status"))
        elif name == "step_reset":
            text = _str_or_none(get("reason"))
        elif name == "tool_result" and tool_failed(obj):
            status = "error"  # else None: the payload said nothing either way
        if text is None:
            text_mode = None

        arguments = obj["arguments"] if "arguments" in obj else get("tool_input")
        result = get("result")
        if result is None:
            result = get("result_preview")
        duration = get("duration_ms")
        if duration is not None:
            duration = measure(duration)
            if duration is None:
                dropped = note_dropped(dropped, "duration_ms", get("duration_ms"))
            else:
                duration = float(duration)
        usage = get("usage")
        if usage is not None:
            usage, dropped = clean_usage(usage, dropped)
        tool_name = get("tool_name")
        if tool_name is not None and type(tool_name) is not str:
            tool_name = deep_text(tool_name)
        call_id = get("call_id")
        if call_id is not None and type(call_id) is not str:
            call_id = deep_text(call_id)
        return {
            "event": name,
            "seq": seq,
            "received_at": received_at,
            "run_id": self.run_id,
            "session_id": self.session_id,
            "step": step,
            "text": text,
            "text_mode": text_mode,
            "tool_name": tool_name,
            "call_id": call_id,
            "arguments": arguments,
            "result": _as_text(result),
            "duration_ms": duration,
            "usage": usage,
            "status": status,
            "error_message": error_message,
            "error_code": error_code,
            "dropped": dropped,
            "raw": obj,
        }

    def _malformed(self, data: str, seq: int, received_at: str) -> CanonicalEvent:
        """A frame whose data is not a JSON object: keep its text, carry the ids."""
        out: dict[str, Any] = dict.fromkeys(EVENT_KEYS)
        out["event"] = "malformed"
        out["seq"] = seq
        out["received_at"] = received_at
        out["run_id"] = self.run_id
        out["session_id"] = self.session_id
        out["raw"] = clean_text(data)
        return out  # type: ignore[return-value]  # every key is set: a CanonicalEvent


def tool_failed(payload: Any) -> bool:
    """Whether a tool_result payload says its tool failed (is_error / error / a failed status,
    at the top level or in `result_meta`, as the server's hooks and denials report it)."""
    if not isinstance(payload, dict):
        return False
    meta = payload.get("result_meta")
    if not isinstance(meta, dict):
        meta = {}
    return bool(
        payload.get("is_error")
        or payload.get("error")
        or payload.get("status") in ("error", "failed")
        or meta.get("error")
        or meta.get("is_error")
        or meta.get("status") in ("error", "failed")
    )


BLOCKED_PREFIX = "Error: Blocked by hook"
"""How the server's tool_result after a refused approval starts (docs/protocol.md)."""


def hook_outcome(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(approved | denied | timed_out | None, message) from a `hook_result` event.

    `blocked` is the server's only structured sign of a refusal; a timeout says so in
    its message ("Approval timed out")."""
    raw = event.get("raw")
    if not isinstance(raw, dict):
        return None, None
    message = _str_or_none(raw.get("message"))
    blocked = raw.get("blocked")
    if blocked is True:
        timed_out = message is not None and "timed out" in message.lower()
        return ("timed_out" if timed_out else "denied"), message
    if blocked is False:
        return "approved", message
    return None, message


def blocked_result(result: Any) -> tuple[str | None, str | None]:
    """(denied | timed_out, the hook's words) when a tool result is the server's refusal
    text ("Error: Blocked by hook — Denied by user: …"), else (None, None)."""
    if not isinstance(result, str) or not result.startswith(BLOCKED_PREFIX):
        return None, None
    words = result[len(BLOCKED_PREFIX) :].lstrip(" —-:").strip() or None
    timed_out = words is not None and "timed out" in words.lower()
    return ("timed_out" if timed_out else "denied"), words


def citations(event: Mapping[str, Any], key: str = "citations") -> list[dict[str, Any]] | None:
    """`complete.citations` (or `start.citation_candidates` with that key), dicts only."""
    raw = event.get("raw")
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, list):
        return None
    return [c for c in value if isinstance(c, dict)]


def raw_field(event: Mapping[str, Any], key: str) -> Any:
    """A field of the event's original JSON object (None when absent or not an object)."""
    raw = event.get("raw")
    return raw.get(key) if isinstance(raw, dict) else None


def normalise_stream(
    events: Iterable[ServerSentEvent], *, clock: Clock | None = None
) -> Iterator[CanonicalEvent]:
    """Canonical events for one stream of server-sent events, lazily, one per event."""
    normalise = EventNormaliser(clock).normalise
    for sse in events:
        yield normalise(sse)
