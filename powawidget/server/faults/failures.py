"""Runs that fail the ways the real backend fails (docs/protocol.md, "Failure is decided at
the end of the stream"), and a run whose steps are reset and retried (`step_reset`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from powawidget.server.faults.agent import (
    FaultAgent,
    plain_complete,
    react_complete,
    start_frame,
    tool_step_frames,
)
from powawidget.server.protocol import RunContext, usage_counts

PROVIDER_DOWN = (
    "litellm.APIError: OpenrouterException - Upstream error: provider_unavailable "
    "(the model provider did not answer)"
)
MID_STREAM = (
    "Stream iteration failed: litellm.MidStreamFallbackError: OpenrouterException - "
    "Upstream error: ResourceExhausted"
)
ROUTE_ERROR = (
    "(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "
    '"agent_sessions_session_id_key"'
)
PARTIAL = ["Refunds ", "are ", "available ", "within "]
POLICY_ARGUMENTS = {"topic": "refunds"}
POLICY = "Refunds are available within 30 days of purchase."
RESET_REASONS = ("rate_limit", "model_error", "prompt_too_long", "output_recovery")


class LlmFailsEarly(FaultAgent):
    """Tools path, the LLM call fails before streaming: start, step_started, chunk(""),
    complete(failed, steps 0, usage null) — and no `error` frame."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        yield {"event": "chunk", "content": ""}
        yield react_complete(ctx, "", status="failed", steps=0, error=PROVIDER_DOWN)


class FailsMidStream(FaultAgent):
    """Tools path, the stream breaks in step 2 after a tool call in step 1: the partial
    chunk (with type/seq/ts), error(step), the terminal chunk again, complete(failed,
    content = the partial text, tool_calls [], steps 0, usage null)."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        for frame in tool_step_frames(
            1, "get_policy", POLICY_ARGUMENTS, "call_mid_1", POLICY, duration_ms=12.5
        ):
            yield frame
        yield {"event": "step_started", "step": 2, "is_last_step": False}
        for piece in PARTIAL:
            yield {"event": "content_delta", "delta": piece}
        partial = "".join(PARTIAL)
        yield ctx.loop_frame("chunk", content=partial)  # agentic's partial chunk: framed
        yield {"event": "error", "error": MID_STREAM, "step": 2}
        yield {"event": "chunk", "content": partial}  # the route's terminal chunk: plain
        yield react_complete(ctx, partial, status="failed", steps=0, error=MID_STREAM)


class PlainFails(FaultAgent):
    """No-tools path fails after some text: start, deltas, chunk(partial), error(run_id),
    complete(failed)."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield start_frame(ctx)
        for piece in PARTIAL:
            yield {"event": "content_delta", "delta": piece}
        partial = "".join(PARTIAL)
        yield {"event": "chunk", "content": partial}
        yield {"event": "error", "error": MID_STREAM, "run_id": ctx.run_id}
        yield plain_complete(ctx, partial, status="failed", error=MID_STREAM)


class RouteError(FaultAgent):
    """An exception in the route after `start` (`before_start`: before it): one `error`
    frame, then the end of the stream."""

    before_start: bool = False

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        if not self.before_start:
            yield start_frame(ctx)
        yield {
            "event": "error",
            "error": ROUTE_ERROR,
            "run_id": ctx.run_id,
            "context_handler_id": None,
        }


class RouteErrorBeforeStart(RouteError):
    """RouteError before `start`: the stream is one `error` frame."""

    before_start: bool = True


class SessionNotFound(FaultAgent):
    """The hosted service's answer to a session it does not know: one bare error frame."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        yield {"event": "error", "error": "Session not found"}


class StepReset(FaultAgent):
    """Steps reset and retried under the same number. Step 1 is reset for the reason the
    message names (rate_limit by default, with the frame that announces it) and retried,
    then calls a tool; step 2 writes half an answer, is reset for output_recovery and
    continues — the text already streamed stays in the answer."""

    async def frames(self, ctx: RunContext, message: str) -> AsyncIterator[Any]:
        reason = next((r for r in RESET_REASONS if r in message), "rate_limit")
        yield start_frame(ctx)
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        yield {
            "event": "reasoning_delta",
            "step": 1,
            "source": "thinking",
            "delta": "first attempt",
        }
        if reason in ("rate_limit", "model_error"):
            yield {"event": "model_fallback", "step": 1, "from": "gpt-4o", "to": "gpt-4o-mini"}
        elif reason == "prompt_too_long":
            yield {"event": "reactive_compact", "step": 1}
        else:
            yield {"event": "output_recovery", "step": 1, "attempt": 1}
        yield {"event": "step_reset", "step": 1, "reason": reason}
        yield {"event": "step_started", "step": 1, "is_last_step": False}
        yield {
            "event": "reasoning_delta",
            "step": 1,
            "source": "thinking",
            "delta": "retry attempt",
        }
        for frame in tool_step_frames(
            1, "get_policy", POLICY_ARGUMENTS, "call_reset_1", POLICY, duration_ms=8.0
        ):
            yield frame
        yield {"event": "step_started", "step": 2, "is_last_step": False}
        first, second = "Refunds are available", " within 30 days of purchase."
        yield {"event": "content_delta", "delta": first}
        yield {"event": "output_recovery", "step": 2, "attempt": 1}
        yield {"event": "step_reset", "step": 2, "reason": "output_recovery"}
        yield {"event": "step_started", "step": 2, "is_last_step": False}
        yield {"event": "content_delta", "delta": second}
        yield {"event": "step_completed", "step": 2, "finish_reason": "stop", "has_tool_calls": []}
        text = first + second
        yield {"event": "chunk", "content": text}
        calls = [
            {
                "step": 1,
                "tool_name": "get_policy",
                "arguments": POLICY_ARGUMENTS,
                "result": POLICY,
                "duration_ms": 8.0,
            }
        ]
        usage = usage_counts(420, 24, reasoning=4)
        yield react_complete(ctx, text, steps=2, tool_calls=calls, usage=usage)
