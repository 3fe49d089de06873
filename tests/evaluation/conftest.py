"""Evaluation fixtures: the local server's key-bearing settings as keyword arguments."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def connection(local_server: Any) -> dict[str, str]:
    """base_url= and api_key= of the shared local server."""
    return {"base_url": local_server.base_url, "api_key": local_server.api_key}


def runs_seen(local_server: Any, agent_id: str) -> int:
    """How many runs the server has recorded for `agent_id` (GET /api/agents)."""
    from powawidget.wire.client import PowabaseClient

    with PowabaseClient(local_server.base_url, local_server.api_key) as client:
        agent = next(a for a in client.list_agents() if a["id"] == agent_id)
    return int(agent.get("total_runs") or 0)
