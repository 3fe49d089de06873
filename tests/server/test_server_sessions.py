"""Sessions and stored runs over HTTP: list, create with earlier messages, delete, messages,
every run of a session with its stored events, and a run as GET /api/agents/runs/{id}
shows it."""

from __future__ import annotations

import json

from server_http import api, stream_path

from powawidget.server.views import session_uuid


def stream(client, agent_id: str, message: str, **body: object) -> list[dict]:
    """The frames of one streamed run."""
    response = client.post(stream_path(agent_id), json={"message": message, **body})
    return [json.loads(b[6:]) for b in response.content.split(b"\n\n") if b.startswith(b"data: ")]


def test_an_agents_sessions_list_first_message_last_activity_and_run_count(local_server):
    with api(local_server) as client:
        first = stream(client, "agt_plain", "What is the shipping policy?")
        session = first[0]["session_id"]
        stream(client, "agt_plain", "And refunds?", session_id=session)
        listed = client.get("/api/agents/agt_plain/sessions").json()
    entry = next(s for s in listed["sessions"] if s["session_id"] == session)
    assert entry["first_message"] == "What is the shipping policy?"
    assert entry["run_count"] == 2 and entry["last_activity_at"] >= entry["created_at"]
    assert listed["sessions"][0]["session_id"] == session, "most recently active first"
    assert listed["total"] >= 1


def test_a_session_created_with_earlier_messages_continues_from_them(local_server):
    earlier = [
        {"role": "user", "content": "Which plan is best for a team of 40 people?"},
        {"role": "assistant", "content": "I'd recommend **Orbit Team** or **Orbit Business**."},
    ]
    with api(local_server) as client:
        created = client.post("/api/agents/agt_demo/sessions", json={"initial_messages": earlier})
        session = created.json()["session_id"]
        frames = stream(
            client,
            "agt_demo",
            "which of those two would be cheaper for 40 people over a year?",
            session_id=session,
        )
        messages = client.get(f"/api/sessions/{session}/messages").json()["messages"]
        bad = client.post("/api/agents/agt_demo/sessions", json={"initial_messages": [{"x": 1}]})
        again = client.post("/api/agents/agt_demo/sessions", json={"session_id": session})
    assert created.status_code == 201
    assert created.json()["first_message"] == earlier[0]["content"]
    assert created.json()["run_count"] == 0 and created.json()["message_count"] == 2
    assert "**Orbit Team** is cheaper" in frames[-1]["content"], "it read the earlier turns"
    assert [m["content"] for m in messages][:2] == [m["content"] for m in earlier]
    assert len(messages) == 4
    assert bad.status_code == 400 and "initial_messages" in bad.json()["error"]
    assert again.status_code == 409


def test_deleting_a_session_forgets_its_runs_and_messages(local_server):
    with api(local_server) as client:
        frames = stream(client, "agt_plain", "What is the refund policy?")
        session, run_id = frames[0]["session_id"], frames[0]["run_id"]
        gone = client.delete(f"/api/agents/agt_plain/sessions/{session}")
        again = client.delete(f"/api/agents/agt_plain/sessions/{session}")
        messages = client.get(f"/api/sessions/{session}/messages").json()["messages"]
        run = client.get(f"/api/agents/runs/{run_id}")
        listed = client.get("/api/agents/agt_plain/sessions").json()["sessions"]
    assert gone.status_code == 200 and gone.json() == {"deleted": True, "session_id": session}
    assert again.status_code == 404 and again.json() == {"error": "Session not found"}
    assert messages == [] and run.status_code == 404
    assert session not in [s["session_id"] for s in listed]


def test_messages_hold_completed_runs_only_and_no_tool_calls(local_server):
    with api(local_server) as client:
        ok = stream(client, "agt_demo", "What is the refund policy?")
        session = ok[0]["session_id"]
        stream(client, "fault_llm_fails_early", "and then?", session_id=session)
        messages = client.get(f"/api/sessions/{session}/messages").json()["messages"]
        unknown = client.get("/api/sessions/sess_ffffffffffff/messages")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert all(set(m) == {"role", "content", "run_id", "timestamp"} for m in messages)
    assert unknown.status_code == 200 and unknown.json()["messages"] == []


def test_a_sessions_runs_include_failed_and_running_ones_with_their_events(local_server):
    with api(local_server) as client:
        done = stream(client, "agt_demo", "Which one is best for small teams?")
        session = done[0]["session_id"]
        stream(client, "fault_mid_stream", "go on", session_id=session)
        with client.stream(
            "POST",
            stream_path("fault_stall"),
            json={"message": "stall 2", "session_id": session},
        ) as response:
            next(response.iter_lines())  # the run has started and now stalls
            listing = client.get(f"/api/sessions/{session}/runs").json()
            single = client.get(f"/api/agents/runs/{done[0]['run_id']}").json()
    assert (listing["session_id"], listing["limit"], listing["offset"]) == (session, 100, 0)
    runs = listing["runs"]
    assert [r["status"] for r in runs] == ["completed", "failed", "running"]
    first, failed, running = runs
    # A listed run names its agent; one run alone names its session, by the internal UUID.
    assert first["agent_id"] == "agt_demo" and "session_id" not in first
    assert single["session_id"] == session_uuid(session)
    assert [e["type"] for e in first["events"]][:2] == ["start", "step_started"]
    assert not any(e["type"].endswith("_delta") for e in first["events"])
    assert all("event" not in e for e in first["events"])
    assert [c["tool_name"] for c in first["tool_calls"]] == ["get_policy", "search_catalogue"]
    assert "error" in [e["type"] for e in failed["events"]] and failed["error"]
    assert running["events"] is None and running["content"] is None, "a run without tools"
