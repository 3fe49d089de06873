"""Evaluation fixtures: the local server's key-bearing settings as keyword arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def connection(local_server: Any) -> dict[str, str]:
    """base_url= and api_key= of the shared local server."""
    return {"base_url": local_server.base_url, "api_key": local_server.api_key}


@pytest.fixture
def runs_seen(local_server: Any) -> Callable[[Any, str], int]:
    """`runs_seen(local_server, agent_id)`: the runs the server recorded (GET /api/agents)."""
    from powawidget.wire.client import PowabaseClient

    def count(server: Any, agent_id: str) -> int:
        with PowabaseClient(server.base_url, server.api_key) as client:
            agent = next(a for a in client.list_agents() if a["id"] == agent_id)
        return int(agent.get("total_runs") or 0)

    return count
