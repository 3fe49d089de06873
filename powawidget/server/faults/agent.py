"""The fault agent's base: a scripted run, an optional HTTP rejection, wire hooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from powawidget.server.protocol import RunContext


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
    dialect: str = "server"
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
        """Start, the scripted middle, complete."""
        yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
        text: list[str] = []
        async for item in self.script(ctx, message, text):
            yield item
        yield {
            "event": "complete",
            "run_id": ctx.run_id,
            "session_id": ctx.session_id,
            "content": "".join(text),
            "status": "completed",
            "steps": 1,
            "tool_calls": [],
            "usage": _usage(message, text),
        }

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        """The events between start and complete; appends the answer's text to `text`."""
        for word in ("This ", "run ", "went ", "fine."):
            text.append(word)
            yield {"event": "content_delta", "delta": word}
            await asyncio.sleep(ctx.delay)


def _usage(message: str, text: list[str]) -> dict[str, int]:
    """Token counts in the shape Powabase reports (words stand in for tokens)."""
    prompt = len(message.split()) + 12
    completion = len("".join(text).split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
