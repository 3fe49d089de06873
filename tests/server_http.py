"""HTTP helpers the server tests share: a keyed client and the run endpoint's path."""

from __future__ import annotations

from typing import Any

import httpx


def api(server: object, **options: Any) -> httpx.Client:
    """An httpx client sending the key in both headers (30 s timeout unless given)."""
    key = server.api_key  # type: ignore[attr-defined]
    options.setdefault("timeout", 30.0)
    return httpx.Client(
        base_url=server.base_url,  # type: ignore[attr-defined]
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        **options,
    )


def stream_path(agent_id: str) -> str:
    """The streaming run endpoint of an agent."""
    return f"/api/agents/{agent_id}/run/stream"
