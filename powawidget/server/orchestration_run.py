"""One run of the local server's orchestration: the stream it sends, as recorded.

It streams what the real backend was recorded sending (docs/protocol.md, Orchestrations):
`orchestration_started`, the delegate tool call, `delegation_started`, the sub-agent's own
frames (really run by `agt_demo` or `agt_plain`, their `seq` and `step` restarting at 1),
`delegation_completed`, the delegate tool's result, the supervisor's answer,
`orchestration_completed`, then `chunk`/`complete` **holding every delta glued together**
(the server's bug, kept so clients meet it here). No `Cache-Control`/`X-Accel-Buffering`.
Failures as recorded: "fail the supervisor" fails the orchestrator's model call
(no `error` event); "broken" makes the sub-agent fail (the orchestration still completes).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from starlette.responses import Response, StreamingResponse

from powawidget.server import child_runs
from powawidget.server.orchestration_records import Orchestration, OrchestrationStore, now
from powawidget.server.protocol import Agent, RunContext, usage_counts
from powawidget.server.runs import encode_json, new_id

SUPERVISOR_ERROR = (
    "litellm.InternalServerError: InternalServerError: OpenAIException - Internal error (demo)"
)
TOOL_WORDS = ("plan", "price", "cost", "product", "catalogue", "policy", "refund", "trial")


@dataclass
class Step:
    """The supervisor's counters: loop frames' seq, its steps, its own usage."""

    seq: int = 0
    prompt: int = 0
    completion: int = 0

    def frame(self, event: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        return {"event": event, "type": event, **fields, "seq": self.seq, "ts": now()}


def child_frame(ctx: RunContext, event: str, **fields: Any) -> dict[str, Any]:
    """A loop frame the server adds to a sub-agent's own frames, on the sub-agent's seq."""
    ctx.seq += 1
    return {"event": event, "type": event, **fields, "seq": ctx.seq, "ts": now()}


def event_stream(frames: AsyncIterator[dict[str, Any]]) -> Response:
    """The frames as server-sent events, with the headers orchestration streams have."""

    async def body() -> AsyncIterator[bytes]:
        async for frame in frames:
            yield f"data: {encode_json(frame)}\n\n".encode()

    # No Cache-Control / X-Accel-Buffering: orchestration streams lack them.
    return StreamingResponse(body(), media_type="text/event-stream; charset=utf-8")


async def frames_of(frames: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """A fixed list of frames as a stream."""
    for frame in frames:
        yield frame


async def drain(queue: asyncio.Queue[Any]) -> AsyncIterator[dict[str, Any]]:
    """The run's frames until its end (the run goes on if the client leaves)."""
    while True:
        frame = await queue.get()
        if frame is None:
            return
        yield frame


