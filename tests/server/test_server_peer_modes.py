"""The server's opt-in peer modes: fault agents off by default, UUID agent ids and the strict
mode that answers a non-UUID id as the real backend does, approvals over HTTP with a short
timeout and a misrouted approve endpoint (a multi-worker deployment)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from server_http import api, stream_path

from powawidget.server import start_local_server
from powawidget.server.app import agent_uuid, load_agents

NOT_WAITING = {"error": "Run not found or not waiting for approval"}


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A server as strict as the real backend: UUID agent ids only, no fault agents; its
    approvals time out after 1 s and each run answers its first 2 approve POSTs with 404."""
    db = tmp_path_factory.mktemp("strict") / "agents.sqlite3"
    server = start_local_server(
        delay=0.0, db_path=str(db), strict_ids=True, approval_timeout=1.0, approve_misses=2
    )
    try:
        yield server
    finally:
        server.stop()


def frames_of(response: httpx.Response) -> list[dict]:
    """The JSON frames of a finished stream."""
    blocks = response.content.split(b"\n\n")
    return [json.loads(b[6:]) for b in blocks if b.startswith(b"data: ")]


def test_fault_agents_are_served_only_when_asked_for():
    plain = [agent.id for agent in load_agents()]
    with_faults = [agent.id for agent in load_agents(faults=True)]
    assert plain[0] == "agt_demo" and not any(i.startswith("fault_") for i in plain)
    assert with_faults[: len(plain)] == plain
    assert {"fault_stall", "fault_step_reset", "fault_mid_stream"} <= set(with_faults)


def test_without_faults_a_fault_agent_is_not_listed_and_not_found(strict_server):
    with api(strict_server) as client:
        listed = client.get("/api/agents").json()["agents"]
        missing = client.post(stream_path(agent_uuid("fault_stall")), json={"message": "stall 1"})
    assert not any(agent["slug"].startswith("fault_") for agent in listed)
    assert missing.status_code == 404 and missing.json() == {"error": "Agent not found"}


def test_every_agent_answers_to_its_uuid_as_well(local_server):
    demo = agent_uuid("agt_demo")
    with api(local_server) as client:
        listed = client.get("/api/agents").json()["agents"]
        agent = client.get(f"/api/agents/{demo}").json()
        upper = client.get(f"/api/agents/{demo.upper()}").json()
        response = client.post(stream_path(demo), json={"message": "What is the refund policy?"})
        frames = frames_of(response)
        sessions = client.get(f"/api/agents/{demo}/sessions").json()["sessions"]
    assert listed[0]["id"] == "agt_demo" and listed[0]["uuid"] == demo
    assert agent["id"] == upper["id"] == "agt_demo"
    assert frames[-1]["status"] == "completed"
    assert frames[0]["session_id"] in [s["session_id"] for s in sessions]


def test_strict_ids_answer_a_friendly_id_with_the_backends_html_error(strict_server):
    with api(strict_server) as client:
        listed = client.get("/api/agents").json()["agents"]
        run = client.post(stream_path("agt_demo"), json={"message": "hi"})
        agent = client.get("/api/agents/agt_demo")
        by_uuid = client.post(stream_path(listed[0]["id"]), json={"message": "hi"})
    assert listed[0]["id"] == agent_uuid("agt_demo") and listed[0]["slug"] == "agt_demo"
    for response in (run, agent):
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert "Either the server is overloaded" in response.text  # Flask's generic page
        assert "agt_demo" not in response.text and "uuid" not in response.text.lower()
    assert by_uuid.status_code == 200 and frames_of(by_uuid)[-1]["status"] == "completed"


def approve_until_resumed(client: httpx.Client, run_id: str, body: dict) -> list[httpx.Response]:
    """POST approve until it is not a 404 (at most 5 times); every answer, in order."""
    answers = []
    for _ in range(5):
        answers.append(client.post(f"/api/agents/runs/{run_id}/approve", json=body))
        if answers[-1].status_code != 404:
            break
    return answers


def read_until_approval(lines: Iterator[str]) -> list[dict]:
    """Frames up to and including approval_requested."""
    frames = []
    for line in lines:
        if line.startswith("data: "):
            frames.append(json.loads(line[6:]))
            if frames[-1]["event"] == "approval_requested":
                return frames
    raise AssertionError(f"no approval_requested in {frames}")


