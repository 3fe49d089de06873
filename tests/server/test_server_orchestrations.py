"""The local server's orchestration `orch_demo` against the recorded shapes (RECORDINGS.md),
and a chat with it end to end: stream, fold, sessions, history, failures."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from powawidget.session.chat import ChatSession
from powawidget.session.history import UnknownSessionError
from powawidget.wire.client import OrchestrationId, PowabaseClient
from powawidget.wire.errors import PowabaseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "orchestrations"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def raw_stream(server: Any, oid: str, body: dict[str, Any]) -> tuple[requests.Response, list[dict]]:
    """POST a run and read its frames as the server wrote them."""
    key = server.api_key
    answer = requests.post(
        f"{server.base_url}/api/orchestrations/{oid}/run/stream",
        json=body,
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        timeout=30,
    )
    frames = [
        json.loads(block[len("data: ") :])
        for block in answer.text.split("\n\n")
        if block.startswith("data: ")
    ]
    return answer, frames


def names(frames: list[dict]) -> list[str]:
    return [f["event"] for f in frames]


def test_a_delegation_streams_the_recorded_shape_glued_text_included(local_server: Any) -> None:
    answer, frames = raw_stream(
        local_server, "orch_demo", {"message": "Which plan fits 40 people?"}
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert "Cache-Control" not in answer.headers and "X-Accel-Buffering" not in answer.headers
    got = names(frames)
    head = ["start", "orchestration_started", "step_started", "tool_call", "delegation_started"]
    assert got[:5] == head
    tail = ["delegation_completed", "tool_result", "step_completed", "step_started"]
    cut = got.index("delegation_completed")
    assert got[cut : cut + 4] == tail
    assert got[-4:] == ["step_completed", "orchestration_completed", "chunk", "complete"]
    child = frames[5:cut]
    assert child[0]["event"] == "step_started" and child[0]["step"] == 1 and child[0]["seq"] == 1
    assert "tool_call" in names(child) and "content_delta" in names(child)
    assert all("agent" not in f for f in child)  # unmarked, as on the real server
    started, completed = frames[4], frames[cut]
    assert frames[3]["tool_name"] == f"delegate_to_{started['agent']}"
    assert started["task"] == "Which plan fits 40 people?"
    assert completed["child_execution_id"] == started["child_execution_id"]
    assert completed["status"] == "completed" and completed["usage"]["total_tokens"] > 0
    child_text = "".join(f["delta"] for f in child if f["event"] == "content_delta")
    own = "".join(f["delta"] for f in frames[cut:] if f["event"] == "content_delta")
    assert frames[-2]["content"] == child_text + own  # the server's bug, kept
    assert frames[-1]["content"] == child_text + own
    assert "tool_calls" not in frames[-1] and frames[-1]["status"] == "completed"


def test_failures_as_recorded(local_server: Any) -> None:
    _, frames = raw_stream(local_server, "orch_demo", {"message": "Please fail the supervisor"})
    assert names(frames) == [
        "start",
        "orchestration_started",
        "step_started",
        "orchestration_completed",
        "chunk",
        "complete",
    ]
    assert frames[3]["status"] == "failed" and frames[3]["usage"] == {}
    assert frames[4]["content"] == "" and frames[5]["status"] == "failed" and frames[5]["error"]
    _, frames = raw_stream(local_server, "orch_demo", {"message": "A broken price question"})
    done = next(f for f in frames if f["event"] == "delegation_completed")
    assert done["status"] == "failed" and done["usage"] is None and done["steps"] == 0
    result = next(f for f in frames if f["event"] == "tool_result" and f["seq"] > done["seq"])
    assert result["result_preview"].startswith("litellm.InternalServerError")
    assert frames[-1]["status"] == "completed"
    answer, frames = raw_stream(local_server, UNKNOWN, {"message": "hi"})
    assert answer.status_code == 200
    assert frames == [{"event": "error", "error": f"Orchestration {UNKNOWN} not found"}]
    answer, _ = raw_stream(local_server, "orch_demo", {})
    assert answer.status_code == 400 and answer.json() == {"error": "message is required"}


def test_rest_answers_have_the_recorded_shapes(client: PowabaseClient) -> None:
    (listed,) = client.list_orchestrations()
    assert {"id", "name", "strategy", "entity_count", "description"} <= listed.keys()
    one = client.get_orchestration(listed["id"])
    assert [e["entity_ref_id"] for e in one["entities"]] == ["agt_demo", "agt_plain"]
    session = ChatSession(client, orchestration_id=listed["id"])
    try:
        session.send("What does the refund policy say?")
        assert session.wait(30)
        sid = session.session_id
        assert sid is not None and sid.startswith("orch_sess_")
    finally:
        session.close()
    rows = client.orchestration_sessions(listed["id"])
    row = next(r for r in rows if r["session_id"] == sid)
    assert row["run_count"] == 1 and row["first_message"] == "What does the refund policy say?"
    page = client.orchestration_session_messages(listed["id"], sid)
    assert set(page) == {"session_id", "messages", "events", "tool_calls"}
    user, assistant = page["messages"]
    assert user == {"role": "user", "content": "What does the refund policy say?"}
    run = client.get_orchestration_run(assistant["run_id"])
    assert set(run) == {
        "run_id",
        "orchestration_id",
        "status",
        "content",
        "events",
        "usage",
        "model",
        "error",
        "started_at",
        "completed_at",
        "child_runs",
    }
    (child,) = run["child_runs"]
    assert set(child) == {
        "run_id",
        "status",
        "steps",
        "content",
        "events",
        "tool_calls",
        "usage",
        "model",
    }
    assert run["content"] == child["content"] + run["content"][len(child["content"]) :]
    with pytest.raises(PowabaseError) as caught:
        client.orchestration_session_messages(listed["id"], "orch_sess_nope")
    assert caught.value.status_code == 404


def test_a_chat_with_an_orchestration_folds_delegations_live_and_from_history(
    client: PowabaseClient,
) -> None:
    session = ChatSession(client, orchestration_id="orch_demo")
    try:
        assert isinstance(session.agent_id, OrchestrationId)
        session.send("Which plan fits 40 people?")
        assert session.wait(30)
        turn = session.conversation.turns[-1]
        assert turn.status == "completed"
        (delegation,) = turn.delegations
        assert delegation.agent == "agt_demo" and delegation.status == "completed"
        assert delegation.run.tool_calls and delegation.run.text
        assert turn.text.startswith("I asked **")  # the supervisor's own words only
        assert turn.server_text == delegation.run.text + turn.text
        session.send("A broken price question")
        assert session.wait(30)
        failed = session.conversation.turns[-1]
        assert failed.status == "completed" and failed.delegations[0].status == "failed"
        assert failed.delegations[0].run.error_message.startswith("litellm.InternalServerError")
        session.send("Please fail the supervisor")
        assert session.wait(30)
        assert session.conversation.turns[-1].status == "failed"
        sid = session.session_id
        assert sid is not None
        assert session.sessions()[0]["session_id"] == sid
        session.load_session(sid)
        restored = session.conversation.turns[-3:]
        assert [t.status for t in restored] == ["completed", "completed", "failed"]
        assert restored[0].from_history and restored[0].delegations[0].status == "completed"
        assert restored[0].delegations[0].run.tool_calls  # the child's stored frames
        assert restored[0].text == turn.text  # the glued stored content, taken apart
        assert restored[1].delegations[0].status == "failed"
        with pytest.raises(UnknownSessionError):
            session.load_session("orch_sess_000000000000")
    finally:
        session.close()


def test_an_unknown_orchestration_is_a_clear_not_found_error(client: PowabaseClient) -> None:
    session = ChatSession(client, orchestration_id=UNKNOWN)
    try:
        handle = session.send("hi")
        assert handle.wait(30)
        assert session.conversation.turns[-1].status == "failed"
        assert handle.error is not None and handle.error.code == "orchestration_not_found"
        assert "not found" in handle.error.message and "orchestrations()" in handle.error.message
        with pytest.raises(ValueError, match="ignores notebook context"):
            session.send("hi", response_format={"type": "json_object"})
    finally:
        session.close()


def test_a_child_run_is_served_as_an_agent_run_in_the_recorded_shape(local_server: Any) -> None:
    """GET /api/agents/runs/{child_execution_id}: o46's record, `session_id` null and the
    parent's internal UUID; a failed child keeps its error."""
    recorded = json.loads((FIXTURES / "o46_get_child_agent_run.json").read_text("utf-8"))
    key = local_server.api_key
    headers = {"apikey": key, "Authorization": f"Bearer {key}"}
    for message, status in [
        ("Which plan fits 40 people?", "completed"),
        ("A broken price question", "failed"),
    ]:
        _, frames = raw_stream(local_server, "orch_demo", {"message": message})
        started = next(f for f in frames if f["event"] == "delegation_started")
        answer = requests.get(
            f"{local_server.base_url}/api/agents/runs/{started['child_execution_id']}",
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        run = answer.json()
        assert list(run) == list(recorded)
        assert run["run_id"] == started["child_execution_id"] and run["session_id"] is None
        assert run["status"] == status
        assert (
            str(uuid.UUID(run["parent_orchestration_run_id"])) == run["parent_orchestration_run_id"]
        )
        assert run["input_messages"] == [{"content": started["task"], "role": "user"}]
        cut = names(frames).index("delegation_completed")
        child = frames[names(frames).index("delegation_started") + 1 : cut]
        if status == "completed":
            text = "".join(f["delta"] for f in child if f["event"] == "content_delta")
            assert run["content"] == text and run["error"] is None
            assert run["output_messages"][0]["content"] == text
            assert run["events"] == [{k: v for k, v in f.items() if k != "event"} for f in child]
            assert run["tool_calls"] and all(c["result"] for c in run["tool_calls"])
            assert set(run["tool_calls"][0]) == set(recorded["tool_calls"][0])
            assert set(run["usage"]) == set(recorded["usage"])
            assert run["steps"] == frames[cut]["steps"]
        else:
            assert run["content"] is None and run["usage"] is None
            assert run["error"].startswith("litellm.InternalServerError")
    missing = requests.get(
        f"{local_server.base_url}/api/agents/runs/{UNKNOWN}", headers=headers, timeout=30
    )
    assert missing.status_code == 404
