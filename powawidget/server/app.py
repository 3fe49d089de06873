"""The local server's ASGI app: the Powabase agent-run API over Starlette.

Routes, auth and JSON shapes follow shared/PROTOCOL.md; the event stream itself is written
by `stream.EventStream` (framing, keepalives, wire faults), and runs live in `runs.Runs`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
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
from powawidget.server.protocol import Agent
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
)


def load_agents() -> list[Agent]:
    """The registry of powawidget.server.agents (agt_demo first), then the fault agents."""
    try:
        from powawidget.server.agents import AGENTS
    except ImportError as exc:  # the registry is not there (yet): serve the faults alone
        if not (exc.name or "").startswith("powawidget.server.agents"):
            raise
        log.warning("no agent registry (%s): serving the fault agents only", exc)
        AGENTS = []
    demo = [agent for agent in AGENTS if agent.id == "agt_demo"]
    others = [agent for agent in AGENTS if agent.id != "agt_demo"]
    return [*demo, *others, *FAULT_AGENTS]


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A Powabase-style error body: {"error": message, ...}."""
    return JSONResponse({"error": message, **extra}, status_code=status)


class ServerApp:
    """The routes, bound to one store, one set of runs and one API key."""

    def __init__(
        self,
        *,
        api_key: str,
        store: Store,
        delay: float,
        keepalive: float,
        agents: list[Agent],
    ) -> None:
        self.api_key = api_key
        self.store = store
        self.keepalive = keepalive
        self.agents = {agent.id: agent for agent in agents}
        self.order = [agent.id for agent in agents]
        self.runs = Runs(store, delay=delay)
        self.created_at = utc_now()

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
            "id": agent.id,
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
        limit = _int_param(request, "limit", 100)
        offset = _int_param(request, "offset", 0)
        if limit is None or offset is None or limit < 0 or offset < 0:
            return error(400, "limit and offset must be non-negative integers")
        stats = await asyncio.to_thread(self.store.agent_stats)
        page = self.order[offset : offset + limit]
        agents = [self.describe(self.agents[i], stats.get(i)) for i in page]
        return JSONResponse(
            {"agents": agents, "total": len(self.order), "limit": limit, "offset": offset}
        )

    async def get_agent(self, request: Request) -> Response:
        """GET /api/agents/{agent_id}."""
        agent = self.agents.get(request.path_params["agent_id"])
        if agent is None:
            return error(404, "Agent not found")
        stats = await asyncio.to_thread(self.store.agent_stats)
        return JSONResponse(self.describe(agent, stats.get(agent.id)))

    async def agent_sessions(self, request: Request) -> Response:
        """GET /api/agents/{agent_id}/sessions."""
        agent_id = request.path_params["agent_id"]
        if agent_id not in self.agents:
            return error(404, "Agent not found")
        sessions = await asyncio.to_thread(self.store.agent_sessions, agent_id)
        limit = _int_param(request, "limit", 100) or 100
        offset = _int_param(request, "offset", 0) or 0
        return JSONResponse(
            {
                "agent_id": agent_id,
                "sessions": sessions[offset : offset + limit],
                "total": len(sessions),
                "limit": limit,
                "offset": offset,
            }
        )

    async def session_messages(self, request: Request) -> Response:
        """GET /api/sessions/{session_id}/messages (completed runs only)."""
        session_id = request.path_params["session_id"]
        if not await asyncio.to_thread(self.store.session_exists, session_id):
            return error(404, "Session not found")
        messages = await asyncio.to_thread(self.store.session_messages, session_id)
        return JSONResponse({"session_id": session_id, "messages": messages})

    async def get_run(self, request: Request) -> Response:
        """GET /api/agents/runs/{run_id}."""
        run = await asyncio.to_thread(self.store.get_run, request.path_params["run_id"])
        if run is None:
            return error(404, "Run not found")
        return JSONResponse(run)

    async def approve(self, request: Request) -> Response:
        """POST /api/agents/runs/{run_id}/approve {"approved": bool, "reason"?: str}."""
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("approved"), bool):
            return error(400, 'Body must be a JSON object with a boolean "approved"')
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            return error(400, '"reason" must be a string')
        run_id = request.path_params["run_id"]
        if not await self.runs.approve(run_id, body["approved"], reason):
            return error(404, "Run is not waiting for approval", run_id=run_id)
        return JSONResponse({"status": "resumed", "run_id": run_id})

    async def run_stream(self, request: Request) -> Response | EventStream:
        """POST /api/agents/{agent_id}/run/stream → the event stream."""
        started = await self._start(request)
        if isinstance(started, Response):
            return started
        return EventStream(started, keepalive=self.keepalive)

    async def run_blocking(self, request: Request) -> Response:
        """POST /api/agents/{agent_id}/run → the finished run as JSON (no stream)."""
        started = await self._start(request)
        if isinstance(started, Response):
            return started
        assert started.task is not None
        await asyncio.shield(started.task)
        run = await asyncio.to_thread(self.store.get_run, started.run_id)
        return JSONResponse(run)

    async def _start(self, request: Request) -> Response | LiveRun:
        """Validate a run request and start the run, or answer with the HTTP error."""
        agent = self.agents.get(request.path_params["agent_id"])
        if agent is None:
            return error(404, "Agent not found")
        body = await _json_body(request)
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
            response = await self.handler(request)
        await response(scope, receive, send)


async def _json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is not JSON."""
    try:
        return json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _int_param(request: Request, name: str, default: int) -> int | None:
    """An integer query parameter (None when not an integer)."""
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return None


def create_app(
    *,
    api_key: str,
    db_path: str,
    delay: float = DEFAULT_DELAY,
    keepalive: float = DEFAULT_KEEPALIVE,
    agents: list[Agent] | None = None,
) -> Starlette:
    """The ASGI app serving the agents (default: `load_agents()`) from the SQLite file."""
    store = Store(db_path)
    store.fail_unfinished_runs()
    server = ServerApp(
        api_key=api_key,
        store=store,
        delay=delay,
        keepalive=keepalive,
        agents=load_agents() if agents is None else agents,
    )

    def guarded(handler: Callable[[Request], Awaitable[Any]]) -> Guarded:
        """The handler behind the API-key check."""
        return Guarded(server, handler)

    routes = [
        Route("/api/agents", guarded(server.list_agents), methods=["GET"]),
        Route("/api/agents/runs/{run_id}", guarded(server.get_run), methods=["GET"]),
        Route("/api/agents/runs/{run_id}/approve", guarded(server.approve), methods=["POST"]),
        Route("/api/agents/{agent_id}", guarded(server.get_agent), methods=["GET"]),
        Route("/api/agents/{agent_id}/sessions", guarded(server.agent_sessions), methods=["GET"]),
        Route("/api/agents/{agent_id}/run/stream", guarded(server.run_stream), methods=["POST"]),
        Route("/api/agents/{agent_id}/run", guarded(server.run_blocking), methods=["POST"]),
        Route(
            "/api/sessions/{session_id}/messages",
            guarded(server.session_messages),
            methods=["GET"],
        ),
    ]

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
    return app
