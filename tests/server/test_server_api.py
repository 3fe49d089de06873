"""The local server's HTTP API: auth, agents, runs, sessions, messages, approvals.

Most tests use the shared `local_server` (a real child process); the transport's contract
with agents (history, approval, dialects, crashes, disconnects) is checked with small test
agents served by the same app and protocol on a thread, over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from server_http import api, stream_path

from powawidget.server.app import AUTH_ERROR, create_app
from powawidget.server.faults import FAULT_AGENTS
from powawidget.server.protocol import Agent, RunContext
from powawidget.server.serving import ServerProtocol
from powawidget.server.views import session_uuid

RUN_ID = re.compile(r"^run_[0-9a-f]{12}$")
SESSION_ID = re.compile(r"^sess_[0-9a-f]{12}$")


def stream(client: httpx.Client, agent_id: str, message: str, **body: object) -> list[dict]:
    """Run an agent over the stream endpoint; the JSON payloads of its frames."""
    response = client.post(stream_path(agent_id), json={"message": message, **body})
    assert response.status_code == 200, response.text
    return [json.loads(b[6:]) for b in response.content.split(b"\n\n") if b.startswith(b"data: ")]


# Test agents (the transport's side of the agent contract) -----------------------------


@dataclass
class ScriptAgent:
    """A test agent whose run is the given async generator function."""

    id: str
    script: object
    dialect: str = "server"
    name: str = "Script"
    model: str = "test-model"
    system_prompt: str = "test"
    description: str = "a test agent"
    uses_tools: bool = False

    def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict]:
        return self.script(ctx, message)  # type: ignore[operator]


async def _echo_history(ctx: RunContext, message: str) -> AsyncIterator[dict]:
    """Answers with what it was told earlier in the session."""
    earlier = [turn["content"] for turn in ctx.history if turn["role"] == "user"]
    answer = f"{message} after {earlier}"
    yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
    yield {"event": "content_delta", "delta": answer}
    yield {
        "event": "complete",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "content": answer,
        "status": "completed",
        "usage": {"total_tokens": 3},
        "options": ctx.options,
    }


async def _needs_approval(ctx: RunContext, message: str) -> AsyncIterator[dict]:
    """Asks before 'deleting', then says what happened."""
    yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
    yield {
        "event": "approval_requested",
        "tool_name": "delete",
        "tool_input": {"x": 1},
        "message": "Delete x?",
    }
    approved, reason = await ctx.wait_for_approval(timeout=20)
    text = "deleted" if approved else f"kept ({reason})"
    yield {
        "event": "complete",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "content": text,
        "status": "completed",
    }


async def _gives_up_waiting(ctx: RunContext, message: str) -> AsyncIterator[dict]:
    """Asks, stops waiting after 0.1 s, then keeps working for a while."""
    yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
    yield {"event": "approval_requested", "tool_name": "delete", "tool_input": {}, "message": "?"}
    approved, reason = await ctx.wait_for_approval(timeout=0.1)
    yield {"event": "content_delta", "delta": f"{approved} {reason}"}
    await asyncio.sleep(1.0)
    yield {
        "event": "complete",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "content": f"{approved} {reason}",
        "status": "completed",
    }


async def _documented(ctx: RunContext, message: str) -> AsyncIterator[dict]:
    """The documented dialect: chunk deltas, step_number, usage only on complete."""
    yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
    yield {"event": "step_started", "step_number": 1}
    yield {"event": "chunk", "content": "Hel"}
    yield {"event": "chunk", "content": "lo"}
    yield {"event": "complete", "usage": {"total_tokens": 2}}


async def _crash(ctx: RunContext, message: str) -> AsyncIterator[dict]:
    """Breaks after starting."""
    yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
    raise ValueError("the tool exploded")


async def _slow(ctx: RunContext, message: str) -> AsyncIterator[dict]:
    """Keeps going after the client may have left."""
    yield {"event": "start", "run_id": ctx.run_id, "session_id": ctx.session_id}
    for word in ("still ", "here"):
        await asyncio.sleep(0.3)
        yield {"event": "content_delta", "delta": word}
    yield {
        "event": "complete",
        "run_id": ctx.run_id,
        "session_id": ctx.session_id,
        "content": "still here",
        "status": "completed",
    }


TEST_AGENTS: list[Agent] = [
    ScriptAgent("t_echo", _echo_history),  # type: ignore[list-item]
    ScriptAgent("t_approval", _needs_approval),  # type: ignore[list-item]
    ScriptAgent("t_docs", _documented, dialect="documented"),  # type: ignore[list-item]
    ScriptAgent("t_gives_up", _gives_up_waiting),  # type: ignore[list-item]
    ScriptAgent("t_crash", _crash),  # type: ignore[list-item]
    ScriptAgent("t_slow", _slow),  # type: ignore[list-item]
    ScriptAgent("t_slow_tools", _slow, uses_tools=True),  # type: ignore[list-item]
]


@contextmanager
def serve_agents(
    agents: list[Agent], db_path: Path, *, keepalive: float = 30.0
) -> Iterator[SimpleNamespace]:
    """The server app with these agents, on uvicorn in a thread, on a free port."""
    app = create_app(
        api_key="test-key", db_path=str(db_path), delay=0.0, keepalive=keepalive, agents=agents
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=ServerProtocol, ws="none", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "test server did not start"
        time.sleep(0.01)
    try:
        yield SimpleNamespace(
            base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", api_key="test-key"
        )
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def test_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A server with the test agents above, sending keepalives after 0.2 s of silence."""
    db_path = tmp_path_factory.mktemp("api") / "db.sqlite3"
    with serve_agents(TEST_AGENTS, db_path, keepalive=0.2) as server:
        yield server


