"""The server-dialect agent loop: what an LLM run looks like on the wire, on both paths.

`ServerRun` turns an agent's decisions (think, call tools, answer) into the frames the
Powabase backend sends (docs/protocol.md, "Two server paths"). An agent with tools takes
the ReAct path: `start`, per step `step_started` … `step_completed` with `reasoning_delta`,
`tool_call`, `tool_result` (in completion order) and `content_delta` inside, ONE terminal
`chunk` with all the text, then `complete` with steps, tool calls and usage. An agent
without tools takes the standard path: `start`, deltas, `chunk`, the whole `reasoning`,
`complete` without usage (the usage goes to GET /api/agents/runs/{id}). Agents only
decide what to say; the shape of the stream lives here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from powawidget.server.protocol import RunContext, delta_frame, usage_counts
from powawidget.server.tools import Tool, ToolError, result_text

PREVIEW_CHARS = 200
TIME_TO_FIRST_TOKEN = 10  # a model call starts this many token delays after its step opens
MAX_STEPS = 8
_TOKEN = re.compile(r"\s*(?:\w{1,10}|[^\w\s]{1,4})|\s+")


def tokens(text: str) -> list[str]:
    """Split text into LLM-sized pieces that concatenate back to exactly `text`."""
    return _TOKEN.findall(text)


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters a token), as usage estimates go."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass
class ToolRequest:
    """One tool call the agent decided to make."""

    name: str
    arguments: dict[str, Any]


@dataclass
class ToolRecord:
    """A finished tool call: what was asked, what came back, how long it took."""

    step: int
    call_id: str
    tool_name: str
    arguments: dict[str, Any]
    result: str
    duration_ms: float
    ok: bool
    value: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry in complete.tool_calls."""
        return {
            "step": self.step,
            "tool_name": self.tool_name,
            "arguments": self.arguments,
            "result": self.result,
            "duration_ms": self.duration_ms,
        }


