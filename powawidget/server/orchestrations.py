"""The local server's orchestration: `orch_demo`, a supervisor over two demo agents.

It streams what the real backend was recorded sending (docs/protocol.md, Orchestrations):
`orchestration_started`, the delegate tool call, `delegation_started`, the sub-agent's own
frames (really run by `agt_demo` or `agt_plain`, their `seq` and `step` restarting at 1),
`delegation_completed`, the delegate tool's result, the supervisor's answer,
`orchestration_completed`, then `chunk`/`complete` **holding every delta glued together**
(the server's bug, kept so clients meet it here). No `Cache-Control`/`X-Accel-Buffering`.
Failures as recorded: "fail the supervisor" fails the orchestrator's model call
(no `error` event); "broken" makes the sub-agent fail (the orchestration still completes).
An unknown UUID answers 200 with one `error` frame; with strict ids a non-UUID id is the
generic 500 page. Runs and sessions live in memory (they go when the server stops).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from powawidget.server import child_runs
from powawidget.server.protocol import Agent, RunContext, usage_counts
from powawidget.server.replies import error, json_body
from powawidget.server.runs import encode_json, new_id

ORCH_NAMESPACE = uuid.UUID("5c0a7f3e-2b41-4c9d-8e6f-1a2b3c4d5e6f")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
GENERIC_500 = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error "
    "in the application.</p>\n"
)
SUPERVISOR_ERROR = (
    "litellm.InternalServerError: InternalServerError: OpenAIException - Internal error (demo)"
)
TOOL_WORDS = ("plan", "price", "cost", "product", "catalogue", "policy", "refund", "trial")


def now() -> str:
    """The backend's timestamps: ISO 8601 with microseconds and +00:00."""
    return datetime.now(timezone.utc).isoformat()


@dataclass
class Orchestration:
    """One orchestration: its id, name and the agents it may delegate to (in order)."""

    id: str
    name: str
    description: str
    agents: list[Agent]
    strategy: str = "supervisor"
    created_at: str = field(default_factory=now)

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(ORCH_NAMESPACE, self.id))


