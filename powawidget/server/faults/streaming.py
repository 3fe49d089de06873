"""Faults inside the event stream: bad frames, cuts, stalls, failed runs, huge or hostile data."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from powawidget.server.faults.agent import (
    FaultAgent,
    react_complete,
    start_frame,
    tool_step_frames,
)
from powawidget.server.protocol import RunContext, usage_counts

FRAMING_STALL = 1.5  # seconds the framing faults pause after their first delta


class Malformed(FaultAgent):
    """A data frame that is not JSON in the middle of the stream, then a normal finish."""

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        text.append("Before ")
        yield {"event": "content_delta", "delta": "Before "}
        yield b"data: {this is not json\n\n"
        text.append("after.")
        yield {"event": "content_delta", "delta": "after."}


class Dropped(FaultAgent):
    """The connection is cut after a few frames; the run itself finishes and is stored."""

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        for word in ("The ", "connection ", "drops ", "here ", "and ", "you ", "miss ", "this."):
            text.append(word)
            yield {"event": "content_delta", "delta": word}
            await asyncio.sleep(max(ctx.delay, 0.01))


class Stall(FaultAgent):
    """Silence with keepalive comments: "stall N" waits N seconds (default 3)."""

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        words = message.split()
        seconds = 3.0
        if len(words) >= 2 and words[0].lower() == "stall":
            with contextlib.suppress(ValueError):
                seconds = max(0.0, float(words[1]))
        text.append("Waking ")
        yield {"event": "content_delta", "delta": "Waking "}
        await asyncio.sleep(seconds)
        text.append("up.")
        yield {"event": "content_delta", "delta": "up."}


class Busy(FaultAgent):
    """Work that holds its thread: "busy N" blocks N seconds (default 3) without awaiting,
    as an agent reading a huge message does. On the server's loop that would stall every
    other client; agents run on a loop of their own (runs.off_the_loop)."""

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        words = message.split()
        seconds = 3.0
        if len(words) >= 2 and words[0].lower() == "busy":
            with contextlib.suppress(ValueError):
                seconds = min(60.0, max(0.0, float(words[1])))
        time.sleep(seconds)  # deliberately blocking: that is the fault
        text.append("Done.")
        yield {"event": "content_delta", "delta": "Done."}


class FailedRun(FaultAgent):
    """A run that ends with complete.status == "failed" and an error, no error event."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": True}
        yield {"event": "content_delta", "delta": "Let me check …"}
        yield {"event": "chunk", "content": "Let me check …"}
        yield react_complete(
            ctx,
            "Let me check …",
            status="failed",
            steps=1,
            error="Step limit reached before the agent produced an answer",
        )


class ErrorEvent(FaultAgent):
    """A run that ends with a loop `error` frame (a step's error) and no complete."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        yield {"event": "content_delta", "delta": "Thinking"}
        yield {"event": "error", "error": "The model provider returned an error", "step": 1}


class BigResult(FaultAgent):
    """A tool whose result is 1 MB (in tool_result.result and complete.tool_calls)."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        result = (("0123456789abcdef" * 64 + "\n") * 1024)[: 1024 * 1024]  # 1 MiB of text
        args = {"path": "big.log"}
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        for frame in tool_step_frames(
            1, "read_log", args, "call_big_1", result, duration_ms=1.0, preview_chars=200
        ):
            yield frame
        text = "The log is 1 MB of hex digits."
        yield {"event": "step_started", "step": 2, "is_last_step": False}
        yield {"event": "content_delta", "delta": text}
        yield {"event": "step_completed", "step": 2, "finish_reason": "stop", "has_tool_calls": []}
        yield {"event": "chunk", "content": text}
        call = {"step": 1, "tool_name": "read_log", "arguments": args, "result": result}
        yield react_complete(
            ctx,
            text,
            steps=2,
            tool_calls=[{**call, "duration_ms": 1.0}],
            usage=usage_counts(300000, 9),
        )


class ManyChunks(FaultAgent):
    """10,000 content_delta chunks as fast as the server can send them."""

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        for i in range(10_000):
            word = f"w{i} "
            text.append(word)
            yield {"event": "content_delta", "delta": word}
            if i % 500 == 499:
                await asyncio.sleep(0)


class FramingFault(FaultAgent):
    """Start and one delta, a 1.5 s pause with no keepalive, then a normal finish."""

    async def script(self, ctx: RunContext, message: str, text: list[str]) -> AsyncIterator[Any]:
        text.append("First ")
        yield {"event": "content_delta", "delta": "First "}
        await asyncio.sleep(FRAMING_STALL)
        for word in ("then ", "the ", "rest."):
            text.append(word)
            yield {"event": "content_delta", "delta": word}


XSS_TEXT = (
    "Attack payloads follow.\n\n<script>alert('text')</script>\n"
    "<img src=x onerror=\"alert('img')\">\n[click](javascript:alert('link'))\n"
    "<iframe src=\"javascript:alert('frame')\"></iframe>\n"
    '![x](x" onerror="alert(\'md-img\'))\n<a href="javascript:alert(1)">a</a>'
)


class Xss(FaultAgent):
    """Markdown/HTML attack payloads in text, tool name, arguments, result and error."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        tool = "<img src=x onerror=alert('tool')>"
        args = {"q": "<script>alert('args')</script>", "html": "<svg onload=alert('svg')>"}
        result = "<iframe srcdoc=\"<script>alert('result')</script>\"></iframe>"
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        yield {
            "event": "reasoning_delta",
            "step": 1,
            "source": "model",
            "delta": "<b onmouseover=alert('reasoning')>hover</b>",
        }
        yield {
            "event": "tool_call",
            "step": 1,
            "tool_name": tool,
            "arguments": args,
            "call_id": "call_xss_1",
        }
        yield {
            "event": "tool_result",
            "step": 1,
            "tool_name": tool,
            "call_id": "call_xss_1",
            "result_preview": result,
            "duration_ms": 1.0,
        }
        yield {"event": "content_delta", "delta": XSS_TEXT}
        yield {"event": "chunk", "content": XSS_TEXT}
        call = {"step": 1, "tool_name": tool, "arguments": args, "result": result}
        yield react_complete(
            ctx,
            XSS_TEXT,
            status="failed",
            tool_calls=[{**call, "duration_ms": 1.0}],
            error="<img src=x onerror=alert('error')>",
        )