@dataclass
class ServerRun:
    """One run in the server dialect: counts steps, runs tools, streams text, sums usage."""

    ctx: RunContext
    message: str
    system_prompt: str
    tools: Mapping[str, Tool]
    hooks: bool = False  # the agent has hooks: on_run_complete before the terminal chunk
    records: list[ToolRecord] = field(default_factory=list)
    done: list[ToolRecord] = field(default_factory=list)  # completion order
    last: list[ToolRecord] = field(default_factory=list)
    finished: dict[str, ToolRecord] = field(default_factory=dict)
    step: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    text: str = ""  # every content delta so far, all steps joined with no separator
    context_handler_id: str | None = None
    retrieved_items: int = 0
    _context_tokens: int = 0
    _calls: int = 0
    _thinking: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Count the context every model call reads: system prompt, history, message."""
        history = " ".join(str(turn.get("content", "")) for turn in self.ctx.history)
        self._context_tokens = estimate_tokens(f"{self.system_prompt} {history} {self.message}")
        self._context_tokens += 40 * len(self.tools)  # the tool schemas

    @property
    def react(self) -> bool:
        """Whether the run takes the ReAct path (the agent has tools)."""
        return bool(self.tools)

    def start(self, **extra: Any) -> dict[str, Any]:
        """The `start` event (`extra`: e.g. citation_candidates on the standard path)."""
        return {
            "event": "start",
            "run_id": self.ctx.run_id,
            "session_id": self.ctx.session_id,
            "context_handler_id": self.context_handler_id,
            "reasoning_requested": bool(self.ctx.options.get("reasoning", False)),
            **extra,
        }

    async def _pause(self, seconds: float) -> None:
        """Wait between tokens (a zero delay still yields to the event loop)."""
        await asyncio.sleep(max(0.0, seconds))

    def begin_step(self) -> dict[str, Any]:
        """Open the next step: the model reads the whole context again."""
        self.step += 1
        self.prompt_tokens += self._context_tokens
        return self.ctx.loop_frame(
            "step_started", step=self.step, is_last_step=self.step >= MAX_STEPS
        )

    def end_step(self, has_tool_calls: bool) -> dict[str, Any]:
        """Close the current step."""
        return self.ctx.loop_frame(
            "step_completed",
            step=self.step,
            finish_reason="tool_calls" if has_tool_calls else "stop",
            has_tool_calls=True if has_tool_calls else [],  # the backend's `[]` for none
        )

    async def think(self, thinking: str | None) -> AsyncIterator[dict[str, Any]]:
        """Stream a short reasoning summary as reasoning_delta frames; on the ReAct path the
        whole `reasoning` follows at once (the standard path sends it after the chunk)."""
        if not thinking:
            return
        used = estimate_tokens(thinking)
        self.completion_tokens += used
        self.reasoning_tokens += used
        step = max(self.step, 1)
        self._thinking[step] = thinking
        self.ctx.reasoning_steps.append({"step": step, "source": "thinking", "content": thinking})
        for piece in tokens(thinking):
            await self._pause(self.ctx.delay / 2)
            yield delta_frame("reasoning_delta", step=step, source="thinking", delta=piece)
        if self.react:
            yield self.ctx.loop_frame("reasoning", step=step, content=thinking, source="thinking")

    async def write(self, text: str, *, min_delay: float = 0.0) -> AsyncIterator[dict[str, Any]]:
        """Stream `text` as content_delta frames, token by token (added to `self.text`)."""
        self.completion_tokens += estimate_tokens(text)
        for piece in tokens(text):
            await self._pause(max(self.ctx.delay, min_delay))
            self.text += piece
            yield delta_frame("content_delta", delta=piece)

    def call_id(self) -> str:
        """A call id unique to this run and stable for it (call_ + 24 hex)."""
        self._calls += 1
        digest = hashlib.sha256(f"{self.ctx.run_id}:{self._calls}".encode()).hexdigest()
        return f"call_{digest[:24]}"

    async def execute(self, call_id: str, request: ToolRequest) -> ToolRecord:
        """Run one tool after its simulated latency, measuring the real duration."""
        started = time.perf_counter()
        tool = self.tools.get(request.name)
        value: Any = None
        error = None
        if tool is None:
            error = f"Unknown tool '{request.name}'"
        else:
            await asyncio.sleep(tool.latency)
            try:
                value = tool.invoke(dict(request.arguments))
            except ToolError as exc:
                error = str(exc)
            except Exception as exc:  # a tool bug must not kill the run: the model sees it
                error = f"{type(exc).__name__}: {exc}"
        result = f"Error: {error}" if error else result_text(value)
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        return ToolRecord(
            self.step, call_id, request.name, request.arguments, result, duration_ms,
            ok=error is None, value=value, error=error,
        )  # fmt: skip

    async def call_tools(
        self, requests: list[ToolRequest], *, thinking: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """A step that calls tools at once; results arrive as each finishes.

        After iterating, `self.last` holds the records in call order.
        """
        yield self.begin_step()
        await self._pause(self.ctx.delay * TIME_TO_FIRST_TOKEN)
        async for event in self.think(thinking if self.step == 1 else None):
            yield event
        calls = []
        for request in requests:
            call_id = self.call_id()
            calls.append((call_id, request))
            yield self.tool_call_event(call_id, request)
        tasks = [asyncio.ensure_future(self.execute(cid, req)) for cid, req in calls]
        finished = self.finished
        try:
            for next_done in asyncio.as_completed(tasks):
                record = await next_done
                finished[record.call_id] = record
                self.done.append(record)
                yield self.result_event(record)
        finally:
            for task in tasks:
                task.cancel()
        self.remember([finished[cid] for cid, _ in calls])
        yield self.end_step(has_tool_calls=True)

    def tool_call_event(self, call_id: str, request: ToolRequest) -> dict[str, Any]:
        """The tool_call event (the model spends tokens writing the arguments)."""
        self.completion_tokens += estimate_tokens(json.dumps(request.arguments)) + 8
        return self.ctx.loop_frame(
            "tool_call",
            step=self.step,
            tool_name=request.name,
            arguments=request.arguments,
            call_id=call_id,
        )

    def refuse(self, call_id: str, request: ToolRequest, error: str) -> ToolRecord:
        """A call that never ran (e.g. denied approval), recorded as an error result."""
        return ToolRecord(
            self.step, call_id, request.name, request.arguments, f"Error: {error}", 0.0,
            ok=False, error=error,
        )  # fmt: skip

    def remember(self, records: list[ToolRecord]) -> None:
        """Keep finished calls (in call order) for complete.tool_calls and the next step."""
        self.records.extend(records)
        self.done.extend(r for r in records if all(r is not d for d in self.done))
        self.last = records
        self._context_tokens += sum(estimate_tokens(r.result) for r in records)

    def result_event(self, record: ToolRecord, *, early: bool = False) -> dict[str, Any]:
        """The tool_result frame: a preview of at most 200 characters (the full result is
        only in complete.tool_calls). `early`: a call a hook blocked, sent without
        result_meta as the backend's early return does."""
        fields: dict[str, Any] = {
            "step": record.step,
            "tool_name": record.tool_name,
            "call_id": record.call_id,
            "result_preview": record.result[:PREVIEW_CHARS],
        }
        if not early:
            meta: dict[str, Any] = {"result_type": "text", "char_count": len(record.result)}
            if not record.ok:
                meta["error"] = True
            fields["result_meta"] = meta
        fields["duration_ms"] = record.duration_ms
        return self.ctx.loop_frame("tool_result", **fields)

    async def answer(
        self, text: str, *, thinking: str | None = None, min_delay: float = 0.0
    ) -> AsyncIterator[dict[str, Any]]:
        """The final answer: stream `text`, then the terminal chunk and complete.

        On the ReAct path this is the last step; on the standard path (no tools) there are
        no steps, and the whole reasoning comes after the chunk.
        """
        if not self.react:
            async for event in self._plain_answer(text, thinking, min_delay):
                yield event
            return
        yield self.begin_step()
        await self._pause(self.ctx.delay * TIME_TO_FIRST_TOKEN)
        async for event in self.think(thinking if self.step == 1 else None):
            yield event
        async for event in self.write(text, min_delay=min_delay):
            yield event
        yield self.end_step(has_tool_calls=False)
        if self.hooks:
            yield self.ctx.loop_frame("on_run_complete", status="completed", steps=self.step)
        yield {"event": "chunk", "content": self.text}
        yield self.complete(self.text)

    async def _plain_answer(
        self, text: str, thinking: str | None, min_delay: float
    ) -> AsyncIterator[dict[str, Any]]:
        """The standard (tool-less) path after `start`: deltas, chunk, reasoning, complete."""
        async for event in self.stream_only(text, thinking=thinking, min_delay=min_delay):
            yield event
        async for event in self.finish(self.text, thinking=thinking):
            yield event

    async def stream_only(
        self, text: str, *, thinking: str | None = None, min_delay: float = 0.0
    ) -> AsyncIterator[dict[str, Any]]:
        """Standard path: the reasoning and answer deltas, with no terminal frames yet."""
        self.prompt_tokens += self._context_tokens
        await self._pause(self.ctx.delay * TIME_TO_FIRST_TOKEN)
        async for event in self.think(thinking):
            yield event
        async for event in self.write(text, min_delay=min_delay):
            yield event

    async def finish(
        self, final: str, *, thinking: str | None = None, **extra: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Standard path: the terminal chunk with the `final` text (which may differ from
        the deltas, e.g. without invented citation markers), the whole reasoning after it,
        then complete (`extra`: e.g. citations)."""
        if final:  # the backend skips an empty terminal chunk
            yield {"event": "chunk", "content": final}
        if thinking:
            yield delta_frame("reasoning", step=1, source="thinking", content=thinking)
        yield self.complete(final, **extra)

    def usage(self) -> dict[str, int]:
        """Estimated usage with the six keys the backend reports."""
        return usage_counts(self.prompt_tokens, self.completion_tokens, self.reasoning_tokens)

    def complete(self, text: str, **extra: Any) -> dict[str, Any]:
        """The `complete` frame of this run's path.

        ReAct: steps, tool calls (completion order, full results, no call_id) and usage.
        Standard: context handler, retrieved_items, is_new_session and no usage (it is
        kept for GET /api/agents/runs/{id}). `extra`: e.g. citations.
        """
        self.ctx.usage = self.usage()
        if not self.react:
            return {
                "event": "complete",
                "run_id": self.ctx.run_id,
                "session_id": self.ctx.session_id,
                "context_handler_id": self.context_handler_id,
                "content": text,
                "retrieved_items": self.retrieved_items,
                "is_new_session": self.ctx.new_session,
                "status": "completed",
                "error": None,
                **extra,
            }
        return {
            "event": "complete",
            "run_id": self.ctx.run_id,
            "session_id": self.ctx.session_id,
            "content": text,
            "status": "completed",
            "steps": self.step,
            "tool_calls": [record.to_dict() for record in self.done],
            "usage": self.usage(),
            "error": None,
            **extra,
        }
