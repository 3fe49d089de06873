"""Every recorded orchestration stream folds into the turn RECORDINGS.md describes.

The captures in `tests/fixtures/orchestrations/` are the real server's bytes (o22 is rebuilt
from its stored run: see the README there). Each goes through the real SSE decoder and
normaliser after a user message; the expectations below are written by hand from the
recording's description (RECORDINGS.md, "Captures" and "Surprises"), not from the fold.
"""

from __future__ import annotations

from pathlib import Path

from powawidget.model.conversation import Conversation
from powawidget.model.turns import Delegation, ToolCall, Turn
from powawidget.model.view import turn_view
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import SSEDecoder

FIXTURES = Path(__file__).parents[1] / "fixtures" / "orchestrations"

USAGE_260 = {
    "prompt_tokens": 260,
    "completion_tokens": 41,
    "reasoning_tokens": 0,
    "cached_tokens": 0,
    "cache_creation_tokens": 0,
    "total_tokens": 301,
}
CITIES = '[{"name": "Lagos", "population": 15388000}, {"name": "Osaka", "population": 2752412}]'
CHILD_ANSWER = f"I looked it up. Results: {CITIES} Done."
STUB_500 = (
    "litellm.InternalServerError: InternalServerError: OpenAIException - Internal error (stub)"
)


def capture_events(name: str, question: str = "question") -> list[dict]:
    """A capture as canonical events, after the user's message."""
    decoder = SSEDecoder()
    frames = decoder.feed((FIXTURES / name).read_bytes()) + decoder.close()
    normaliser = EventNormaliser()
    return [make_event("user_message", text=question)] + [normaliser.normalise(f) for f in frames]


def fold(name: str) -> Turn:
    conversation = Conversation(capture_events(name))
    assert len(conversation.turns) == 1
    return conversation.turns[0]


def kinds(run: Turn) -> list[str]:
    return [type(i).__name__ for i in run.items]


def test_o10_plain_orchestration_is_one_turn_with_the_orchestrators_answer() -> None:
    turn = fold("o10_run_plain.sse")
    assert turn.status == "completed"
    assert turn.text == "Stub answer #1: What is the capital of France?."
    assert turn.server_text is None
    assert turn.orchestration == {"name": "city-desk", "strategy": "supervisor"}
    assert turn.delegations == [] and turn.tool_calls == []
    assert turn.run_id == "orch_run_351a8be192c1"
    assert turn.session_id == "orch_sess_c53b60e4f4f9"
    assert turn.usage is not None and turn.usage["total_tokens"] == 158
    assert turn.step_count == 1


def test_o11_delegation_is_a_child_run_and_the_answer_is_the_orchestrators_own() -> None:
    turn = fold("o11_run_delegate_tool.sse")
    assert turn.status == "completed"
    # The orchestrator's own four deltas, not the glued chunk/complete.content.
    assert turn.text == f"I looked it up. Results: {CHILD_ANSWER} Done."
    assert turn.server_text == CHILD_ANSWER + f"I looked it up. Results: {CHILD_ANSWER} Done."
    # Its card: step 1, the delegation in place of the delegate tool's card, step 2, text.
    assert kinds(turn) == ["Step", "Delegation", "Step", "TextSegment"]
    (delegation,) = turn.delegations
    assert isinstance(delegation, Delegation)
    assert delegation.agent == "tools-agent"
    assert delegation.task == "Find the two biggest cities #tool1"
    assert delegation.child_run_id == "09532f7a-1d2f-4cf7-b7e4-2dfdb0e9bb8c"
    assert delegation.status == "completed"
    # 01:31:08.387874 → 01:31:08.586797 by the server's clock (`ts`), replay or live.
    assert delegation.duration_ms == 198.923
    # The orchestrator's delegate call is still its tool call, answered with the child's text.
    (call,) = turn.tool_calls
    assert isinstance(call, ToolCall) and call.tool_name == "delegate_to_tools-agent"
    assert call is delegation.call and call.state == "done" and call.result == CHILD_ANSWER
    assert call.duration_ms == 204
    # The sub-agent's run: two steps, database_query, its answer, its usage.
    child = delegation.run
    assert child.depth == 1 and child.agent == "tools-agent"
    assert child.parent_run_id == "orch_run_f073a9b991c6"
    assert child.run_id == "09532f7a-1d2f-4cf7-b7e4-2dfdb0e9bb8c"
    assert child.user_text == "Find the two biggest cities #tool1"
    assert child.status == "completed"
    assert [(c.tool_name, c.call_id, c.state) for c in child.tool_calls] == [
        ("database_query", "call_stub_6_a", "done")
    ]
    assert child.tool_calls[0].result == CITIES
    assert child.text == CHILD_ANSWER
    assert kinds(child) == ["Step", "ToolCall", "Step", "TextSegment"]
    assert child.step_count == 2 and [s.number for s in child.steps] == [1, 2]
    assert child.usage == USAGE_260
    # The orchestrator's steps are its own (the child's restart at 1 did not merge in).
    assert [s.number for s in turn.steps] == [1, 2]
    assert turn.usage == USAGE_260