def wait_for_run(client: httpx.Client, run_id: str, *, until: str = "finished") -> dict:
    """Poll the stored run until it has finished (or reached the given status)."""
    deadline = time.monotonic() + 20
    while True:
        run = client.get(f"/api/agents/runs/{run_id}").json()
        done = (
            run["status"] == until
            if until != "finished"
            else run["status"] in ("completed", "failed")
        )
        if done or time.monotonic() > deadline:
            return run
        time.sleep(0.02)


# Auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no headers"),
        pytest.param({"apikey": "KEY"}, id="apikey only"),
        pytest.param({"Authorization": "Bearer KEY"}, id="bearer only"),
        pytest.param({"apikey": "KEY", "Authorization": "Bearer wrong"}, id="wrong bearer"),
        pytest.param({"apikey": "wrong", "Authorization": "Bearer KEY"}, id="wrong apikey"),
        pytest.param({"apikey": "KEY", "Authorization": "KEY"}, id="no Bearer scheme"),
    ],
)
def test_both_headers_must_carry_the_key(local_server, headers):
    sent = {name: value.replace("KEY", local_server.api_key) for name, value in headers.items()}
    for method, path in [
        ("GET", "/api/agents"),
        ("POST", "/api/agents/fault_crlf/run/stream"),
        ("GET", "/api/agents/runs/run_000000000000"),
    ]:
        response = httpx.request(
            method, local_server.base_url + path, headers=sent, json={"message": "hi"}
        )
        assert response.status_code == 401
        assert response.json() == {"error": AUTH_ERROR}
    assert "apikey" in AUTH_ERROR and "Authorization: Bearer" in AUTH_ERROR


# Agents -----------------------------------------------------------------------------------


def test_agent_listing_puts_the_demo_first_and_the_faults_last(local_server):
    with api(local_server) as client:
        body = client.get("/api/agents").json()
    ids = [agent["id"] for agent in body["agents"]]
    fault_ids = [agent.id for agent in FAULT_AGENTS]
    assert ids[len(ids) - len(fault_ids) :] == fault_ids
    if "agt_demo" in ids:
        assert ids[0] == "agt_demo"
    assert body["total"] == len(ids) and body["offset"] == 0 and body["limit"] >= len(ids)
    agent = body["agents"][-1]
    assert set(agent) >= {
        "id",
        "name",
        "model",
        "system_prompt",
        "settings",
        "created_at",
        "updated_at",
        "session_count",
        "total_runs",
        "last_run_at",
    }