class Supervisor:
    """Runs an orchestration: delegates to one of its agents, then answers itself."""

    def __init__(self, store: OrchestrationStore, *, delay: float) -> None:
        self.store = store
        self.delay = delay

    async def drive(
        self, o: Orchestration, message: str, session_id: str, out: asyncio.Queue[Any]
    ) -> None:
        """Run the supervisor; every frame goes to the stream's queue and the record."""
        record = self.store.open_run(o, message, session_id)
        run_id = record["run_id"]
        buffered: list[str] = []  # every content_delta: the server's glued text (its bug)

        async def emit(frame: dict[str, Any]) -> None:
            if frame["event"] == "content_delta":
                buffered.append(frame["delta"])
            elif frame["event"] not in ("start", "chunk", "complete"):
                record["events"].append({k: v for k, v in frame.items() if k != "event"})
            out.put_nowait(frame)
            await asyncio.sleep(self.delay)

        try:
            await self._supervise(o, message, run_id, session_id, record, emit, buffered)
        except Exception as exc:  # never leave the client waiting
            record["status"], record["error"] = "failed", f"{type(exc).__name__}: {exc}"
            out.put_nowait({"event": "error", "error": record["error"], "run_id": run_id})
        finally:
            record["completed_at"] = now()
            out.put_nowait(None)

    async def _supervise(
        self,
        o: Orchestration,
        message: str,
        run_id: str,
        session_id: str,
        record: dict[str, Any],
        emit: Any,
        buffered: list[str],
    ) -> None:
        s = Step()
        await emit(
            {
                "event": "start",
                "run_id": run_id,
                "session_id": session_id,
                "reasoning_requested": False,
            }
        )
        await emit(s.frame("orchestration_started", strategy=o.strategy, name=o.name))
        await emit(s.frame("step_started", step=1, is_last_step=False))
        lowered = message.lower()
        if "fail the supervisor" in lowered:
            await asyncio.sleep(self.delay * 4)
            await emit(s.frame("orchestration_completed", status="failed", steps=0, usage={}))
            record.update(status="failed", content="", error=SUPERVISOR_ERROR)
            await emit({"event": "chunk", "content": ""})
            await emit(
                {
                    "event": "complete",
                    "run_id": run_id,
                    "session_id": session_id,
                    "content": "",
                    "status": "failed",
                    "steps": 0,
                    "usage": {},
                    "error": SUPERVISOR_ERROR,
                }
            )
            return
        s.prompt += 120 + len(message) // 4
        agent = self._pick(o, lowered)
        steps = 1
        if agent is None:
            own = [
                "Hello! I am the Orbit Labs desk. ",
                "Ask me about plans, prices or policies and I hand the question to the ",
                "right agent.",
            ]
        else:
            steps = 2
            call_id = f"call_{new_id('d')[2:]}"
            task = message
            tool = f"delegate_to_{agent.id}"
            await emit(
                s.frame(
                    "tool_call", step=1, tool_name=tool, arguments={"task": task}, call_id=call_id
                )
            )
            answer, status, child_steps, usage, took = await self._delegate(
                agent, task, run_id, record, emit, s, broken="broken" in lowered
            )
            preview = answer[:200]
            await emit(
                s.frame(
                    "tool_result",
                    step=1,
                    tool_name=tool,
                    call_id=call_id,
                    result_preview=preview,
                    result_meta={"result_type": "text", "char_count": len(answer)},
                    duration_ms=took,
                )
            )
            record["tool_calls"].append(
                {
                    "step": 1,
                    "tool_name": tool,
                    "arguments": {"task": task},
                    "result": answer,
                    "duration_ms": took,
                }
            )
            await emit(
                s.frame("step_completed", step=1, finish_reason="tool_calls", has_tool_calls=True)
            )
            await emit(s.frame("step_started", step=2, is_last_step=False))
            s.prompt += 60 + len(answer) // 4
            if status == "failed":
                own = [f"{agent.name} could not answer: ", answer, " Please try again later."]
            else:
                first = answer.strip().split("\n")[0][:160]
                own = [f"I asked **{agent.name}** ({child_steps} steps). ", f"In short: {first}"]
        for piece in own:
            s.completion += max(1, len(piece) // 4)
            await emit({"event": "content_delta", "type": "content_delta", "delta": piece})
        await emit(s.frame("step_completed", step=steps, finish_reason="stop", has_tool_calls=[]))
        usage = usage_counts(s.prompt, s.completion)
        await emit(s.frame("orchestration_completed", status="completed", steps=steps, usage=usage))
        glued = "".join(buffered)  # the sub-agent's text glued before the supervisor's
        record.update(
            status="completed",
            content=glued,
            usage={k: v for k, v in usage.items() if k != "cache_creation_tokens"},
        )
        await emit({"event": "chunk", "content": glued})
        await emit(
            {
                "event": "complete",
                "run_id": run_id,
                "session_id": session_id,
                "content": glued,
                "status": "completed",
                "steps": steps,
                "usage": usage,
                "error": None,
            }
        )

    def _pick(self, o: Orchestration, lowered: str) -> Agent | None:
        """The agent a message goes to: tools for catalogue/policy questions, else the FAQ;
        a greeting is answered by the supervisor itself."""
        if not o.agents or re.fullmatch(r"\W*(hi|hello|hey)\W*", lowered):
            return None
        if any(word in lowered for word in TOOL_WORDS) or len(o.agents) == 1:
            return o.agents[0]
        return o.agents[-1]

    async def _delegate(
        self,
        agent: Agent,
        task: str,
        run_id: str,
        record: dict[str, Any],
        emit: Any,
        s: Step,
        *,
        broken: bool,
    ) -> tuple[str, str, int, dict[str, Any] | None, int]:
        """Run the sub-agent between delegation_started and delegation_completed; its frames
        go out unmarked, its seq and step from 1. (answer or error, status, steps, usage, ms)."""
        child_id = str(uuid.uuid4())
        began = datetime.now(timezone.utc)
        child = child_runs.begin(child_id, run_id, task, began.isoformat())
        self.store.children[child_id] = child
        await emit(
            s.frame("delegation_started", agent=agent.id, task=task, child_execution_id=child_id)
        )
        ctx = RunContext(agent_id=agent.id, run_id=child_id, session_id="", delay=self.delay)
        texts: list[str] = []
        child_events: list[dict[str, Any]] = []
        usage: dict[str, Any] | None = None
        steps = 0
        status = "completed"
        stepped = getattr(agent, "uses_tools", False)
        if not stepped or broken:  # a stepping agent starts its own step unless it breaks
            await emit(child_frame(ctx, "step_started", step=1, is_last_step=False))
        if broken:
            await asyncio.sleep(self.delay * 4)
            status, answer = "failed", SUPERVISOR_ERROR.replace("(demo)", "(demo sub-agent)")
        else:
            async for payload in agent.run(ctx, task):
                if not isinstance(payload, dict):
                    continue
                name = payload.get("event")
                if name in ("start", "chunk", "reasoning"):
                    continue
                if name == "complete":
                    usage = payload.get("usage") or ctx.usage
                    steps = payload.get("steps") or 0
                    break
                if name == "content_delta":
                    texts.append(payload.get("delta") or "")
                child_events.append({k: v for k, v in payload.items() if k != "event"})
                child["events"].append(child_events[-1])
                await emit(payload)
            if not stepped:
                await emit(
                    child_frame(
                        ctx, "step_completed", step=1, finish_reason="stop", has_tool_calls=None
                    )
                )
            steps = steps or 1
            usage = usage or ctx.usage or usage_counts(100, max(1, len("".join(texts)) // 4))
            answer = "".join(texts)
        took = int((datetime.now(timezone.utc) - began).total_seconds() * 1000)
        child_runs.finish(
            child,
            status=status,
            content=None if status == "failed" else answer,
            steps=0 if status == "failed" else steps,
            usage=None if status == "failed" else usage,
            error=answer if status == "failed" else None,
            completed_at=now(),
        )
        await emit(
            s.frame(
                "delegation_completed",
                agent=agent.id,
                child_execution_id=child_id,
                status=status,
                steps=0 if status == "failed" else steps,
                usage=None if status == "failed" else usage,
            )
        )
        record["child_runs"].append(
            {
                "run_id": child_id,
                "status": status,
                "steps": 0 if status == "failed" else steps,
                "content": None if status == "failed" else answer,
                "events": None if status == "failed" else child_events,
                "tool_calls": [],
                "usage": None if status == "failed" else usage,
                "model": getattr(agent, "model", "powabase-demo-1"),
            }
        )
        return answer, status, steps, usage, took
