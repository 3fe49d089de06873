"""Fault agents: each one a real HTTP misbehaviour a Powabase client must survive.

Besides the `Agent` fields, a fault agent may carry wire hooks the transport reads with
`getattr` (ordinary agents have none): `reject(message)` answers before any stream
(status, headers, body); `framing` ("lf", "crlf", "close_delimited", "gzip");
`drop_after` (cut the connection after that many frames); `keepalive` (seconds between
keepalive comments while idle; `math.inf` for none). `run` may yield `bytes`, written to
the wire as they are (a malformed frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from powawidget.server.protocol import RunContext

FRAMING_STALL = 1.5  # seconds the framing faults pause after their first delta


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


class Unauthorized(FaultAgent):
    """401, whatever the key."""

    def reject(self, message: str) -> Rejection | None:
        return Rejection.json(401, {"error": "Invalid API key"})


class InsufficientCredits(FaultAgent):
    """402: the project ran out of credits (never worth a retry)."""

    def reject(self, message: str) -> Rejection | None:
        return Rejection.json(
            402,
            {
                "error": "insufficient_credits",
                "message": "Your project has no credits left. Add credits to continue.",
            },
        )


class AgentMissing(FaultAgent):
    """404 on run, as for an agent deleted after it was listed."""

    def reject(self, message: str) -> Rejection | None:
        return Rejection.json(404, {"error": "Agent not found"})


class RateLimited(FaultAgent):
    """429 with Retry-After: 1 the first time a message is sent, then a normal run."""

    def reject(self, message: str) -> Rejection | None:
        if self.first_time(message):
            return Rejection.json(
                429,
                {"error": "rate_limited", "message": "Too many requests, retry later."},
                Retry_After="1",
            )
        return None


class Unavailable(FaultAgent):
    """503 the first time a message is sent, then a normal run."""

    def reject(self, message: str) -> Rejection | None:
        if self.first_time(message):
            return Rejection.json(503, {"error": "billing service unreachable, please retry"})
        return None


class NotEventStream(FaultAgent):
    """200 with an HTML page, as a captive portal or a misrouted proxy answers."""

    def reject(self, message: str) -> Rejection | None:
        page = b"<!doctype html><html><body><h1>Welcome</h1><p>Sign in first.</p></body></html>"
        return Rejection(200, page, content_type="text/html; charset=utf-8")


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


class FailedRun(FaultAgent):
    """A run that ends with complete.status == "failed" and an error, no error event."""

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
        yield {"event": "content_delta", "delta": "Let me check …"}
        yield {
            "event": "complete",
            "run_id": ctx.run_id,
            "session_id": ctx.session_id,
            "content": "Let me check …",
            "status": "failed",
            "steps": 1,
            "tool_calls": [],
            "usage": None,
            "error": "Step limit reached before the agent produced an answer",
        }


class ErrorEvent(FaultAgent):
    """A run that ends with a server-dialect `error` event."""

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
        yield {"event": "content_delta", "delta": "Thinking"}
        yield {"event": "error", "error": "The model provider returned an error", "step": 1}


class BigResult(FaultAgent):
    """A tool whose result is 1 MB (in tool_result.result and complete.tool_calls)."""

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        result = (("0123456789abcdef" * 64 + "\n") * 1024)[: 1024 * 1024]  # 1 MiB of text
        args = {"path": "big.log"}
        yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        yield {
            "event": "tool_call",
            "step": 1,
            "tool_name": "read_log",
            "arguments": args,
            "call_id": "call_big_1",
        }
        yield {
            "event": "tool_result",
            "step": 1,
            "tool_name": "read_log",
            "call_id": "call_big_1",
            "result_preview": result[:200],
            "result": result,
            "result_meta": {"chars": len(result)},
            "duration_ms": 1.0,
        }
        yield {
            "event": "step_completed",
            "step": 1,
            "finish_reason": "tool_calls",
            "has_tool_calls": True,
        }
        text = "The log is 1 MB of hex digits."
        yield {"event": "content_delta", "delta": text}
        yield {
            "event": "complete",
            "run_id": ctx.run_id,
            "session_id": ctx.session_id,
            "content": text,
            "status": "completed",
            "steps": 2,
            "tool_calls": [
                {
                    "step": 1,
                    "tool_name": "read_log",
                    "arguments": args,
                    "result": result,
                    "duration_ms": 1.0,
                }
            ],
            "usage": {"prompt_tokens": 300000, "completion_tokens": 9, "total_tokens": 300009},
        }


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

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        tool = "<img src=x onerror=alert('tool')>"
        args = {"q": "<script>alert('args')</script>", "html": "<svg onload=alert('svg')>"}
        result = "<iframe srcdoc=\"<script>alert('result')</script>\"></iframe>"
        yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
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
        yield {
            "event": "complete",
            "run_id": ctx.run_id,
            "session_id": ctx.session_id,
            "content": XSS_TEXT,
            "status": "failed",
            "steps": 1,
            "tool_calls": [
                {
                    "step": 1,
                    "tool_name": tool,
                    "arguments": args,
                    "result": result,
                    "duration_ms": 1.0,
                }
            ],
            "usage": None,
            "error": "<img src=x onerror=alert('error')>",
        }


def _fault(cls: type[FaultAgent], id: str, description: str, **wire: Any) -> FaultAgent:
    """A fault agent named after its id."""
    return cls(id=id, name=id.replace("_", " ").title(), description=description, **wire)


FAULT_AGENTS: list[FaultAgent] = [
    _fault(Unauthorized, "fault_unauthorized", "Answers 401 to every run."),
    _fault(InsufficientCredits, "fault_credits", "Answers 402 insufficient_credits."),
    _fault(AgentMissing, "fault_not_found", "Answers 404 Agent not found to every run."),
    _fault(
        RateLimited,
        "fault_rate_limited",
        "429 with Retry-After: 1 the first time a message is sent, then a normal run.",
    ),
    _fault(
        Unavailable, "fault_unavailable", "503 the first time a message is sent, then a normal run."
    ),
    _fault(NotEventStream, "fault_not_event_stream", "200 with an HTML page, not a stream."),
    _fault(Malformed, "fault_malformed", "A non-JSON data frame mid-stream, then continues."),
    _fault(Dropped, "fault_drop", "Cuts the connection mid-stream.", drop_after=3),
    _fault(
        Stall,
        "fault_stall",
        'Stalls with keepalives every 0.5 s; "stall N" stalls N seconds (default 3).',
        keepalive=0.5,
    ),
    _fault(FailedRun, "fault_failed_run", "Ends with complete.status failed and an error."),
    _fault(ErrorEvent, "fault_error_event", "Ends with an error event."),
    _fault(BigResult, "fault_big_result", "A tool with a 1 MB result."),
    _fault(ManyChunks, "fault_many_chunks", "10,000 content_delta chunks."),
    _fault(
        FramingFault,
        "fault_close_delimited",
        "No Content-Length, no chunked: an HTTP/1.0-style body ended by closing.",
        framing="close_delimited",
        keepalive=math.inf,
    ),
    _fault(
        FramingFault,
        "fault_crlf",
        "Frames with CRLF line ends.",
        framing="crlf",
        keepalive=math.inf,
    ),
    _fault(
        FramingFault,
        "fault_gzip",
        "A gzip-compressed stream flushed per event.",
        framing="gzip",
        keepalive=math.inf,
    ),
    _fault(Xss, "fault_xss", "Markdown/HTML attack payloads in every field."),
]
