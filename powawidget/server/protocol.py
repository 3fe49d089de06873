"""The contract between the server transport and its agents: a run's context and the agent shape.

The transport (app.py) builds one `RunContext` per run and relays what `Agent.run` yields;
agents (powawidget/server/agents, faults/) know nothing about HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
    approval_timeout: float = 300.0
    new_session: bool = True  # this run created its session
    seq: int = 0  # the last `seq` stamped on a loop frame of this run
    usage: dict | None = None  # what GET /api/agents/runs/{id} reports when complete has none
    reasoning_steps: list[dict] = field(default_factory=list)
    _decision: tuple[bool, str | None] | None = field(default=None, init=False, repr=False)
    _waiter: asyncio.Future[tuple[bool, str | None]] | None = field(
        default=None, init=False, repr=False
    )
    # The agent runs on a loop of its own (runs.off_the_loop); the decision comes from the
    # server's loop: the lock hands it over between the two threads.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def loop_frame(self, event: str, **fields: Any) -> dict[str, Any]:
        """A frame of the ReAct loop: `type` after `event`, then the fields, then seq and ts."""
        self.seq += 1
        ts = datetime.now(timezone.utc).isoformat()
        return {"event": event, "type": event, **fields, "seq": self.seq, "ts": ts}

    async def wait_for_approval(
        self, timeout: float | None = None
    ) -> tuple[bool | None, str | None]:
        """Wait for POST /api/agents/runs/{run_id}/approve: (approved, reason).

        After `timeout` seconds (default: the server's `approval_timeout`) the answer is
        (None, None): nobody decided.
        """
        with self._lock:
            if self._decision is not None:
                decision, self._decision = self._decision, None
                return decision
            waiter = self._waiter = asyncio.get_running_loop().create_future()
        wait = self.approval_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), wait)
        except asyncio.TimeoutError:
            return (None, None)
        finally:
            with self._lock:
                self._waiter = None

    def resolve_approval(self, approved: bool, reason: str | None = None) -> None:
        """Hand the user's decision to the waiting agent (or keep it until the agent asks);
        safe from any thread: the waiting agent's own loop sets the result."""
        decision = (bool(approved), reason)
        with self._lock:
            waiter = self._waiter
            if waiter is None or waiter.done():
                self._decision = decision
                return
        waiter.get_loop().call_soon_threadsafe(_settle, waiter, decision)


def _settle(
    waiter: asyncio.Future[tuple[bool, str | None]], decision: tuple[bool, str | None]
) -> None:
    """Give a waiting agent its decision (on the agent's loop), unless it stopped waiting."""
    if not waiter.done():
        waiter.set_result(decision)


READ_LIMIT = 20_000
"""Characters of a message the scripted agents read to decide what to do (a model has a
context window too): a 10 MB message costs them no more than a long question, and no
regular expression holds the server for seconds. Usage still counts the whole message."""


def readable(message: str) -> str:
    """The part of `message` an agent reads (its first `READ_LIMIT` characters)."""
    return message[:READ_LIMIT]


def delta_frame(event: str, **fields: Any) -> dict[str, Any]:
    """A streamed delta: `type` beside `event`, but no seq or ts (PROTOCOL "Framing")."""
    return {"event": event, "type": event, **fields}


def usage_counts(prompt: int, completion: int, reasoning: int = 0) -> dict[str, int]:
    """A run's usage with the six keys the backend reports, in its order (no cache use)."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "reasoning_tokens": reasoning,
        "cached_tokens": 0,
        "cache_creation_tokens": 0,
    }


@runtime_checkable
class Agent(Protocol):
    """An agent the local server can list and run; `run` yields event payloads in its dialect.

    Frames go out exactly as yielded: the agent shapes them by the framing rules of
    docs/protocol.md (`delta_frame` for deltas, `ctx.loop_frame` for ReAct loop frames,
    plain dicts for start, the terminal chunk and complete). To ask for approval, yield
    an `approval_requested` frame then `await ctx.wait_for_approval()`. An agent with tools
    sets `uses_tools = True` (optional attribute): only those runs get keepalive comments.
    Only the fault agents yield raw `bytes`, written to the wire as they are.
    """

    id: str
    name: str
    model: str
    system_prompt: str
    description: str
    dialect: Dialect

    def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any] | bytes]:
        """Answer `message`, yielding one event payload at a time."""
        ...