@dataclass
class Step:
    """The supervisor's counters: loop frames' seq, its steps, its own usage."""

    seq: int = 0
    prompt: int = 0
    completion: int = 0

    def frame(self, event: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        return {"event": event, "type": event, **fields, "seq": self.seq, "ts": now()}


class OrchestrationRoutes:
    """The `/api/orchestrations…` routes over an in-memory store of runs and sessions."""

    def __init__(self, agents: list[Agent], *, delay: float, strict_ids: bool) -> None:
        by_id = {a.id: a for a in agents}
        members = [by_id[i] for i in ("agt_demo", "agt_plain") if i in by_id]
        self.orchestrations = [
            Orchestration(
                id="orch_demo",
                name="orbit-desk",
                description="A supervisor that hands questions to the Orbit Labs agents",
                agents=members,
            )
        ]
        self.delay = delay
        self.strict_ids = strict_ids
        self.runs: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.children: dict[str, dict[str, Any]] = {}  # child_execution_id → agent-run record
        self.tasks: set[asyncio.Task[None]] = set()

    def routes(self, guarded: Any) -> list[Route]:
        """The routes, each behind the server's key check (`guarded`)."""
        return [
            Route("/api/orchestrations", guarded(self.list_all), methods=["GET"]),
            Route("/api/orchestrations/runs/{run_id}", guarded(self.get_run), methods=["GET"]),
            Route("/api/orchestrations/{oid}", guarded(self.get), methods=["GET"]),
            Route(
                "/api/orchestrations/{oid}/sessions", guarded(self.list_sessions), methods=["GET"]
            ),
            Route(
                "/api/orchestrations/{oid}/sessions/{sid}/messages",
                guarded(self.messages),
                methods=["GET"],
            ),
            Route(
                "/api/orchestrations/{oid}/run/stream", guarded(self.run_stream), methods=["POST"]
            ),
        ]

    def agent_run_or(self, fallback: Any) -> Any:
        """GET /api/agents/runs/{run_id}: a delegation's child run (o46's shape), else the
        agents' own runs (`fallback`)."""

        async def handler(request: Request) -> Response:
            child = self.children.get(request.path_params["run_id"])
            if child is None:
                return await fallback(request)
            return JSONResponse(child)

        return handler

    # -- lookups --------------------------------------------------------------------------

    def find(self, oid: str) -> Orchestration | Response | None:
        """The orchestration an id names (`orch_demo` or its UUID); strict ids: a non-UUID
        id is the generic 500 page, as on the real backend."""
        if UUID_TEXT.match(oid):
            return next((o for o in self.orchestrations if o.uuid == str(uuid.UUID(oid))), None)
        if self.strict_ids:
            return Response(GENERIC_500, status_code=500, media_type="text/html; charset=utf-8")
        return next((o for o in self.orchestrations if o.id == oid), None)

    def _found(self, request: Request) -> Orchestration | Response:
        found = self.find(request.path_params["oid"])
        return error(404, "Orchestration not found") if found is None else found

    def describe(self, o: Orchestration) -> dict[str, Any]:
        sessions = [s for s in self.sessions.values() if s["orchestration"] == o.id]
        runs = [r for r in self.runs.values() if r.get("orchestration_id") == self._id(o)]
        return {
            "id": self._id(o),
            "slug": o.id,
            "name": o.name,
            "description": o.description,
            "strategy": o.strategy,
            "entity_count": len(o.agents),
            "session_count": len(sessions),
            "last_run_at": max((r["started_at"] for r in runs), default=None),
            "settings": {"max_steps": 10, "model": "powabase-demo-1"},
            "created_at": o.created_at,
            "updated_at": o.created_at,
        }

    def _id(self, o: Orchestration) -> str:
        return o.uuid if self.strict_ids else o.id

    # -- REST -----------------------------------------------------------------------------

    async def list_all(self, request: Request) -> Response:
        """GET /api/orchestrations → {"orchestrations": [...]}."""
        return JSONResponse({"orchestrations": [self.describe(o) for o in self.orchestrations]})

    async def get(self, request: Request) -> Response:
        """GET /api/orchestrations/{id}: with its `entities` (the agents it holds)."""
        o = self._found(request)
        if isinstance(o, Response):
            return o
        entities = [
            {
                "id": str(uuid.uuid5(ORCH_NAMESPACE, f"{o.id}/{a.id}")),
                "entity_type": "agent",
                "entity_ref_id": a.id,
                "position": n,
                "role_description": a.description,
                "config": {},
            }
            for n, a in enumerate(o.agents)
        ]
        body = {k: v for k, v in self.describe(o).items() if k != "session_count"}
        return JSONResponse({**body, "entities": entities, "orchestrator_config": {}})

    async def list_sessions(self, request: Request) -> Response:
        """GET /api/orchestrations/{id}/sessions → {"sessions": [...], "total"}."""
        o = self._found(request)
        if isinstance(o, Response):
            return o
        rows = []
        for sid, s in self.sessions.items():
            if s["orchestration"] != o.id:
                continue
            runs = [self.runs[r] for r in s["runs"]]
            rows.append(
                {
                    "session_id": sid,
                    "run_count": len(runs),
                    "first_message": runs[0]["message"] if runs else None,
                    "last_activity_at": max(
                        (r["completed_at"] or r["started_at"] for r in runs), default=None
                    ),
                    "created_at": s["created_at"],
                }
            )
        rows.sort(key=lambda r: r["created_at"], reverse=True)
        return JSONResponse({"sessions": rows, "total": len(rows)})

    async def messages(self, request: Request) -> Response:
        """GET …/sessions/{sid}/messages: user and assistant messages (with run_id and the
        stored events), the session's events and tool calls; 404 for an unknown session."""
        o = self._found(request)
        if isinstance(o, Response):
            return o
        session = self.sessions.get(request.path_params["sid"])
        if session is None or session["orchestration"] != o.id:
            return error(404, "Session not found")
        messages: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for run_id in session["runs"]:
            run = self.runs[run_id]
            if run["status"] == "running":
                continue
            content = run["content"] if run["status"] == "completed" else f"Error: {run['error']}"
            messages.append({"role": "user", "content": run["message"]})
            messages.append(
                {
                    "role": "assistant",
                    "content": content,
                    "run_id": run_id,
                    "events": run["events"],
                }
            )
            events.extend(run["events"])
        return JSONResponse(
            {
                "session_id": request.path_params["sid"],
                "messages": messages,
                "events": events,
                "tool_calls": [c for r in session["runs"] for c in self.runs[r]["tool_calls"]],
            }
        )

    async def get_run(self, request: Request) -> Response:
        """GET /api/orchestrations/runs/{run_id}: the record with its `child_runs`."""
        run = self.runs.get(request.path_params["run_id"])
        if run is None:
            return error(404, "Run not found")
        keys = (
            "run_id",
            "orchestration_id",
            "status",
            "content",
            "events",
            "usage",
            "model",
            "error",
            "started_at",
            "completed_at",
            "child_runs",
        )
        return JSONResponse({k: run[k] for k in keys})

    # -- the run --------------------------------------------------------------------------

    async def run_stream(self, request: Request) -> Response:
        """POST /api/orchestrations/{id}/run/stream → the event stream (as recorded)."""
        found = self.find(request.path_params["oid"])
        if isinstance(found, Response):
            return found
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return error(400, "message is required")
        if found is None:  # a 200 with one error frame, no start (as recorded)
            frame = {
                "event": "error",
                "error": f"Orchestration {request.path_params['oid']} not found",
            }
            return self._stream(_frames([frame]))
        session_id = body.get("session_id") or new_id("orch_sess")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        task = asyncio.create_task(self._drive(found, body["message"], str(session_id), queue))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return self._stream(_drain(queue))

    def _stream(self, frames: AsyncIterator[dict[str, Any]]) -> Response:
        async def body() -> AsyncIterator[bytes]:
            async for frame in frames:
                yield f"data: {encode_json(frame)}\n\n".encode()

        # No Cache-Control / X-Accel-Buffering: orchestration streams lack them.
        return StreamingResponse(body(), media_type="text/event-stream; charset=utf-8")

    async def _drive(
        self, o: Orchestration, message: str, session_id: str, out: asyncio.Queue[Any]
    ) -> None:
        """Run the supervisor; every frame goes to the stream's queue and the record."""
        run_id = new_id("orch_run")
        session = self.sessions.setdefault(
            session_id, {"orchestration": o.id, "created_at": now(), "runs": []}
        )
        session["runs"].append(run_id)
        record: dict[str, Any] = {
            "run_id": run_id,
            "orchestration_id": self._id(o),
            "message": message,
            "status": "running",
            "content": None,
            "events": [],
            "usage": None,
            "model": "powabase-demo-1",
            "error": None,
            "started_at": now(),
            "completed_at": None,
            "child_runs": [],
            "tool_calls": [],
        }
        self.runs[run_id] = record
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
        self.children[child_id] = child
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
        if not stepped:
            ctx.seq += 1
            await emit(
                {
                    "event": "step_started",
                    "type": "step_started",
                    "step": 1,
                    "is_last_step": False,
                    "seq": ctx.seq,
                    "ts": now(),
                }
            )
        if broken:
            if stepped:
                ctx.seq += 1
                await emit(
                    {
                        "event": "step_started",
                        "type": "step_started",
                        "step": 1,
                        "is_last_step": False,
                        "seq": ctx.seq,
                        "ts": now(),
                    }
                )
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
                ctx.seq += 1
                await emit(
                    {
                        "event": "step_completed",
                        "type": "step_completed",
                        "step": 1,
                        "finish_reason": "stop",
                        "has_tool_calls": None,
                        "seq": ctx.seq,
                        "ts": now(),
                    }
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


async def _frames(frames: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for frame in frames:
        yield frame


async def _drain(queue: asyncio.Queue[Any]) -> AsyncIterator[dict[str, Any]]:
    """The run's frames until its end (the run goes on if the client leaves)."""
    while True:
        frame = await queue.get()
        if frame is None:
            return
        yield frame
