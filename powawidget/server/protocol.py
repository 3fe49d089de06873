"""The contract between the server transport and its agents: a run's context and the agent shape.

The transport (app.py) builds one `RunContext` per run and relays what `Agent.run` yields;
agents (powawidget/server/agents, faults/) know nothing about HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Dialect = Literal["server", "documented"]


@dataclass
class RunContext:
    """What an agent knows about the run it is answering: ids, earlier turns, pace, options."""

    agent_id: str
    run_id: str
    session_id: str
    history: list[dict] = field(default_factory=list)
    delay: float = 0.0
    options: dict = field(default_factory=dict)
    _decision: tuple[bool, str | None] | None = field(default=None, init=False, repr=False)
    _waiter: asyncio.Future[tuple[bool, str | None]] | None = field(
        default=None, init=False, repr=False
    )

    async def wait_for_approval(self, timeout: float = 300.0) -> tuple[bool, str | None]:
        """Wait for POST /api/agents/runs/{run_id}/approve; (False, "timed out") after timeout."""
        if self._decision is not None:
            decision, self._decision = self._decision, None
            return decision
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        try:
            return await asyncio.wait_for(asyncio.shield(self._waiter), timeout)
        except asyncio.TimeoutError:
            return (False, "timed out")
        finally:
            self._waiter = None

    def resolve_approval(self, approved: bool, reason: str | None = None) -> None:
        """Hand the user's decision to the waiting agent (or keep it until the agent asks)."""
        decision = (bool(approved), reason)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(decision)
        else:
            self._decision = decision


@runtime_checkable
class Agent(Protocol):
    """An agent the local server can list and run; `run` yields event payloads in its dialect.

    Payloads carry no transport fields: for the server dialect the transport adds `type`
    (= event), `seq` (from 0) and `ts` (ISO time) to every frame; documented-dialect payloads
    go out as they are. The agent puts run_id/session_id into start/complete itself (from
    ctx). The last event is `complete` (or `error`). To ask for approval, yield
    {"event": "approval_requested", ...} then `await ctx.wait_for_approval()`.
    """

    id: str
    name: str
    model: str
    system_prompt: str
    description: str
    dialect: Dialect

    def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Answer `message`, yielding one event payload at a time."""
        ...
