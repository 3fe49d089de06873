"""The local server's orchestrations and what their runs leave behind, in memory.

`orch_demo` (a supervisor over two demo agents), its runs (the records `GET
/api/orchestrations/runs/{id}` answers), its sessions and its delegations' child runs. They
live as long as the server (docs/protocol.md, Orchestrations).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from powawidget.server.protocol import Agent
from powawidget.server.runs import new_id

ORCH_NAMESPACE = uuid.UUID("5c0a7f3e-2b41-4c9d-8e6f-1a2b3c4d5e6f")


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


class OrchestrationStore:
    """The orchestrations, their runs and sessions, and the delegations' child runs."""

    def __init__(self, agents: list[Agent], *, strict_ids: bool) -> None:
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
        self.strict_ids = strict_ids
        self.runs: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.children: dict[str, dict[str, Any]] = {}  # child_execution_id → agent-run record

    def id_of(self, o: Orchestration) -> str:
        """The id the REST answers show: the UUID with strict ids, else the slug."""
        return o.uuid if self.strict_ids else o.id

    def describe(self, o: Orchestration) -> dict[str, Any]:
        """An orchestration as `GET /api/orchestrations` lists it."""
        sessions = [s for s in self.sessions.values() if s["orchestration"] == o.id]
        runs = [r for r in self.runs.values() if r.get("orchestration_id") == self.id_of(o)]
        return {
            "id": self.id_of(o),
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

    def open_run(self, o: Orchestration, message: str, session_id: str) -> dict[str, Any]:
        """A new `running` record, filed under its session (created if new)."""
        run_id = new_id("orch_run")
        session = self.sessions.setdefault(
            session_id, {"orchestration": o.id, "created_at": now(), "runs": []}
        )
        session["runs"].append(run_id)
        record: dict[str, Any] = {
            "run_id": run_id,
            "orchestration_id": self.id_of(o),
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
        return record
