"""The fault agents for the ways a real run fails (docs/protocol.md, "Failure is decided at the
end of the stream") and for step resets, read over HTTP from the shared local server."""

from __future__ import annotations

import json

import pytest
from server_http import api, stream_path
from server_shapes import PLAIN_COMPLETE, REACT_COMPLETE, assert_framing, assert_react_stream


def run(server: object, agent_id: str, message: str = "go") -> tuple[list[dict], dict]:
    """The frames of one streamed run and the run as GET /api/agents/runs/{id} stores it."""
    with api(server) as client:
        response = client.post(stream_path(agent_id), json={"message": message})
        assert response.status_code == 200, response.text
        frames = [
            json.loads(block[6:])
            for block in response.content.split(b"\n\n")
            if block.startswith(b"data: ")
        ]
        run_id = next((f["run_id"] for f in frames if "run_id" in f), None)
        stored = client.get(f"/api/agents/runs/{run_id}").json() if run_id else {}
    return frames, stored


def names(frames: list[dict]) -> list[str]:
    """The event names, in order."""
    return [f["event"] for f in frames]


def test_the_model_failing_before_it_streams_is_a_failed_complete_without_an_error(local_server):
    frames, stored = run(local_server, "fault_llm_fails_early")
    assert names(frames) == ["start", "step_started", "chunk", "complete"]
    assert_framing(frames)
    assert frames[2] == {"event": "chunk", "content": ""}
    complete = frames[-1]
    assert list(complete) == REACT_COMPLETE
    assert (complete["status"], complete["steps"], complete["usage"]) == ("failed", 0, None)
    assert complete["content"] == "" and complete["tool_calls"] == [] and complete["error"]
    assert stored["status"] == "failed" and stored["error"] == complete["error"]


def test_a_tool_run_failing_mid_answer_sends_two_chunks_around_its_error(local_server):
    frames, stored = run(local_server, "fault_mid_stream")
    tail = names(frames)[-4:]
    assert tail == ["chunk", "error", "chunk", "complete"]
    partial, error, terminal, complete = frames[-4:]
    assert list(partial)[:2] == ["event", "type"] and {"seq", "ts"} <= partial.keys()
    assert terminal == {"event": "chunk", "content": partial["content"]}
    assert error["step"] == 2 and error["error"].startswith("Stream iteration failed")
    assert "message" not in error and "code" not in error
    deltas = "".join(f["delta"] for f in frames if f["event"] == "content_delta")
    assert complete["content"] == deltas == partial["content"] != ""
    assert (complete["status"], complete["steps"], complete["usage"]) == ("failed", 0, None)
    assert complete["tool_calls"] == [], "the failed complete forgets the tool call of step 1"
    assert names(frames).count("tool_result") == 1
    assert_framing(frames, terminal_chunks=1)
    assert stored["status"] == "failed" and stored["content"] == deltas


def test_a_run_without_tools_failing_mid_answer_sends_error_then_failed_complete(local_server):
    frames, stored = run(local_server, "fault_plain_fails")
    assert names(frames) == ["start"] + ["content_delta"] * 4 + ["chunk", "error", "complete"]
    assert_framing(frames)
    chunk, error, complete = frames[-3:]
    assert error == {"event": "error", "error": error["error"], "run_id": frames[0]["run_id"]}
    assert list(complete) == PLAIN_COMPLETE
    assert complete["status"] == "failed" and complete["content"] == chunk["content"]
    assert complete["error"] == error["error"]
    assert stored["status"] == "failed"


@pytest.mark.parametrize(
    ("agent_id", "shape"),
    [("fault_route_error", ["start", "error"]), ("fault_route_error_early", ["error"])],
)
def test_an_exception_in_the_route_is_one_error_frame_and_the_end(local_server, agent_id, shape):
    frames, stored = run(local_server, agent_id)
    assert names(frames) == shape
    error = frames[-1]
    assert list(error) == ["event", "error", "run_id", "context_handler_id"]
    assert "duplicate key value" in error["error"]
    assert stored["status"] == "failed"


def test_the_hosted_unknown_session_answer_is_a_bare_error(local_server):
    frames, _ = run(local_server, "fault_session_not_found")
    assert frames == [{"event": "error", "error": "Session not found"}]


@pytest.mark.parametrize(
    ("reason", "announced_by"),
    [
        ("rate_limit", "model_fallback"),
        ("model_error", "model_fallback"),
        ("prompt_too_long", "reactive_compact"),
        ("output_recovery", "output_recovery"),
    ],
)
def test_a_step_reset_repeats_the_step_number_and_keeps_streamed_text(
    local_server, reason, announced_by
):
    frames, stored = run(local_server, "fault_step_reset", f"go ({reason})")
    resets = [f for f in frames if f["event"] == "step_reset"]
    assert [(r["step"], r["reason"]) for r in resets] == [(1, reason), (2, "output_recovery")]
    assert list(resets[0])[2:4] == ["step", "reason"]
    first = names(frames).index("step_reset")
    assert names(frames)[first - 1] == announced_by
    started = [f["step"] for f in frames if f["event"] == "step_started"]
    assert started == [1, 1, 2, 2], "the same step number starts again"
    deltas = "".join(f["delta"] for f in frames if f["event"] == "content_delta")
    assert frames[-1]["content"] == frames[-2]["content"] == deltas
    assert deltas.startswith("Refunds are available"), "text streamed before a reset stays"
    assert_framing(frames)
    assert stored["status"] == "completed" and stored["steps"] == 2


def test_the_demo_agent_stream_passes_every_react_rule(local_server):
    frames, stored = run(local_server, "agt_demo", "Which one is best for small teams?")
    assert_react_stream(frames)
    assert stored["usage"] == frames[-1]["usage"]
    assert stored["reasoning_steps"][0]["step"] == 1