def test_agent_listing_pages_with_limit_and_offset(local_server):
    with api(local_server) as client:
        everything = client.get("/api/agents").json()["agents"]
        page = client.get("/api/agents", params={"limit": 2, "offset": 3}).json()
        bad = client.get("/api/agents", params={"limit": "x"})
    assert [a["id"] for a in page["agents"]] == [a["id"] for a in everything[3:5]]
    assert (page["limit"], page["offset"], page["total"]) == (2, 3, len(everything))
    assert bad.status_code == 400 and "error" in bad.json()


def test_get_agent_and_unknown_agents(local_server):
    with api(local_server) as client:
        agent = client.get("/api/agents/fault_xss").json()
        missing = [
            client.get("/api/agents/agt_nope"),
            client.get("/api/agents/agt_nope/sessions"),
            client.post("/api/agents/agt_nope/run/stream", json={"message": "hi"}),
            client.post("/api/agents/agt_nope/run", json={"message": "hi"}),
        ]
    assert agent["id"] == "fault_xss" and agent["settings"]["dialect"] == "server"
    for response in missing:
        assert response.status_code == 404
        assert response.json() == {"error": "Agent not found"}


def test_agent_stats_count_sessions_and_runs(test_server):
    with api(test_server) as client:
        before = client.get("/api/agents/t_echo").json()
        first = stream(client, "t_echo", "one")
        stream(client, "t_echo", "two", session_id=first[0]["session_id"])
        after = client.get("/api/agents/t_echo").json()
    assert after["total_runs"] == before["total_runs"] + 2
    assert after["session_count"] == before["session_count"] + 1
    assert after["last_run_at"] is not None


