"""The local server's ASGI app: the Powabase agent-run API over Starlette.

Routes, auth and JSON shapes follow docs/protocol.md; the event stream itself is written
by `stream.EventStream` (framing, keepalives, wire faults), and runs live in `runs.Runs`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from powawidget.server.faults import FAULT_AGENTS
from powawidget.server.history import HistoryRoutes
from powawidget.server.orchestrations import OrchestrationRoutes
from powawidget.server.protocol import Agent
from powawidget.server.replies import (
    DEFAULT_MAX_BODY,
    BodyRefused,
    error,
    int_param,
    json_body,
    uuid_error_page,
)
from powawidget.server.runs import LiveRun, Runs
from powawidget.server.settings import DEFAULT_DELAY, DEFAULT_KEEPALIVE
from powawidget.server.store import Store, utc_now
from powawidget.server.stream import EventStream

log = logging.getLogger("powawidget.server")

AUTH_ERROR = (
    "Missing or invalid API key: send the key in both the `apikey: <key>` header and the "
    "`Authorization: Bearer <key>` header."
)
RUN_OPTIONS = (
    "temperature",
    "timeout_seconds",
    "max_context_tokens",
    "knowledge_bases",
    "context_override",
    "response_format",
    "citations_enabled",
    "runtime_knowledge_bases",
    "context_handler_id",
    "context_items",
)
NOT_WAITING = "Run not found or not waiting for approval"
CONTEXT_SOURCES = ("knowledge_bases", "context_handler_id", "context_override", "context_items")
TWO_CONTEXT_SOURCES = (
    "Only one of 'knowledge_bases', 'context_handler_id', 'context_override', or "
    "'context_items' may be provided"
)
AGENT_NAMESPACE = uuid.UUID("0f5e2c1a-93b4-4d7e-8a61-2c7d9e4b1f08")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def agent_uuid(agent_id: str) -> str:
    """The stable UUID of a built-in agent, accepted wherever its `agt_…` id is."""
    return str(uuid.uuid5(AGENT_NAMESPACE, agent_id))


def load_agents(*, faults: bool = False) -> list[Agent]:
    """The registry of powawidget.server.agents (agt_demo first), then the fault agents
    when `faults` is on (test fixtures, never part of the demo)."""
    try:
        from powawidget.server.agents import AGENTS
    except ImportError as exc:  # the registry is not there (yet): serve the faults alone
        if not (exc.name or "").startswith("powawidget.server.agents"):
            raise
        log.warning("no agent registry (%s): serving the fault agents only", exc)
        AGENTS = []
    demo = [agent for agent in AGENTS if agent.id == "agt_demo"]
    others = [agent for agent in AGENTS if agent.id != "agt_demo"]
    return [*demo, *others, *(FAULT_AGENTS if faults else [])]


class ServerApp(HistoryRoutes):
    """The routes, bound to one store, one set of runs and one API key (the session and
    stored-run routes are in history.py)."""

    def __init__(
        self,
        *,
        api_key: str,
        store: Store,
        delay: float,
        keepalive: float,
        agents: list[Agent],
        approval_timeout: float = 300.0,
        approve_misses: int = 0,
        strict_ids: bool = False,
    ) -> None:
        self.api_key = api_key
        self.store = store
        self.keepalive = keepalive
        self.strict_ids = strict_ids
        self.agents = {agent.id: agent for agent in agents}
        self.by_uuid = {agent_uuid(agent.id): agent for agent in agents}
        self.order = [agent.id for agent in agents]
        self.runs = Runs(
            store, delay=delay, approval_timeout=approval_timeout, approve_misses=approve_misses
        )
        self.created_at = utc_now()

    def find_agent(self, agent_id: str) -> Agent | Response | None:
        """The agent an id names (its `agt_…` id or its UUID); in strict mode a non-UUID id
        is the real backend's 500 HTML page; None when there is no such agent."""
        if UUID_TEXT.match(agent_id):
            return self.by_uuid.get(str(uuid.UUID(agent_id)))
        if self.strict_ids:
            return uuid_error_page(agent_id)
        return self.agents.get(agent_id)

    def authorised(self, request: Request) -> bool:
        """Both headers must carry the key (the most common client bug is sending one)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        apikey = request.headers.get("apikey", "")
        return (
            scheme.lower() == "bearer"
            and secrets.compare_digest(apikey.encode(), self.api_key.encode())
            and secrets.compare_digest(token.strip().encode(), self.api_key.encode())
        )

    def describe(self, agent: Agent, stats: dict | None) -> dict:
        """An agent as GET /api/agents lists it."""
        stats = stats or {"session_count": 0, "total_runs": 0, "last_run_at": None}
        settings = dict(getattr(agent, "settings", None) or {})
        settings.setdefault("dialect", agent.dialect)
        return {
            "id": agent_uuid(agent.id) if self.strict_ids else agent.id,
            "uuid": agent_uuid(agent.id),
            "slug": agent.id,
            "name": agent.name,
            "description": agent.description,
            "model": agent.model,
            "system_prompt": agent.system_prompt,
            "settings": settings,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            **stats,
        }

    # Routes ----------------------------------------------------------------------------

    async def list_agents(self, request: Request) -> Response:
        """GET /api/agents?limit=&offset=."""
        limit = int_param(request, "limit", 100)
        offset = int_param(request, "offset", 0)
        if limit is None or offset is None or limit < 0 or offset < 0:
            return error(400, "limit and offset must be non-negative integers")
        stats = await asyncio.to_thread(self.store.agent_stats)
        page = self.order[offset : offset + limit]
        agents = [self.describe(self.agents[i], stats.get(i)) for i in page]
        return JSONResponse(
            {"agents": agents, "total": len(self.order), "limit": limit, "offset": offset}
        )

    def _agent(self, request: Request) -> Agent | Response:
        """The agent of the path's {agent_id}, or the error response."""
        found = self.find_agent(request.path_params["agent_id"])
        return error(404, "Agent not found") if found is None else found

    async def get_agent(self, request: Request) -> Response:
        """GET /api/agents/{agent_id}."""
        agent = self._agent(request)
        if isinstance(agent, Response):
            return agent
        stats = await asyncio.to_thread(self.store.agent_stats)
        return JSONResponse(self.describe(agent, stats.get(agent.id)))

    async def approve(self, request: Request) -> Response:
        """POST /api/agents/runs/{run_id}/approve {"approved": bool, "reason"?: str}."""
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("approved"), bool):
            return error(400, 'Body must be a JSON object with a boolean "approved"')
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            return error(400, '"reason" must be a string')
        run_id = request.path_params["run_id"]
        if not await self.runs.approve(run_id, body["approved"], reason):
            return error(404, NOT_WAITING)
        return JSONResponse({"status": "resumed"})

    async def run_stream(self, request: Request) -> Response | EventStream:
        """POST /api/agents/{agent_id}/run/stream → the event stream."""
        started = await self._start(request)
        if isinstance(started, Response):
            return started
        return EventStream(started, keepalive=self.keepalive)

    async def run_blocking(self, request: Request) -> Response:
        """POST /api/agents/{agent_id}/run → the finished run as JSON (no stream): as GET
        /api/agents/runs/{run_id} shows it, but with the caller's session id."""
        started = await self._start(request)
        if isinstance(started, Response):
            return started
        assert started.task is not None
        await asyncio.shield(started.task)
        run = await asyncio.to_thread(self.store.get_run, started.run_id)
        assert run is not None  # the run's task stores it however it ends
        # As the stream's `complete` does, the answer names the session by the caller's id.
        return JSONResponse({**self._view(run), "session_id": started.ctx.session_id})

    async def _start(self, request: Request) -> Response | LiveRun:
        """Validate a run request and start the run, or answer with the HTTP error."""
        agent = self._agent(request)
        if isinstance(agent, Response):
            return agent
        body = await json_body(request)
        if not isinstance(body, dict):
            return error(400, 'Body must be a JSON object like {"message": "Hello"}')
        message = body.get("message")
        if not isinstance(message, str):
            return error(400, '"message" is required and must be a string')
        if not message.strip():
            return error(400, '"message" must not be empty')
        session_id = body.get("session_id")
        if session_id is not None and (not isinstance(session_id, str) or not session_id):
            return error(400, '"session_id" must be a non-empty string')
        reject = getattr(agent, "reject", None)
        rejection = reject(message) if reject is not None else None
        if rejection is not None:
            headers = {"content-type": rejection.content_type, **dict(rejection.headers)}
            return Response(rejection.body, status_code=rejection.status, headers=headers)
        options = {key: body[key] for key in RUN_OPTIONS if key in body}
        if sum(options.get(key) is not None for key in CONTEXT_SOURCES) > 1:
            return error(400, TWO_CONTEXT_SOURCES)
        return await self.runs.start(agent, message, session_id, options)


