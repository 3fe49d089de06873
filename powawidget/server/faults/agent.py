"""The fault agent's base: a scripted run, an optional HTTP rejection, wire hooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from powawidget.server.protocol import Dialect, RunContext, delta_frame, usage_counts

DELTAS = ("content_delta", "reasoning_delta")
PLAIN = ("start", "chunk", "complete")


def shape(ctx: RunContext, payload: dict[str, Any]) -> dict[str, Any]:
    """A scripted payload framed as the backend frames that event (docs/protocol.md,
    "Framing"): deltas get `type`; start, chunk, complete and a route `error` (no step) stay
    plain; other loop frames get type, seq and ts. A payload with `type` is already framed."""
    if "type" in payload:
        return payload
    name = payload["event"]
    fields = {k: v for k, v in payload.items() if k != "event"}
    if name in DELTAS:
        return delta_frame(name, **fields)
    if name in PLAIN or (name == "error" and "step" not in fields):
        return payload
    return ctx.loop_frame(name, **fields)


@dataclass(frozen=True)
class Rejection:
    """An HTTP answer given instead of a stream."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: dict, **headers: str) -> Rejection:
        """A JSON error body with optional extra headers."""
        extra = tuple((name.replace("_", "-"), value) for name, value in headers.items())
        return cls(status, json.dumps(payload).encode(), headers=extra)


@dataclass
class FaultAgent:
    """A scripted agent; subclasses override `script` and the wire hooks."""

    id: str
    name: str
    description: str
    model: str = "fault-model-1"
    system_prompt: str = "You are a test fixture that misbehaves on purpose."
    dialect: Dialect = "server"
    framing: str = "lf"
    drop_after: int | None = None
    keepalive: float | None = None  # None: the server's default
    _seen: set[str] = field(default_factory=set, repr=False)

    def reject(self, message: str) -> Rejection | None:
        """The HTTP error answered instead of a stream, if any."""
        return None

    def first_time(self, message: str) -> bool:
        """True on the first request with this message (for fail-once-then-succeed faults)."""
        if message in self._seen:
            return False
        self._seen.add(message)
        return True

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        """The scripted frames, each framed by `shape` (raw bytes pass as they are)."""
        async for item in self.frames(ctx, message):
            yield shape(ctx, item) if isinstance(item, dict) else item

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        """A tool-less run (the standard path): start, the scripted deltas, chunk, complete."""
        yield start_frame(ctx)
        text: list[str] = []
        async for item in self.script(ctx, message, text):
            yield item
        if text:
            yield {"event": "chunk", "content": "".join(text)}
        ctx.usage = _usage(message, text)
        yield plain_complete(ctx, "".join(text))

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        """The events between start and complete; appends the answer's text to `text`."""
        for word in ("This ", "run ", "went ", "fine."):
            text.append(word)
            yield {"event": "content_delta", "delta": word}
            await asyncio.sleep(ctx.delay)


def start_frame(ctx: RunContext) -> dict[str, Any]:
    """The `start` frame."""
    return {
        "event": "start",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "context_handler_id": None,
        "reasoning_requested": False,
    }


def plain_complete(
    ctx: RunContext, content: str, *, status: str = "completed", error: str | None = None
) -> dict[str, Any]:
    """The `complete` frame of the standard (tool-less) path: no usage, steps or tool calls."""
    return {
        "event": "complete",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "context_handler_id": None,
        "content": content,
        "retrieved_items": 0,
        "is_new_session": ctx.new_session,
        "status": status,
        "error": error,
    }


def react_complete(
    ctx: RunContext,
    content: str,
    *,
    status: str = "completed",
    steps: int = 1,
    tool_calls: list | None = None,
    usage: dict | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The `complete` frame of the ReAct (tools) path."""
    return {
        "event": "complete",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "content": content,
        "status": status,
        "steps": steps,
        "tool_calls": tool_calls or [],
        "usage": usage,
        "error": error,
    }


def tool_step_frames(
    step: int,
    tool_name: str,
    arguments: dict[str, Any],
    call_id: str,
    result: str,
    *,
    duration_ms: float,
    preview_chars: int | None = None,
) -> list[dict[str, Any]]:
    """A step that called one tool, from its call to its end: tool_call, tool_result (the
    result's first `preview_chars` characters, all by default; text meta) and
    step_completed(tool_calls). The caller yields step_started before them."""
    return [
        {
            "event": "tool_call",
            "step": step,
            "tool_name": tool_name,
            "arguments": arguments,
            "call_id": call_id,
        },
        {
            "event": "tool_result",
            "step": step,
            "tool_name": tool_name,
            "call_id": call_id,
            "result_preview": result[:preview_chars],
            "result_meta": {"result_type": "text", "char_count": len(result)},
            "duration_ms": duration_ms,
        },
        {
            "event": "step_completed",
            "step": step,
            "finish_reason": "tool_calls",
            "has_tool_calls": True,
        },
    ]


def _usage(message: str, text: list[str]) -> dict[str, int]:
    """Token counts in the shape Powabase reports (words stand in for tokens)."""
    return usage_counts(len(message.split()) + 12, len("".join(text).split()))