# Request validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"session_id": "sess_000000000000"}', '"message" is required'),
        (b'{"message": 42}', '"message" is required and must be a string'),
        (b'{"message": "   "}', "must not be empty"),
        (b"not json", "JSON object"),
        (b'["message"]', "JSON object"),
        (b'{"message": "hi", "session_id": 7}', '"session_id"'),
    ],
)
def test_bad_run_requests_get_400_with_a_clear_error(local_server, content, expected):
    with api(local_server) as client:
        for path in ("/api/agents/fault_crlf/run/stream", "/api/agents/fault_crlf/run"):
            response = client.post(
                path, content=content, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400
            assert expected in response.json()["error"]


def test_unknown_paths_and_methods_answer_json(local_server):
    with api(local_server) as client:
        missing = client.get("/api/nothing")
        wrong_method = client.get("/api/agents/fault_crlf/run/stream")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


# Runs, sessions, messages ---------------------------------------------------------------------


def test_a_run_is_stored_with_its_events_and_outcome(local_server):
    with api(local_server) as client:
        events = stream(client, "fault_big_result", "read the log", temperature=0.2)
        run = client.get(f"/api/agents/runs/{events[0]['run_id']}").json()
    assert RUN_ID.match(run["run_id"]) and SESSION_ID.match(events[0]["session_id"])
    assert run["session_id"] == session_uuid(events[0]["session_id"]), "the internal UUID"
    assert str(uuid.UUID(run["session_id"])) == run["session_id"]
    assert run["status"] == "completed"
    assert run["input_messages"] == [{"role": "user", "content": "read the log"}]
    assert run["output_messages"][0]["content"] == run["content"]
    assert run["content"] == events[-1]["content"]
    assert run["usage"] == events[-1]["usage"]
    assert run["tool_calls"][0]["tool_name"] == "read_log"
    assert len(run["tool_calls"][0]["result"]) == 1024 * 1024
    # Stored events: keyed by `type`, no `event`, no deltas.
    undelta = [e for e in events if not e["event"].endswith("_delta")]
    assert [e["type"] for e in run["events"]] == [e["event"] for e in undelta]
    assert all("event" not in e for e in run["events"])
    assert run["events"][-1] == {
        "type": "complete",
        **{k: v for k, v in events[-1].items() if k != "event"},
    }
    assert run["steps"] == 2 and run["reasoning_steps"] == []
    assert run["completed_at"] >= run["started_at"] == run["created_at"]


def test_unknown_run_is_404(local_server):
    with api(local_server) as client:
        response = client.get("/api/agents/runs/run_000000000000")
    assert response.status_code == 404 and response.json() == {"error": "Run not found"}


def test_the_non_streaming_run_answers_the_stored_run(local_server):
    with api(local_server) as client:
        response = client.post("/api/agents/fault_malformed/run", json={"message": "hi"})
        assert response.status_code == 200
        run = response.json()
        stored = client.get(f"/api/agents/runs/{run['run_id']}").json()
    assert run == {**stored, "session_id": run["session_id"]}
    assert stored["session_id"] == session_uuid(run["session_id"])
    assert run["events"] is None and run["steps"] is None, "a run without tools"
    assert run["status"] == "completed" and run["content"] == "Before after."


def test_a_session_continues_with_its_history(test_server):
    with api(test_server) as client:
        first = stream(client, "t_echo", "apples")
        session_id = first[0]["session_id"]
        second = stream(client, "t_echo", "pears", session_id=session_id)
        third = stream(client, "t_echo", "plums", session_id=session_id)
        messages = client.get(f"/api/sessions/{session_id}/messages").json()["messages"]
        sessions = client.get("/api/agents/t_echo/sessions").json()
    assert second[0]["session_id"] == session_id
    assert third[-1]["content"] == "plums after ['apples', 'pears']"
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "apples"),
        ("assistant", "apples after []"),
        ("user", "pears"),
        ("assistant", "pears after ['apples']"),
        ("user", "plums"),
        ("assistant", "plums after ['apples', 'pears']"),
    ]
    assert all(m["run_id"] and m["timestamp"] for m in messages)
    listed = {s["session_id"]: s for s in sessions["sessions"]}
    assert listed[session_id]["run_count"] == 3
    assert listed[session_id]["first_message"] == "apples"
    assert sessions["sessions"][0]["session_id"] == session_id, "most recent first"


def test_messages_come_from_completed_runs_only(test_server):
    with api(test_server) as client:
        events = stream(client, "t_crash", "boom")
        session_id = events[0]["session_id"]
        messages = client.get(f"/api/sessions/{session_id}/messages").json()["messages"]
        unknown = client.get("/api/sessions/sess_000000000000/messages")
    assert messages == []
    assert unknown.status_code == 200, "an unknown session: 200, no messages"
    assert unknown.json() == {"session_id": "sess_000000000000", "messages": []}


def test_a_crashing_agent_ends_with_an_error_event_and_a_failed_run(test_server):
    with api(test_server) as client:
        events = stream(client, "t_crash", "boom")
        run = client.get(f"/api/agents/runs/{events[0]['run_id']}").json()
    assert events[-1] == {
        "event": "error",
        "error": "ValueError: the tool exploded",
        "run_id": events[0]["run_id"],
        "context_handler_id": None,
    }, "one route error frame, then the end"
    assert run["status"] == "failed" and "the tool exploded" in run["error"]


def test_documented_dialect_payloads_go_out_as_they_are(test_server):
    with api(test_server) as client:
        events = stream(client, "t_docs", "hi")
        run = client.get(f"/api/agents/runs/{events[0]['run_id']}").json()
    assert events[1:] == [
        {"event": "step_started", "step_number": 1},
        {"event": "chunk", "content": "Hel"},
        {"event": "chunk", "content": "lo"},
        {"event": "complete", "usage": {"total_tokens": 2}},
    ]
    assert run["content"] == "Hello" and run["usage"] == {"total_tokens": 2}