@pytest.mark.parametrize("approved", [True, False])
def test_an_approval_over_http_after_two_misrouted_posts(strict_server, approved):
    agent = agent_uuid("agt_approval")
    message = "Refund order 1042, $49, it arrived late"
    with (
        api(strict_server) as client,
        client.stream("POST", stream_path(agent), json={"message": message}) as response,
    ):
        lines = response.iter_lines()
        frames = read_until_approval(lines)
        run_id = frames[0]["run_id"]
        request = frames[-1]
        assert set(request) == {"event", "type", "tool_name", "tool_input", "message", "seq", "ts"}
        assert "waits up to 1 s" in request["message"]
        body = {"approved": approved} if approved else {"approved": False, "reason": "not today"}
        answers = approve_until_resumed(client, run_id, body)
        frames += [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        late = client.post(f"/api/agents/runs/{run_id}/approve", json=body)
    assert [a.status_code for a in answers] == [404, 404, 200]
    assert all(a.json() == NOT_WAITING for a in answers[:2])
    assert answers[-1].json() == {"status": "resumed"}
    assert late.status_code == 404 and late.json() == NOT_WAITING
    hook = next(f for f in frames if f["event"] == "hook_result")
    result = next(f for f in frames if f["event"] == "tool_result")
    assert hook["blocked"] is (not approved)
    if approved:
        assert hook["message"] is None and "rf_" in result["result_preview"]
    else:
        assert hook["message"] == "Denied by user: not today"
        assert result["result_preview"] == "Error: Blocked by hook — Denied by user: not today"
    assert [f["event"] for f in frames][-3:] == ["on_run_complete", "chunk", "complete"]


def test_an_unanswered_approval_times_out_with_a_blocked_hook(strict_server):
    with api(strict_server) as client:
        response = client.post(
            stream_path(agent_uuid("agt_approval")), json={"message": "refund order 77"}
        )
        frames = frames_of(response)
        stored = client.get(f"/api/agents/runs/{frames[0]['run_id']}").json()
    hook = next(f for f in frames if f["event"] == "hook_result")
    assert (hook["status"], hook["blocked"], hook["message"]) == (
        "timed_out",
        True,
        "Approval timed out",
    )
    result = next(f for f in frames if f["event"] == "tool_result")
    assert result["result_preview"] == "Error: Blocked by hook — Approval timed out"
    assert frames[-1]["status"] == "completed" and "timed out" in frames[-1]["content"]
    assert stored["status"] == "completed"


def test_approve_rejects_a_body_without_a_boolean(strict_server):
    with api(strict_server) as client:
        bad = client.post("/api/agents/runs/run_000000000000/approve", json={"approved": "yes"})
        unknown = client.post("/api/agents/runs/run_000000000000/approve", json={"approved": True})
    assert bad.status_code == 400 and '"approved"' in bad.json()["error"]
    assert unknown.status_code == 404 and unknown.json() == NOT_WAITING


def test_a_denial_reaches_the_stream_no_later_than_the_approve_answer(strict_server):
    """The server sends hook_result and tool_result as it answers the POST: a reader of the
    stream sees the denial even before (or without) reading the POST's reply."""
    agent = agent_uuid("agt_approval")
    seen = threading.Event()
    with (
        api(strict_server) as client,
        client.stream("POST", stream_path(agent), json={"message": "refund 1042"}) as response,
    ):
        lines = response.iter_lines()
        run_id = read_until_approval(lines)[0]["run_id"]

        def watch() -> None:
            for line in lines:
                if '"hook_result"' in line:
                    seen.set()
                    return

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        approve_until_resumed(client, run_id, {"approved": False})
        assert seen.wait(5), "the hook_result follows the approve POST at once"
        reader.join(5)


def test_strict_ids_an_orchestration_id_that_is_not_a_uuid_is_a_permanent_error(strict_server):
    """As recorded (o32): `orch_demo` is Flask's generic HTML 500; the client says the id is
    wrong (an orchestration id is a UUID), never "try again"; its UUID runs."""
    from powawidget.session.chat import ChatSession
    from powawidget.wire.client import PowabaseClient

    with api(strict_server) as client:
        page = client.post("/api/orchestrations/orch_demo/run/stream", json={"message": "hi"})
        listed = client.get("/api/orchestrations").json()["orchestrations"]
    assert page.status_code == 500 and "Either the server is overloaded" in page.text
    with PowabaseClient(strict_server.base_url, strict_server.api_key) as powabase:
        session = ChatSession(powabase, orchestration_id="orch_demo")
        try:
            handle = session.send("hi")
            assert handle.wait(30)
            assert handle.error is not None
            assert "UUID" in handle.error.message and "orchestration" in handle.error.message
            assert "try again" not in handle.error.message.lower()
        finally:
            session.close()
        session = ChatSession(powabase, orchestration_id=listed[0]["id"])
        try:
            session.send("hi")
            assert session.wait(30)
            assert session.conversation.turns[-1].status == "completed"
        finally:
            session.close()
