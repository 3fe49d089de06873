"""Runs in flight: drive an agent in a background task, stamp its frames, store the result.

A run is independent of the HTTP response that started it: if the client goes away, the
run still finishes and is stored (as Powabase does). The response only reads the frames
from the run's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from powawidget.server.protocol import Agent, RunContext
from powawidget.server.store import Store

log = logging.getLogger("powawidget.server")

END = None  # the queue's end-of-run marker


def new_id(prefix: str) -> str:
    """A Powabase-style id: prefix + 12 hex digits (sess_…, run_…)."""
    return f"{prefix}_{secrets.token_hex(6)}"


def encode_json(frame: dict[str, Any]) -> str:
    """JSON as the Powabase backend writes it: `json.dumps` defaults (", " and ": "
    separators, non-ASCII as \\uXXXX escapes)."""
    return json.dumps(frame)


@dataclass
class LiveRun:
    """One run in flight: its context, the frames sent so far and a queue for the response."""

    agent: Agent
    ctx: RunContext
    message: str
    frames: list[dict] = field(default_factory=list)
    queue: asyncio.Queue[dict | bytes | None] = field(default_factory=asyncio.Queue)
    waiting_for_approval: bool = False
    approve_misses: int = 0  # approve POSTs still to answer 404 (a misrouted worker)
    task: asyncio.Task | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.ctx.run_id


def summarise(frames: list[dict]) -> dict[str, Any]:
    """Status, final content, usage, tool calls and error of a run, from the frames it sent."""
    status, content, usage, error = "completed", None, None, None
    deltas: list[str] = []
    chunks: list[str] = []
    calls: list[dict] = []
    final_calls: list | None = None
    for frame in frames:
        name = frame.get("event")
        if name == "content_delta":
            deltas.append(str(frame.get("delta", "")))
        elif name == "chunk":
            chunks.append(str(frame.get("content", "")))
        elif name == "tool_call":
            calls.append(
                {
                    "step": frame.get("step", frame.get("step_number")),
                    "call_id": frame.get("call_id"),
                    "tool_name": frame.get("tool_name"),
                    "arguments": frame.get("arguments"),
                    "result": None,
                    "duration_ms": None,
                }
            )
        elif name == "tool_result":
            _pair_result(calls, frame)
        elif name == "complete":
            if frame.get("status") == "failed":
                status = "failed"
                error = frame.get("error") or "the run failed"
            if isinstance(frame.get("content"), str):
                content = frame["content"]
            if frame.get("usage") is not None:
                usage = frame["usage"]
            if isinstance(frame.get("tool_calls"), list):
                final_calls = frame["tool_calls"]
        elif name == "error":
            status = "failed"
            error = str(frame.get("error") or frame.get("message") or "the run failed")
    if content is None:
        # A chunk after deltas is the whole answer; chunks alone are deltas (documented).
        content = chunks[-1] if deltas and chunks else ("".join(chunks) or "".join(deltas))
    return {
        "status": status,
        "content": content,
        "usage": usage,
        "tool_calls": final_calls if final_calls is not None else calls,
        "error": error,
    }


def _pair_result(calls: list[dict], frame: dict) -> None:
    """Attach a tool_result to its call: by call_id, else the first open call of that tool."""
    result = frame.get("result", frame.get("result_preview"))
    for call in calls:
        same_id = frame.get("call_id") is not None and call["call_id"] == frame.get("call_id")
        same_tool = frame.get("call_id") is None and call["tool_name"] == frame.get("tool_name")
        if call["result"] is None and (same_id or same_tool):
            call["result"] = result
            call["duration_ms"] = frame.get("duration_ms")
            return
    calls.append({"tool_name": frame.get("tool_name"), "result": result, "arguments": None})


_ITEM, _RAISED, _DONE = "item", "raised", "done"


async def off_the_loop(
    make: Callable[[], AsyncIterator[Any]], *, name: str = "powawidget-agent"
) -> AsyncIterator[Any]:
    """The items of the async generator `make()` drives on an event loop of its own, in a
    thread of its own: an agent's work (reading a 10 MB message with regular expressions)
    never holds the server's loop, so other clients' streams go on meanwhile.

    Items arrive in order; an exception in the agent is raised here; leaving early (or
    being cancelled) cancels the agent on its loop. Hand-written because asyncio has no
    bridge for an async generator between two loops (`to_thread` takes plain functions).
    """
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    started = threading.Event()
    control: dict[str, Callable[[], object]] = {}

    def post(kind: str, value: Any) -> None:
        # RuntimeError: the server's loop closed (shutdown), nobody is listening.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(inbox.put_nowait, (kind, value))

    async def pump() -> None:
        try:
            async for item in make():
                post(_ITEM, item)
        except BaseException as exc:  # the agent failed, or was cancelled: say so, end
            post(_RAISED, exc)
        else:
            post(_DONE, None)

    def work() -> None:
        own = asyncio.new_event_loop()
        try:
            task = own.create_task(pump())
            control["cancel"] = lambda: own.call_soon_threadsafe(task.cancel)
            started.set()
            own.run_until_complete(task)
        finally:
            started.set()
            own.run_until_complete(own.shutdown_asyncgens())
            own.close()

    threading.Thread(target=work, name=name, daemon=True).start()
    finished = False
    try:
        while True:
            kind, value = await inbox.get()
            if kind == _ITEM:
                yield value
            elif kind == _RAISED:
                finished = True
                if isinstance(value, asyncio.CancelledError):
                    return
                raise value
            else:
                finished = True
                return
    finally:
        if not finished:  # we left first (cancelled, or the consumer stopped): stop the agent
            await asyncio.to_thread(started.wait)
            cancel = control.get("cancel")
            if cancel is not None:
                with contextlib.suppress(RuntimeError):  # its loop closed: it had ended
                    cancel()


class Runs:
    """Starts runs, relays their frames and stores them when they end."""

    def __init__(
        self,
        store: Store,
        *,
        delay: float,
        approval_timeout: float = 300.0,
        approve_misses: int = 0,
    ) -> None:
        self.store = store
        self.delay = delay
        self.approval_timeout = approval_timeout
        self.approve_misses = approve_misses
        self.live: dict[str, LiveRun] = {}

    async def start(
        self, agent: Agent, message: str, session_id: str | None, options: dict
    ) -> LiveRun:
        """Record the run, then drive the agent in a background task."""
        run_id = new_id("run")
        session_id = session_id or new_id("sess")
        new_session = await asyncio.to_thread(self.store.session_agent, session_id) is None
        history = await asyncio.to_thread(
            self.store.begin_run,
            run_id=run_id,
            agent_id=agent.id,
            session_id=session_id,
            message=message,
            options=options,
        )
        ctx = RunContext(
            agent_id=agent.id,
            run_id=run_id,
            session_id=session_id,
            history=history,
            delay=self.delay,
            options=options,
            approval_timeout=self.approval_timeout,
            new_session=new_session,
        )
        run = LiveRun(agent=agent, ctx=ctx, message=message, approve_misses=self.approve_misses)
        self.live[run_id] = run
        run.task = asyncio.create_task(self._drive(run), name=f"run {run_id}")
        return run

    async def _drive(self, run: LiveRun) -> None:
        """Relay every payload the agent yields; store the run however it ends."""
        documented = getattr(run.agent, "dialect", "server") == "documented"
        try:
            async for payload in off_the_loop(lambda: run.agent.run(run.ctx, run.message)):
                if isinstance(payload, (bytes, bytearray)):
                    run.queue.put_nowait(bytes(payload))  # raw wire bytes (fault agents)
                    continue
                frame = dict(payload)
                run.frames.append(frame)
                if frame.get("event") == "approval_requested":
                    run.waiting_for_approval = True
                    await asyncio.to_thread(self.store.set_status, run.run_id, "waiting_approval")
                elif run.waiting_for_approval:  # the agent stopped waiting (it timed out)
                    run.waiting_for_approval = False
                    await asyncio.to_thread(self.store.set_status, run.run_id, "running")
                run.queue.put_nowait(frame)
        except asyncio.CancelledError:
            self._fail(run, "the server stopped during the run", documented)
            raise
        except Exception as exc:  # the agent broke: tell the client, store a failed run
            log.exception("agent %s failed in run %s", run.agent.id, run.run_id)
            self._fail(run, f"{type(exc).__name__}: {exc}", documented)
        finally:  # stored before the stream ends: a reader at EOF finds the finished run
            summary = summarise(run.frames)
            if summary["usage"] is None:
                summary["usage"] = run.ctx.usage
            try:
                await asyncio.to_thread(
                    self.store.finish_run,
                    run_id=run.run_id,
                    events=run.frames,
                    reasoning_steps=run.ctx.reasoning_steps,
                    duration_ms=round((time.perf_counter() - run.started) * 1000, 3),
                    **summary,
                )
            finally:
                self.live.pop(run.run_id, None)
                run.queue.put_nowait(END)

    def _fail(self, run: LiveRun, message: str, documented: bool) -> None:
        """End a run as the route does when it raises: one `error` frame, then EOF."""
        error: dict[str, Any]
        if documented:
            error = {"event": "error", "message": message, "code": "internal_error"}
        else:
            error = {
                "event": "error",
                "error": message,
                "run_id": run.run_id,
                "context_handler_id": None,
            }
        run.frames.append(error)
        run.queue.put_nowait(error)

    async def approve(self, run_id: str, approved: bool, reason: str | None) -> bool:
        """Resume a run waiting for approval; False when it is not waiting.

        A run started with `approve_misses` answers that many POSTs with False first, as a
        multi-worker deployment does when the POST reaches a worker without the run.
        """
        run = self.live.get(run_id)
        if run is None or not run.waiting_for_approval:
            return False
        if run.approve_misses > 0:
            run.approve_misses -= 1
            return False
        run.waiting_for_approval = False
        run.ctx.resolve_approval(approved, reason)
        await asyncio.to_thread(self.store.set_status, run_id, "running")
        return True

    async def shutdown(self) -> None:
        """Cancel runs still in flight (server shutdown); they are stored as failed."""
        tasks = [run.task for run in self.live.values() if run.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