def test_a_run_finishes_and_is_stored_after_the_client_leaves(test_server):
    with api(test_server) as client:
        with client.stream(
            "POST", "/api/agents/t_slow/run/stream", json={"message": "go"}
        ) as response:
            first = next(response.iter_lines())
        run_id = json.loads(first[6:])["run_id"]
        run = wait_for_run(client, run_id)
    assert run["status"] == "completed" and run["content"] == "still here"


def test_keepalives_fill_quiet_tool_runs_only(test_server):
    with api(test_server) as client:
        tools = client.post("/api/agents/t_slow_tools/run/stream", json={"message": "go"})
        plain = client.post("/api/agents/t_slow/run/stream", json={"message": "go"})
    blocks = [block for block in tools.content.split(b"\n\n") if block]
    assert b": keepalive" in blocks
    assert blocks.index(b": keepalive") > 0, "after the start frame, while the agent is quiet"
    assert blocks[-1].startswith(b'data: {"event": "complete"')
    assert b"keepalive" not in plain.content, "no keepalives for an agent without tools"


# Approval -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("approved", "answer"), [(True, "deleted"), (False, "kept (not now)")])
def test_approval_resumes_the_waiting_run(test_server, approved, answer):
    with (
        api(test_server) as client,
        client.stream(
            "POST", "/api/agents/t_approval/run/stream", json={"message": "delete x"}
        ) as response,
    ):
        lines = response.iter_lines()
        events = []
        for line in lines:
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["event"] == "approval_requested":
                    break
        run_id = events[0]["run_id"]
        assert client.get(f"/api/agents/runs/{run_id}").json()["status"] == "waiting_approval"
        body = {"approved": approved, "reason": None if approved else "not now"}
        resumed = client.post(f"/api/agents/runs/{run_id}/approve", json=body)
        assert resumed.status_code == 200 and resumed.json()["status"] == "resumed"
        again = client.post(f"/api/agents/runs/{run_id}/approve", json=body)
        assert again.status_code == 404, "no longer waiting"
        rest = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        assert rest[-1]["content"] == answer
        assert wait_for_run(client, run_id)["content"] == answer


def test_approve_is_404_once_the_agent_stopped_waiting(test_server):
    with (
        api(test_server) as client,
        client.stream("POST", "/api/agents/t_gives_up/run/stream", json={"message": "x"}) as r,
    ):
        events = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["event"] == "content_delta":
                    break
        run_id = events[0]["run_id"]
        late = client.post(f"/api/agents/runs/{run_id}/approve", json={"approved": True})
        assert late.status_code == 404
        assert client.get(f"/api/agents/runs/{run_id}").json()["status"] == "running"
    assert events[-1]["delta"] == "None None", "nobody decided"


def test_approve_is_404_unless_the_run_waits_and_400_for_a_bad_body(local_server):
    with api(local_server) as client:
        unknown = client.post("/api/agents/runs/run_000000000000/approve", json={"approved": True})
        done = stream(client, "fault_failed_run", "hi")[0]["run_id"]
        finished = client.post(f"/api/agents/runs/{done}/approve", json={"approved": True})
        bad = client.post(f"/api/agents/runs/{done}/approve", json={"approved": "yes"})
    assert unknown.status_code == 404 and "not waiting" in unknown.json()["error"]
    assert finished.status_code == 404
    assert bad.status_code == 400 and '"approved"' in bad.json()["error"]


def test_wait_for_approval_takes_a_decision_given_before_it_waits():
    async def scenario() -> list[tuple[bool, str | None]]:
        ctx = RunContext(agent_id="a", run_id="run_1", session_id="sess_1")
        ctx.resolve_approval(True)
        early = await ctx.wait_for_approval(timeout=1)
        waiter = asyncio.create_task(ctx.wait_for_approval(timeout=5))
        await asyncio.sleep(0.01)
        ctx.resolve_approval(False, "no")
        late = await waiter
        timed_out = await ctx.wait_for_approval(timeout=0.01)
        return [early, late, timed_out]

    assert asyncio.run(scenario()) == [(True, None), (False, "no"), (None, None)]
