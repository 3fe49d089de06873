"""The project's records, one method per endpoint: agents, sessions and their history
(messages, runs), orchestrations and their sessions and runs.

`Listings` is `PowabaseClient`'s half that reads what the project holds (powawidget.wire.client
adds runs and approvals); it also words a wrong id's 404 with the ids a chosen server has.
"""

from __future__ import annotations

from typing import Any

from powawidget.wire.advice import agent_id_advice, agent_not_found_advice
from powawidget.wire.errors import NotFoundError, PowabaseError
from powawidget.wire.orchestrations import (
    is_orchestration,
    orchestration_id_advice,
    orchestration_not_found_advice,
    orchestration_run_not_found_advice,
    orchestration_session_not_found_advice,
)
from powawidget.wire.transport import Transport, segment

__all__ = ["Listings"]


class Listings(Transport):
    """Agents, sessions, history and orchestrations over the transport (see `PowabaseClient`)."""

    # -- a wrong id -------------------------------------------------------------------------

    def _ids_here(self, error: NotFoundError, *, orchestration: bool = False) -> NotFoundError:
        """On a server powawidget chose (`origin`: the built-in local one) a wrong id's 404
        lists the ids it has, instead of sending the user to Powabase Studio (no account
        there). Anywhere else, or when the list cannot be read, the error is left as it is."""
        advice = (
            orchestration_not_found_advice(self.audience)
            if orchestration
            else agent_not_found_advice(self.audience)
        )
        if advice in error.message:
            error.message = error.message.replace(
                advice, self.not_found_advice(orchestration=orchestration)
            )
        return error

    def not_found_advice(self, *, orchestration: bool = False) -> str:
        """What to do about an id this server does not know, in the reader's terms: on a
        server powawidget chose (`origin`) the ids it has, else where to find the right one."""
        kind = "orchestration" if orchestration else "agent"
        if self.origin is not None:
            try:
                listed = self.list_orchestrations() if orchestration else self.list_agents()
            except PowabaseError:
                listed = []
            ids = [str(item["id"]) for item in listed if isinstance(item.get("id"), str)]
            if ids:
                return f"Check the {kind} id: {self.origin} has {', '.join(ids)}."
        if orchestration:
            return orchestration_not_found_advice(self.audience)
        return agent_not_found_advice(self.audience)

    # -- agents and sessions ----------------------------------------------------------------

    def list_agents(self) -> list[dict[str, Any]]:
        """The project's agents (id, name, model, …), in the server's order."""
        data = self._json("GET", "/api/agents", subject="The agent list")
        return self._items(data, "agents", "GET /api/agents")

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        """One agent's settings."""
        try:
            return self._get_agent(agent_id)
        except NotFoundError as error:
            raise self._ids_here(error) from None

    def _get_agent(self, agent_id: str) -> dict[str, Any]:
        return self._json(
            "GET",
            f"/api/agents/{segment(agent_id)}",
            subject=f"Agent {agent_id!r}",
            not_found_advice=agent_not_found_advice(self.audience),
            bad_id_advice=agent_id_advice(self.audience),
            agent_id=agent_id,
        )

    def list_sessions(self, agent_id: str) -> list[dict[str, Any]]:
        """An agent's sessions (session_id, run_count, last activity, …), every page (an
        orchestration's, for an `OrchestrationId`)."""
        if is_orchestration(agent_id):
            return self.orchestration_sessions(agent_id)
        return self._pages(
            f"/api/agents/{segment(agent_id)}/sessions",
            "sessions",
            subject=f"Agent {agent_id!r}",
            not_found_advice=agent_not_found_advice(self.audience),
            bad_id_advice=agent_id_advice(self.audience),
            agent_id=agent_id,
        )

    agent_sessions = list_sessions  # the name earlier versions used

    def create_session(
        self, agent_id: str, initial_messages: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Open a session for an agent, optionally seeded with messages ({role, content})."""
        body: dict[str, Any] = {}
        if initial_messages is not None:
            body["initial_messages"] = list(initial_messages)
        return self._json(
            "POST",
            f"/api/agents/{segment(agent_id)}/sessions",
            json_body=body,
            subject=f"Agent {agent_id!r}",
            not_found_advice=agent_not_found_advice(self.audience),
            bad_id_advice=agent_id_advice(self.audience),
            agent_id=agent_id,
            resend_advice="The session may exist already: list the agent's sessions first.",
        )

    def delete_session(self, agent_id: str, session_id: str) -> dict[str, Any]:
        """Delete one of an agent's sessions and its runs."""
        return self._json(
            "DELETE",
            f"/api/agents/{segment(agent_id)}/sessions/{segment(session_id)}",
            subject=f"Session {session_id!r} of agent {agent_id!r}",
            not_found_advice="Check the session id: the agent's sessions list shows them.",
            bad_id_advice=agent_id_advice(self.audience),
            agent_id=agent_id,
        )

    def session_messages(self, session_id: str) -> list[dict[str, Any]]:
        """A session's messages from completed runs: role, content, run_id, timestamp."""
        path = f"/api/sessions/{segment(session_id)}/messages"
        data = self._json(
            "GET",
            path,
            subject=f"Session {session_id!r}",
            not_found_advice="Check the session id: the agent's sessions list shows them.",
        )
        return self._items(data, "messages", f"GET {path}")

    def get_session_runs(self, session_id: str) -> list[dict[str, Any]]:
        """Every run of a session, oldest first (failed and running ones too), each with its
        stored `events` and `tool_calls`; every page."""
        return self._pages(
            f"/api/sessions/{segment(session_id)}/runs",
            "runs",
            subject=f"Session {session_id!r}",
            not_found_advice="Check the session id: the agent's sessions list shows them.",
        )

    # -- orchestrations (docs/protocol.md, Orchestrations) ------------------------------------

    def list_orchestrations(self) -> list[dict[str, Any]]:
        """The project's orchestrations (id, name, strategy, entity_count, …)."""
        data = self._json("GET", "/api/orchestrations", subject="The orchestration list")
        return self._items(data, "orchestrations", "GET /api/orchestrations")

    def get_orchestration(self, orchestration_id: str) -> dict[str, Any]:
        """One orchestration: its settings and the agents it holds (`entities`)."""
        try:
            return self._get_orchestration(orchestration_id)
        except NotFoundError as error:
            raise self._ids_here(error, orchestration=True) from None

    def _get_orchestration(self, orchestration_id: str) -> dict[str, Any]:
        return self._json(
            "GET",
            f"/api/orchestrations/{segment(orchestration_id)}",
            subject=f"Orchestration {str(orchestration_id)!r}",
            not_found_advice=orchestration_not_found_advice(self.audience),
            bad_id_advice=orchestration_id_advice(self.audience),
            agent_id=orchestration_id,
        )

    def orchestration_sessions(self, orchestration_id: str) -> list[dict[str, Any]]:
        """An orchestration's sessions (session_id, run_count, first_message, …), every page."""
        return self._pages(
            f"/api/orchestrations/{segment(orchestration_id)}/sessions",
            "sessions",
            subject=f"Orchestration {str(orchestration_id)!r}",
            not_found_advice=orchestration_not_found_advice(self.audience),
            bad_id_advice=orchestration_id_advice(self.audience),
            agent_id=orchestration_id,
        )

    def orchestration_session_messages(
        self, orchestration_id: str, session_id: str
    ) -> dict[str, Any]:
        """A session of an orchestration: `{session_id, messages, events, tool_calls}` (each
        assistant message has its run_id and stored events). 404 for an unknown session."""
        return self._json(
            "GET",
            f"/api/orchestrations/{segment(orchestration_id)}/sessions/"
            f"{segment(session_id)}/messages",
            subject=f"Session {session_id!r} of orchestration {str(orchestration_id)!r}",
            not_found_advice=orchestration_session_not_found_advice(self.audience),
            bad_id_advice=orchestration_id_advice(self.audience),
            agent_id=orchestration_id,
        )

    def get_orchestration_run(self, run_id: str) -> dict[str, Any]:
        """A stored orchestration run (`orch_run_…`) with its `child_runs`; a child run is
        also `get_run(child_execution_id)`."""
        return self._json(
            "GET",
            f"/api/orchestrations/runs/{segment(run_id)}",
            subject=f"Orchestration run {run_id!r}",
            not_found_advice=orchestration_run_not_found_advice(self.audience),
        )
