"""The routes over stored history: an agent's sessions (list, create, delete), a session's
messages and runs, and one stored run (docs/protocol.md, "Other endpoints")."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from powawidget.server.replies import error, int_param, json_body
from powawidget.server.runs import new_id
from powawidget.server.views import run_view, session_view

if TYPE_CHECKING:
    from powawidget.server.protocol import Agent
    from powawidget.server.runs import Runs
    from powawidget.server.store import Store


class HistoryRoutes:
    """Route handlers of ServerApp that read and change stored sessions and runs."""

    store: Store
    runs: Runs
    agents: dict[str, Agent]

    def _agent(self, request: Request) -> Agent | Response:
        """The path's agent or the error answer (ServerApp resolves ids and UUIDs)."""
        raise NotImplementedError

    async def agent_sessions(self, request: Request) -> Response:
        """GET /api/agents/{agent_id}/sessions?limit=&offset= → {"sessions", "total",
        "limit", "offset"}; each session is {"session_id", "first_message", "created_at",
        "last_activity_at", "run_count"}, most recently active first."""
        agent = self._agent(request)
        if isinstance(agent, Response):
            return agent
        sessions = await asyncio.to_thread(self.store.agent_sessions, agent.id)
        limit = int_param(request, "limit", 100) or 100
        offset = int_param(request, "offset", 0) or 0
        return JSONResponse(
            {
                "sessions": [session_view(s) for s in sessions[offset : offset + limit]],
                "total": len(sessions),
                "limit": limit,
                "offset": offset,
            }
        )

    async def create_session(self, request: Request) -> Response:
        """POST /api/agents/{agent_id}/sessions {"session_id"?, "initial_messages"?: [{role,
        content}]} → 201 with the new session (as GET …/sessions lists it, plus
        message_count); its messages are the history of the session's first run."""
        agent = self._agent(request)
        if isinstance(agent, Response):
            return agent
        body = await json_body(request)
        body = {} if body is None else body
        if not isinstance(body, dict):
            return error(400, 'Body must be a JSON object like {"initial_messages": []}')
        messages = body.get("initial_messages") or []
        valid = isinstance(messages, list) and all(
            isinstance(m, dict)
            and m.get("role") in ("user", "assistant", "system")
            and isinstance(m.get("content"), str)
            for m in messages
        )
        if not valid:
            return error(
                400,
                '"initial_messages" must be a list of {"role": "user"|"assistant"|"system", '
                '"content": "..."}',
            )
        session_id = body.get("session_id") or new_id("sess")
        if not isinstance(session_id, str):
            return error(400, '"session_id" must be a non-empty string')
        if await asyncio.to_thread(self.store.session_agent, session_id) is not None:
            return error(409, "Session already exists")
        clean = [{"role": m["role"], "content": m["content"]} for m in messages]
        session = await asyncio.to_thread(self.store.create_session, session_id, agent.id, clean)
        return JSONResponse(session_view(session), status_code=201)

    async def delete_session(self, request: Request) -> Response:
        """DELETE /api/agents/{agent_id}/sessions/{session_id} → {"deleted": true, ...}."""
        agent = self._agent(request)
        if isinstance(agent, Response):
            return agent
        session_id = request.path_params["session_id"]
        if any(run.ctx.session_id == session_id for run in self.runs.live.values()):
            return error(409, "Session has a run in progress")
        if not await asyncio.to_thread(self.store.delete_session, session_id, agent.id):
            return error(404, "Session not found")
        return JSONResponse({"deleted": True, "session_id": session_id})

    async def session_messages(self, request: Request) -> Response:
        """GET /api/sessions/{session_id}/messages → {"session_id", "messages"}: {role,
        content, run_id, timestamp} from completed runs only; an unknown session is 200 with
        no messages."""
        session_id = request.path_params["session_id"]
        messages = await asyncio.to_thread(self.store.session_messages, session_id)
        return JSONResponse({"session_id": session_id, "messages": messages})

    async def session_runs(self, request: Request) -> Response:
        """GET /api/sessions/{session_id}/runs?limit=&offset= → {"session_id", "runs",
        "limit", "offset"}: the session's runs (failed and running ones too), oldest first,
        each as a listing shows a run (views.run_view)."""
        session_id = request.path_params["session_id"]
        runs = await asyncio.to_thread(self.store.session_runs, session_id)
        limit = int_param(request, "limit", 100) or 100
        offset = int_param(request, "offset", 0) or 0
        page = [self._view(run, listed=True) for run in runs[offset : offset + limit]]
        return JSONResponse(
            {"session_id": session_id, "runs": page, "limit": limit, "offset": offset}
        )

    async def get_run(self, request: Request) -> Response:
        """GET /api/agents/runs/{run_id} (see views.run_view)."""
        run = await asyncio.to_thread(self.store.get_run, request.path_params["run_id"])
        if run is None:
            return error(404, "Run not found")
        return JSONResponse(self._view(run))

    def _view(self, run: dict, *, listed: bool = False) -> dict:
        """A stored run as the API shows it; a run in flight shows the frames sent so far."""
        live = self.runs.live.get(run["run_id"])
        frames = list(live.frames) if live is not None else None
        agent = self.agents.get(run["agent_id"]) if listed else None
        model = getattr(agent, "model", None)
        return run_view(run, frames, listed=listed, model=model)
