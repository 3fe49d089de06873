"""The local server's `/api/orchestrations…` routes: the REST views and the run stream.

The orchestration (`orch_demo`) and its stored runs and sessions are in
`orchestration_records`; one run's stream is in `orchestration_run`. An unknown UUID
answers 200 with one `error` frame; with strict ids a non-UUID id is the generic 500 page.
Runs and sessions live in memory (they go when the server stops).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from powawidget.server.orchestration_records import (
    ORCH_NAMESPACE,
    Orchestration,
    OrchestrationStore,
)
from powawidget.server.orchestration_run import Supervisor, drain, event_stream, frames_of
from powawidget.server.protocol import Agent
from powawidget.server.replies import error, json_body
from powawidget.server.runs import new_id

UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
GENERIC_500 = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error "
    "in the application.</p>\n"
)


class OrchestrationRoutes:
    """The `/api/orchestrations…` routes over an in-memory store of runs and sessions."""

    def __init__(self, agents: list[Agent], *, delay: float, strict_ids: bool) -> None:
        self.store = OrchestrationStore(agents, strict_ids=strict_ids)
        self.supervisor = Supervisor(self.store, delay=delay)
        self.strict_ids = strict_ids
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
            child = self.store.children.get(request.path_params["run_id"])
            if child is None:
                return await fallback(request)
            return JSONResponse(child)

        return handler

    # -- lookups --------------------------------------------------------------------------

    def find(self, oid: str) -> Orchestration | Response | None:
        """The orchestration an id names (`orch_demo` or its UUID); strict ids: a non-UUID
        id is the generic 500 page, as on the real backend."""
        if UUID_TEXT.match(oid):
            return next(
                (o for o in self.store.orchestrations if o.uuid == str(uuid.UUID(oid))), None
            )
        if self.strict_ids:
            return Response(GENERIC_500, status_code=500, media_type="text/html; charset=utf-8")
        return next((o for o in self.store.orchestrations if o.id == oid), None)

    def _found(self, request: Request) -> Orchestration | Response:
        found = self.find(request.path_params["oid"])
        return error(404, "Orchestration not found") if found is None else found

    # -- REST -----------------------------------------------------------------------------

    async def list_all(self, request: Request) -> Response:
        """GET /api/orchestrations → {"orchestrations": [...]}."""
        return JSONResponse(
            {"orchestrations": [self.store.describe(o) for o in self.store.orchestrations]}
        )

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
        body = {k: v for k, v in self.store.describe(o).items() if k != "session_count"}
        return JSONResponse({**body, "entities": entities, "orchestrator_config": {}})

    async def list_sessions(self, request: Request) -> Response:
        """GET /api/orchestrations/{id}/sessions → {"sessions": [...], "total"}."""
        o = self._found(request)
        if isinstance(o, Response):
            return o
        rows = []
        for sid, s in self.store.sessions.items():
            if s["orchestration"] != o.id:
                continue
            runs = [self.store.runs[r] for r in s["runs"]]
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
        session = self.store.sessions.get(request.path_params["sid"])
        if session is None or session["orchestration"] != o.id:
            return error(404, "Session not found")
        messages: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for run_id in session["runs"]:
            run = self.store.runs[run_id]
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
                "tool_calls": [
                    c for r in session["runs"] for c in self.store.runs[r]["tool_calls"]
                ],
            }
        )

    async def get_run(self, request: Request) -> Response:
        """GET /api/orchestrations/runs/{run_id}: the record with its `child_runs`."""
        run = self.store.runs.get(request.path_params["run_id"])
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
            return event_stream(frames_of([frame]))
        session_id = body.get("session_id") or new_id("orch_sess")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        task = asyncio.create_task(
            self.supervisor.drive(found, body["message"], str(session_id), queue)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return event_stream(drain(queue))