def test_o13_delegation_to_the_plain_agent() -> None:
    turn = fold("o13_run_delegate_plain.sse")
    child_text = "Stub answer #1: Say hello from the plain agent."
    assert turn.status == "completed"
    assert turn.text == f"I looked it up. Results: {child_text} Done."
    assert turn.server_text == child_text + turn.text
    (delegation,) = turn.delegations
    assert delegation.agent == "plain-agent" and delegation.status == "completed"
    assert delegation.run.text == child_text
    assert delegation.run.tool_calls == []
    assert kinds(delegation.run) == ["Step", "TextSegment"]
    assert delegation.run.usage is not None and delegation.run.usage["total_tokens"] == 158


def test_o20_o21_orchestrator_failure_without_an_error_event_is_a_failed_turn() -> None:
    for name, error in [
        (
            "o20_run_fail_429.sse",
            "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached (stub)",
        ),
        ("o21_run_fail_500.sse", STUB_500),
    ]:
        turn = fold(name)
        assert turn.status == "failed", name
        assert turn.error_message == error
        assert turn.text == ""
        assert turn.delegations == []
        assert turn.usage == {}  # the orchestration_completed(failed) usage: nothing counted
        view = turn_view(turn)
        assert view["status"] == "failed" and view["error"] is not None
        assert view["error"]["message"] == error


def test_o22_failed_child_is_a_failed_card_in_a_completed_orchestration() -> None:
    turn = fold("o22_run_subagent_fail_500.rebuilt.sse")
    assert turn.status == "completed"  # the orchestration still completes
    (delegation,) = turn.delegations
    assert delegation.status == "failed"
    child = delegation.run
    assert child.status == "failed"
    assert child.error_message == STUB_500  # only in the delegate tool's result
    assert child.usage is None and child.step_count == 1  # one step started; server says 0
    assert child.text == ""
    assert turn.text == f"I looked it up. Results: {STUB_500} Done."
    assert turn.server_text is None  # the failed child streamed nothing: nothing glued


def test_o12_o24_follow_ups_are_plain_orchestration_turns() -> None:
    turn = fold("o12_run_followup_session.sse")
    assert turn.status == "completed" and turn.text == "Stub answer #2: And what about Europe?."
    assert turn.session_id == "orch_sess_79ea631d0227"
    turn = fold("o24_run_client_chosen_session_id.sse")
    assert turn.session_id == "my-own-session-1" and turn.status == "completed"


def test_o31_unknown_orchestration_is_a_failed_turn_saying_not_found() -> None:
    turn = fold("o31_run_unknown_orchestration.sse")
    assert turn.status == "failed"
    assert turn.error_message == "Orchestration 00000000-0000-4000-8000-000000000000 not found"
    assert turn.run_id is None