class Guarded:
    """A raw ASGI endpoint: check the key, then answer with what the handler returns.

    Handlers may return a Starlette response or an `EventStream` (itself an ASGI app).
    """

    def __init__(self, server: ServerApp, handler: Callable[[Request], Awaitable[Any]]) -> None:
        self.server = server
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request."""
        request = Request(scope, receive)
        if not self.server.authorised(request):
            response: Any = error(401, AUTH_ERROR)
        else:
            try:
                response = await self.handler(request)
            except BodyRefused as refused:  # too large, not Unicode, NaN, too deep: 400/413
                response = refused.response
        await response(scope, receive, send)


def create_app(
    *,
    api_key: str,
    db_path: str,
    delay: float = DEFAULT_DELAY,
    keepalive: float = DEFAULT_KEEPALIVE,
    agents: list[Agent] | None = None,
    faults: bool = False,
    approval_timeout: float = 300.0,
    approve_misses: int = 0,
    strict_ids: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
) -> Starlette:
    """The ASGI app serving the agents (default: `load_agents(faults=faults)`) from the
    SQLite file. `approval_timeout`: seconds a run waits for an approval; `approve_misses`:
    approve POSTs each run answers 404 before the right one (a multi-worker deployment);
    `strict_ids`: non-UUID agent ids get the real backend's 500 HTML page; `max_body`:
    bytes a request body may have (past it: 413)."""
    store = Store(db_path)
    store.fail_unfinished_runs()
    server = ServerApp(
        api_key=api_key,
        store=store,
        delay=delay,
        keepalive=keepalive,
        agents=load_agents(faults=faults) if agents is None else agents,
        approval_timeout=approval_timeout,
        approve_misses=approve_misses,
        strict_ids=strict_ids,
    )

    def guarded(handler: Callable[[Request], Awaitable[Any]]) -> Guarded:
        """The handler behind the API-key check."""
        return Guarded(server, handler)

    routes = [
        Route("/api/agents", guarded(server.list_agents), methods=["GET"]),
        Route("/api/agents/runs/{run_id}/approve", guarded(server.approve), methods=["POST"]),
        Route("/api/agents/{agent_id}", guarded(server.get_agent), methods=["GET"]),
        Route("/api/agents/{agent_id}/sessions", guarded(server.agent_sessions), methods=["GET"]),
        Route("/api/agents/{agent_id}/sessions", guarded(server.create_session), methods=["POST"]),
        Route(
            "/api/agents/{agent_id}/sessions/{session_id}",
            guarded(server.delete_session),
            methods=["DELETE"],
        ),
        Route("/api/agents/{agent_id}/run/stream", guarded(server.run_stream), methods=["POST"]),
        Route("/api/agents/{agent_id}/run", guarded(server.run_blocking), methods=["POST"]),
        Route(
            "/api/sessions/{session_id}/messages",
            guarded(server.session_messages),
            methods=["GET"],
        ),
        Route("/api/sessions/{session_id}/runs", guarded(server.session_runs), methods=["GET"]),
    ]

    orchestrations = OrchestrationRoutes(
        list(server.agents.values()), delay=delay, strict_ids=strict_ids
    )
    routes += orchestrations.routes(guarded)
    # A delegation's child run is an agent run too (o46); the agents' own runs otherwise.
    agent_run = orchestrations.agent_run_or(server.get_run)
    routes.insert(1, Route("/api/agents/runs/{run_id}", guarded(agent_run), methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """Close the store after cancelling the runs still in flight."""
        yield
        await server.runs.shutdown()
        store.close()

    async def http_error(request: Request, exc: Exception) -> Response:
        """Unknown paths and wrong methods answer JSON like the rest of the API."""
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error}
    )
    app.state.server = server
    app.state.max_body = max_body
    return app
