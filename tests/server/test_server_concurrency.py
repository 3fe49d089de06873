"""Twenty streams at once: every one completes and the database stays consistent."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from server_http import api, stream_path
from server_shapes import assert_framing


def run_stream(server: object, agent_id: str, message: str, session_id: str | None) -> list[dict]:
    """One streamed run on its own connection; its JSON frames."""
    body: dict = {"message": message}
    if session_id:
        body["session_id"] = session_id
    with (
        api(server, timeout=60.0) as client,
        client.stream("POST", stream_path(agent_id), json=body) as r,
    ):
        assert r.status_code == 200
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]


def test_twenty_concurrent_streams_complete_and_are_stored(local_server):
    questions = [
        "What products do you offer?",
        "What is the refund policy?",
        "What can you help me with?",
        "Which one is best for small teams?",
    ]
    with api(local_server) as client:
        shared = run_stream(local_server, "agt_demo", "open", None)[0]["session_id"]
        jobs = [("agt_demo", questions[i % 4], None) for i in range(12)]
        jobs += [("fault_stall", f"stall 0.{i} please", None) for i in range(3)]
        jobs += [("agt_demo", f"shared {i}: {questions[i % 4]}", shared) for i in range(5)]
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda job: run_stream(local_server, *job), jobs))

        assert len(results) == 20
        run_ids = set()
        for (agent_id, message, _), events in zip(jobs, results, strict=True):
            assert events[0]["event"] == "start" and events[-1]["event"] == "complete"
            assert_framing(events)
            run = client.get(f"/api/agents/runs/{events[0]['run_id']}").json()
            assert run["status"] == "completed"
            assert run["input_messages"] == [{"role": "user", "content": message}]
            assert run["content"] == events[-1]["content"]
            stored = [e for e in events if not e["event"].endswith("_delta")]
            tools = agent_id == "agt_demo"
            assert run["events"] is None if not tools else len(run["events"]) == len(stored)
            run_ids.add(run["run_id"])
        assert len(run_ids) == 20

        messages = client.get(f"/api/sessions/{shared}/messages").json()["messages"]
        assert len(messages) == 2 * 6
        users = [m["content"] for m in messages if m["role"] == "user"]
        assert sorted(users) == sorted(["open", *(job[1] for job in jobs[-5:])])
        assert [m["role"] for m in messages] == ["user", "assistant"] * 6
        sessions = client.get("/api/agents/agt_demo/sessions").json()["sessions"]
        assert next(s for s in sessions if s["session_id"] == shared)["run_count"] == 6