def test_delegation_view_nests_the_child_run() -> None:
    view = turn_view(fold("o11_run_delegate_tool.sse"))
    kinds_ = [i["kind"] for i in view["items"]]
    assert kinds_ == ["step", "delegation", "step", "text"]
    card = view["items"][1]
    assert card["kind"] == "delegation"
    assert card["agent"] == "tools-agent"
    assert card["task"] == "Find the two biggest cities #tool1"
    assert card["status"] == "completed"
    assert card["durationMs"] is not None and card["durationMs"] >= 0
    assert card["callId"] == "call_stub_5_d"
    run = card["run"]
    assert [i["kind"] for i in run["items"]] == ["step", "tool", "step", "text"]
    assert run["items"][1]["toolName"] == "database_query"
    assert run["status"] == "completed" and run["usage"] == USAGE_260
    assert view["answer"] is None  # the items say the orchestrator's own answer
    usage = view["runUsage"]
    assert usage is not None
    assert [u["agent"] for u in usage] == ["city-desk", "tools-agent"]
    assert view["usageTotal"] is not None and view["usageTotal"]["total_tokens"] == 602


def test_an_orchestration_ended_mid_delegation_closes_the_child() -> None:
    events = capture_events("o11_run_delegate_tool.sse")
    cut = next(n for n, e in enumerate(events) if e["event"] == "tool_result")  # the child's
    conversation = Conversation(events[:cut])
    turn = conversation.turns[0]
    assert turn.delegations[0].status == "running"
    assert turn.delegations[0].run.tool_calls[0].state == "running"
    conversation.apply(make_event("stopped"))
    assert turn.status == "stopped"
    assert turn.delegations[0].status == "stopped"
    assert turn.delegations[0].run.tool_calls[0].state == "error"


def test_partial_recordings_of_the_hosted_service_keep_who_did_what() -> None:
    import json

    sequences = json.loads((FIXTURES.parent / "powabase_streams.json").read_text("utf-8"))
    by_source = {s["source"].split(" ")[0]: s for s in sequences}
    trace = next(s for k, s in by_source.items() if "01-multi-agent-support-team" in k)
    normaliser = EventNormaliser()
    from powawidget.wire.sse import ServerSentEvent

    events = [make_event("user_message", text="q")] + [
        normaliser.normalise(ServerSentEvent(data=json.dumps(e))) for e in trace["events"]
    ]
    turn = Conversation(events).turns[0]
    (delegation,) = turn.delegations
    assert delegation.agent == "billing-agent" and delegation.status == "completed"
    assert [(c.tool_name, c.state) for c in delegation.run.tool_calls] == [
        ("knowledge_base_search", "done")
    ]
    assert delegation.run.step_count == 1 and turn.tool_calls == []
    usage = next(s for k, s in by_source.items() if "model-ratelimit.md:18" in k)
    events = [make_event("user_message", text="q")] + [
        normaliser.normalise(ServerSentEvent(data=json.dumps(e))) for e in usage["events"]
    ]
    turn = Conversation(events).turns[0]
    assert [d.run.usage for d in turn.delegations] == [{"total_tokens": 70}, {"total_tokens": 67}]
    assert turn.usage == {"total_tokens": 1156}
    assert turn_view(turn)["usageTotal"] == {"total_tokens": 1293}


def test_a_delegations_usage_out_of_range_is_dropped_like_any_measure() -> None:
    """A child's usage passes the same door as every measure: a 400-digit or NaN count is
    None (and noted), never summed into the footer's total."""
    huge = "9" * 400
    frames = (
        'data: {"event": "start", "run_id": "orch_run_1", "session_id": "s"}\n\n'
        'data: {"event": "delegation_started", "agent": "a", "task": "t", '
        '"child_execution_id": "c1"}\n\n'
        'data: {"event": "delegation_completed", "agent": "a", "child_execution_id": "c1", '
        f'"status": "completed", "steps": {huge}, "usage": {{"prompt_tokens": {huge}, '
        '"completion_tokens": NaN, "total_tokens": 7}}\n\n'
        'data: {"event": "complete", "status": "completed", "content": "ok"}\n\n'
    ).encode()
    decoder = SSEDecoder()
    normaliser = EventNormaliser()
    events = [make_event("user_message", text="q")]
    events += [normaliser.normalise(f) for f in decoder.feed(frames) + decoder.close()]
    turn = Conversation(events).turns[0]
    child = turn.delegations[0].run
    assert child.steps_reported is None
    assert child.usage is not None
    assert child.usage.get("prompt_tokens") is None
    assert child.usage.get("completion_tokens") is None
    assert child.usage["total_tokens"] == 7
    assert events[3]["dropped"] is not None
    view = turn_view(turn)
    assert view["status"] == "completed"
