"""The conversation model: what a reader of a run sees, folded from real wire frames."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from powawidget.model.conversation import Conversation, ms_between, parse_time
from powawidget.wire.events import format_timestamp, make_event, normalise_stream
from powawidget.wire.sse import iter_events

T0 = 1_795_000_000.0  # 2026-11-18T11:06:40Z
RUN, SESSION = "run_0123456789ab", "sess_0123456789ab"


def stream(*payloads: dict | str, times: Iterable[float] | None = None) -> list[dict]:
    """Canonical events for one stream: frames as bytes → SSE parser → normaliser.

    Each event is received 100 ms after the previous one unless `times` (seconds after
    T0, one per frame) says otherwise.
    """
    body = b"".join(
        b"data: " + (p if isinstance(p, str) else json.dumps(p)).encode() + b"\n\n"
        for p in payloads
    )
    moments = iter(list(times) if times is not None else [0.1 * i for i in range(len(payloads))])
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]  # frames split anywhere
    return list(normalise_stream(iter_events(chunks), clock=lambda: T0 + next(moments)))


def server(*payloads: dict) -> list[dict]:
    """Server-dialect frames: the transport adds type, seq and ts to every payload."""
    return [
        {**p, "type": p["event"], "seq": i, "ts": "2026-11-18T11:06:40Z"}
        for i, p in enumerate(payloads)
    ]


def user(text: str, at: float = -0.5) -> dict:
    """The widget's user_message event, `at` seconds after T0."""
    return make_event("user_message", text=text, received_at=format_timestamp(T0 + at))


START = {"event": "start", "run_id": RUN, "session_id": SESSION}


def test_server_dialect_terminal_chunk_replaces_the_streamed_deltas() -> None:
    events = stream(
        *server(
            START,
            {"event": "step_started", "step": 1, "is_last_step": False},
            {"event": "content_delta", "delta": "The refund "},
            {"event": "content_delta", "delta": "window is 30 days"},
            {"event": "chunk", "content": "The refund window is 30 days. [edited by hook]"},
            {"event": "step_completed", "step": 1, "finish_reason": "stop"},
            {
                "event": "complete",
                "run_id": RUN,
                "session_id": SESSION,
                "content": "The refund window is 30 days. [edited by hook]",
                "status": "completed",
                "steps": 1,
                "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
            },
        )
    )
    conv = Conversation([user("What is the refund policy?"), *events])
    (turn,) = conv.turns
    assert turn.user_text == "What is the refund policy?"
    assert turn.text == "The refund window is 30 days. [edited by hook]"
    assert conv.final_text() == conv.final_text(turn) == conv.final_text(0) == turn.text
    assert (turn.run_id, turn.session_id, turn.status) == (RUN, SESSION, "completed")
    assert [(s.number, s.finish_reason) for s in turn.steps] == [(1, "stop")]
    assert turn.usage == {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
    assert turn.warnings == []


def test_partial_text_is_visible_while_streaming() -> None:
    events = stream(*server(START, {"event": "content_delta", "delta": "Hel"}))
    conv = Conversation([user("hi"), *events])
    assert conv.last_turn is not None
    assert (conv.last_turn.text, conv.last_turn.status) == ("Hel", "streaming")
    conv.apply(stream(*server({"event": "content_delta", "delta": "lo"}))[0])
    assert conv.last_turn.text == "Hello"


def test_documented_dialect_chunks_append_and_results_pair_first_in_first_out() -> None:
    events = stream(
        {"event": "start", "session_id": SESSION, "run_id": RUN},
        {"event": "step_started", "step_number": 1},
        {"event": "tool_call", "tool_name": "search", "arguments": {"q": "a"}},
        {"event": "tool_call", "tool_name": "search", "arguments": {"q": "b"}},
        {"event": "tool_result", "result": "found a"},
        {"event": "tool_result", "result": "found b"},
        {"event": "chunk", "content": "Both "},
        {"event": "chunk", "content": "found."},
        {"event": "step_completed", "step_number": 1},
        {"event": "complete", "usage": {"prompt_tokens": 5, "completion_tokens": 2}},
    )
    turn = Conversation([user("find a and b"), *events]).turns[0]
    assert turn.text == "Both found."
    assert [(c.arguments, c.result, c.state, c.step) for c in turn.tool_calls] == [
        ({"q": "a"}, "found a", "done", 1),
        ({"q": "b"}, "found b", "done", 1),
    ]
    assert turn.status == "completed"


def test_concurrent_tool_results_out_of_order_pair_by_call_id() -> None:
    events = stream(
        *server(
            START,
            {"event": "tool_call", "step": 1, "tool_name": "get_policy", "call_id": "c1",
             "arguments": {"topic": "refunds"}},
            {"event": "tool_call", "step": 1, "tool_name": "get_policy", "call_id": "c2",
             "arguments": {"topic": "shipping"}},
            {"event": "tool_call", "step": 1, "tool_name": "calculator", "call_id": "c3",
             "arguments": {"expression": "2+2"}},
            {"event": "tool_result", "step": 1, "tool_name": "calculator", "call_id": "c3",
             "result_preview": "4", "duration_ms": 1.5},
            {"event": "tool_result", "step": 1, "tool_name": "get_policy", "call_id": "c2",
             "result_preview": "ships in 2 days", "duration_ms": 7},
            {"event": "tool_result", "step": 1, "tool_name": "get_policy", "call_id": "c1",
             "result_preview": "30 days", "duration_ms": 9},
        )
    )  # fmt: skip
    turn = Conversation(events).turns[0]
    assert [(c.call_id, c.result, c.duration_ms) for c in turn.tool_calls] == [
        ("c1", "30 days", 9.0),
        ("c2", "ships in 2 days", 7.0),
        ("c3", "4", 1.5),
    ]
    assert {c.state for c in turn.tool_calls} == {"done"}


def test_without_call_ids_results_pair_first_in_first_out_per_tool_name() -> None:
    events = stream(
        {"event": "tool_call", "tool_name": "a", "arguments": {"n": 1}},
        {"event": "tool_call", "tool_name": "b", "arguments": {"n": 2}},
        {"event": "tool_call", "tool_name": "a", "arguments": {"n": 3}},
        {"event": "tool_result", "tool_name": "b", "result": "B2"},
        {"event": "tool_result", "tool_name": "a", "result": "A1"},
        {"event": "tool_result", "tool_name": "a", "result": "A3"},
    )
    calls = Conversation(events).turns[0].tool_calls
    assert [(c.tool_name, c.arguments["n"], c.result) for c in calls] == [
        ("a", 1, "A1"),
        ("b", 2, "B2"),
        ("a", 3, "A3"),
    ]


def test_tool_call_states_and_measured_duration() -> None:
    events = stream(
        *server(
            START,
            {"event": "tool_call", "tool_name": "slow", "call_id": "c1", "arguments": {}},
            {"event": "tool_result", "tool_name": "slow", "call_id": "c1", "result_preview": "ok"},
        ),
        times=[0.0, 1.0, 1.3],
    )
    conv = Conversation(events[:2])
    call = conv.turns[0].tool_calls[0]
    assert (call.state, call.result, call.duration_ms) == ("running", None, None)
    conv.apply(events[2])
    assert (call.state, call.result) == ("done", "ok")
    assert call.duration_ms == pytest.approx(300.0)  # no server duration: measured


def test_a_failing_tool_is_an_error_state() -> None:
    events = stream(
        *server(
            {"event": "tool_call", "tool_name": "t", "call_id": "c1", "arguments": {}},
            {"event": "tool_result", "tool_name": "t", "call_id": "c1",
             "result_preview": "boom", "result_meta": {"error": True}},
        )
    )  # fmt: skip
    call = Conversation(events).turns[0].tool_calls[0]
    assert (call.state, call.error) == ("error", "boom")


def test_complete_summary_gives_full_results_beyond_the_stream_preview() -> None:
    full = "x" * 500
    events = stream(
        *server(
            START,
            {"event": "tool_call", "step": 1, "tool_name": "read", "call_id": "c1",
             "arguments": {"doc": 1}},
            {"event": "tool_result", "step": 1, "tool_name": "read", "call_id": "c1",
             "result_preview": full[:200], "duration_ms": 3},
            {"event": "complete", "run_id": RUN, "content": "done", "status": "completed",
             "steps": 2, "tool_calls": [
                 {"step": 1, "tool_name": "read", "arguments": {"doc": 1}, "result": full,
                  "duration_ms": 3},
                 {"step": 2, "tool_name": "other", "arguments": {}, "result": {"n": 1},
                  "duration_ms": 4}]},
        )
    )  # fmt: skip
    turn = Conversation(events).turns[0]
    assert [c.result for c in turn.tool_calls] == [full, '{"n": 1}']
    assert turn.tool_calls[1].state == "done"
    assert turn.step_count == 2


def test_failed_complete_is_a_failure_and_keeps_the_partial_text() -> None:
    events = stream(
        *server(
            START,
            {"event": "content_delta", "delta": "Partial"},
            {"event": "tool_call", "tool_name": "t", "call_id": "c1", "arguments": {}},
            {"event": "complete", "run_id": RUN, "content": "", "status": "failed",
             "error": "model overloaded"},
        )
    )  # fmt: skip
    turn = Conversation(events).turns[0]
    assert turn.status == "failed"
    assert (turn.error_message, turn.error_code) == ("model overloaded", "run_failed")
    assert turn.text == "Partial"
    assert turn.tool_calls[0].state == "error"
    assert turn.ended_at == events[-1]["received_at"]


def test_error_event_then_failed_complete_keeps_the_first_error() -> None:
    events = stream(
        {"event": "start", "run_id": RUN, "session_id": SESSION},
        {"event": "error", "message": "Too many requests", "code": "rate_limited", "step": 2},
        {"event": "complete", "status": "failed", "error": "something else"},
    )
    turn = Conversation(events).turns[0]
    assert (turn.status, turn.error_code, turn.error_message, turn.error_step) == (
        "failed",
        "rate_limited",
        "Too many requests",
        2,
    )


def test_client_error_and_stop_end_the_turn() -> None:
    failed = Conversation(
        [
            user("q"),
            *stream(START),
            make_event("client_error", error_message="connection lost", error_code="stream_lost"),
        ]
    ).turns[0]
    assert (failed.status, failed.error_code) == ("failed", "stream_lost")

    events = stream(*server(START, {"event": "tool_call", "tool_name": "t", "call_id": "c"}))
    conv = Conversation([user("q"), *events, make_event("stopped")])
    turn = conv.turns[0]
    assert (turn.status, turn.tool_calls[0].state, turn.finished) == ("stopped", "error", True)
    conv.apply(make_event("complete", status="completed", text="late"))
    assert turn.status == "stopped"


def test_malformed_frames_leave_a_warning_and_the_stream_goes_on() -> None:
    events = stream(
        *server(START, {"event": "content_delta", "delta": "Hello"}),
        "{not json",
        *server({"event": "content_delta", "delta": " world"}),
    )
    turn = Conversation(events).turns[0]
    assert turn.text == "Hello world"
    assert len(turn.warnings) == 1 and "malformed" in turn.warnings[0]
    assert "{not json" in turn.warnings[0]
    assert [e["event"] for e in turn.events].count("malformed") == 1


def test_unknown_events_are_kept_on_their_turn() -> None:
    events = stream(*server(START, {"event": "model_fallback", "from": "a", "to": "b"}))
    turn = Conversation(events).turns[0]
    assert turn.events[1]["event"] == "model_fallback"
    assert turn.events[1]["raw"]["to"] == "b"
    assert turn.warnings == []


def test_reasoning_deltas_append_and_whole_reasoning_replaces() -> None:
    events = stream(
        *server(
            {"event": "reasoning_delta", "step": 1, "delta": "Think"},
            {"event": "reasoning_delta", "step": 1, "delta": "ing"},
        )
    )
    conv = Conversation(events)
    assert conv.turns[0].reasoning == "Thinking"
    conv.apply(stream(*server({"event": "reasoning", "content": "Whole thought"}))[0])
    assert conv.turns[0].reasoning == "Whole thought"


def test_tool_less_whole_reasoning_without_deltas_goes_before_the_answer() -> None:
    # Tool-less path: no step_started, so the answer's text has no step; the terminal
    # `reasoning` (step 1) comes after the chunk and is shown before the answer.
    events = stream(
        START,
        {"event": "chunk", "content": "A"},
        {"event": "chunk", "content": "B"},
        {
            "event": "reasoning",
            "type": "reasoning",
            "step": 1,
            "source": "thinking",
            "content": "R",
        },
        {"event": "complete", "run_id": RUN, "content": "AB", "status": "completed"},
    )
    turn = Conversation([user("q"), *events]).turns[0]
    assert [type(i).__name__ for i in turn.items] == ["ReasoningBlock", "TextSegment"]
    assert (turn.reasoning, turn.text) == ("R", "AB")


def test_whole_reasoning_with_a_step_replaces_deltas_that_carried_none() -> None:
    # The deltas name no step, the whole `reasoning` names step 1: it is the same
    # reasoning, so it replaces them in one block (the panel and the CLI show it once).
    events = stream(
        START,
        {"event": "reasoning_delta", "delta": "weighed "},
        {"event": "reasoning_delta", "delta": "both"},
        {"event": "content_delta", "delta": "answer"},
        {"event": "chunk", "content": "answer"},
        {"event": "reasoning", "step": 1, "source": "thinking", "content": "Both weigh 1 kg."},
        {"event": "complete", "run_id": RUN, "content": "answer", "status": "completed"},
    )
    turn = Conversation([user("q"), *events]).turns[0]
    assert [type(i).__name__ for i in turn.items] == ["ReasoningBlock", "TextSegment"]
    block = turn.items[0]
    assert (block.text, block.step, block.done) == ("Both weigh 1 kg.", 1, True)
    assert (turn.reasoning, turn.text) == ("Both weigh 1 kg.", "answer")


def test_the_turn_view_carries_the_run_time_the_panel_draws() -> None:
    # From the user's message to the end of the run, however short; none while the run
    # goes on, and none for a turn loaded from history.
    from powawidget.model.view import turn_view

    events = stream(
        START,
        {"event": "content_delta", "delta": "Hi"},
        {"event": "complete", "run_id": RUN, "content": "Hi", "status": "completed"},
        times=[0.0, 0.01, 0.047],
    )
    conv = Conversation([user("q", at=0.0)])
    conv.extend(events[:2])
    assert turn_view(conv.turns[0])["runMs"] is None
    conv.extend(events[2:])
    assert turn_view(conv.turns[0])["runMs"] == 47.0
    loaded = Conversation(
        [make_event("history", text="q", run_id=RUN, arguments={"role": "user"}), *events]
    )
    assert loaded.turns[0].from_history
    assert turn_view(loaded.turns[0])["runMs"] is None


def test_events_before_any_user_message_fold_into_an_implicit_turn() -> None:
    first = stream(*server(START, {"event": "complete", "content": "one", "status": "completed"}))
    second = stream(
        *server(
            {**START, "run_id": "run_bbbbbbbbbbbb"},
            {"event": "complete", "content": "two", "status": "completed"},
        )
    )
    conv = Conversation([*first, *second])
    assert [(t.user_text, t.text, t.run_id) for t in conv.turns] == [
        (None, "one", RUN),
        (None, "two", "run_bbbbbbbbbbbb"),
    ]


def test_a_user_message_starts_each_turn() -> None:
    conv = Conversation(
        [
            user("one"),
            *stream(*server(START, {"event": "complete", "content": "1", "status": "completed"})),
            user("two"),
            *stream(*server(START, {"event": "complete", "content": "2", "status": "completed"})),
        ]
    )
    assert [(t.index, t.user_text, t.text) for t in conv.turns] == [
        (0, "one", "1"),
        (1, "two", "2"),
    ]
    assert conv.event_turns == [0, 0, 0, 1, 1, 1]


def test_new_session_is_a_divider() -> None:
    conv = Conversation(
        [
            user("a"),
            *stream(START),
            make_event("new_session"),
            user("b"),
            *stream({**START, "session_id": "sess_bbbbbbbbbbbb"}),
        ]
    )
    assert [(t.session_index, t.session_id) for t in conv.turns] == [
        (0, SESSION),
        (1, "sess_bbbbbbbbbbbb"),
    ]
    assert conv.event_turns == [0, 0, None, 1, 1]


def test_history_messages_become_completed_turns_without_tool_calls() -> None:
    def history(role: str, text: str, run_id: str) -> dict:
        meta = {"role": role, "timestamp": "2026-11-18T10:00:00Z"}
        return make_event("history", text=text, arguments=meta, run_id=run_id)

    conv = Conversation(
        [
            history("user", "Q1", "run_1"),
            history("assistant", "A1", "run_1"),
            history("user", "Q2", "run_2"),
            history("assistant", "A2", "run_2"),
            user("Q3"),
            *stream(*server(START, {"event": "complete", "content": "A3", "status": "completed"})),
        ]
    )
    assert [(t.user_text, t.text, t.status, t.from_history) for t in conv.turns] == [
        ("Q1", "A1", "completed", True),
        ("Q2", "A2", "completed", True),
        ("Q3", "A3", "completed", False),
    ]
    assert conv.turns[0].tool_calls == []


def test_approval_requested_then_approved() -> None:
    events = stream(
        *server(
            START,
            {"event": "tool_call", "tool_name": "refund", "call_id": "c1",
             "arguments": {"order": 7}},
            {"event": "approval_requested", "tool_name": "refund",
             "tool_input": {"order": 7}, "message": "Refund order 7?"},
        )
    )  # fmt: skip
    conv = Conversation([user("refund 7"), *events])
    turn = conv.turns[0]
    assert turn.status == "waiting_approval"
    assert turn.tool_calls[0].state == "pending"
    assert (turn.approvals[0].message, turn.approvals[0].approved) == ("Refund order 7?", None)

    conv.apply(make_event("approval_resolved", arguments={"approved": True, "reason": None}))
    assert (turn.status, turn.tool_calls[0].state, turn.approvals[0].approved) == (
        "streaming",
        "running",
        True,
    )
    conv.extend(
        stream(
            *server(
                {"event": "tool_result", "tool_name": "refund", "call_id": "c1",
                 "result_preview": "refunded"},
                {"event": "complete", "content": "Done.", "status": "completed"},
            )
        )
    )  # fmt: skip
    assert (turn.tool_calls[0].state, turn.status) == ("done", "completed")


def test_approval_before_the_call_then_denied() -> None:
    events = stream(
        *server(
            START,
            {"event": "approval_requested", "tool_name": "delete", "tool_input": {"id": 1},
             "message": "Delete 1?"},
        )
    )  # fmt: skip
    conv = Conversation(events)
    turn = conv.turns[0]
    assert [(c.tool_name, c.arguments, c.state) for c in turn.tool_calls] == [
        ("delete", {"id": 1}, "pending")
    ]
    conv.apply(make_event("approval_resolved", arguments={"approved": False, "reason": "no"}))
    assert (turn.tool_calls[0].state, turn.tool_calls[0].error) == ("denied", "Denied by user: no")
    conv.apply(
        stream(
            *server({"event": "tool_result", "tool_name": "delete", "result_preview": "denied"})
        )[0]
    )
    assert len(turn.tool_calls) == 1
    assert (turn.tool_calls[0].result, turn.tool_calls[0].state) == ("denied", "denied")


def test_unmatched_results_and_resolutions_are_warnings_not_crashes() -> None:
    conv = Conversation(
        [
            *stream(*server({"event": "tool_result", "tool_name": "x", "call_id": "zz"})),
            make_event("approval_resolved", arguments={"approved": True}),
        ]
    )
    turn = conv.turns[0]
    assert len(turn.warnings) == 2
    assert turn.tool_calls[0].tool_name == "x"


def test_usage_total_sums_every_turn() -> None:
    def run(prompt: int, completion: int) -> list[dict]:
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "cached_tokens": 1}
        return stream(*server(START, {"event": "complete", "status": "completed", "usage": usage}))

    conv = Conversation([user("a"), *run(10, 5), user("b"), *run(20, 7), user("c")])
    assert conv.usage_total == {
        "prompt_tokens": 30,
        "completion_tokens": 12,
        "total_tokens": 42,
        "cached_tokens": 2,
    }


def test_hand_made_events_without_text_mode_append() -> None:
    conv = Conversation([make_event("chunk", text="a"), make_event("chunk", text="b")])
    assert conv.final_text() == "ab"
    assert Conversation().final_text() == ""


def test_non_dict_events_are_refused() -> None:
    with pytest.raises(TypeError, match="dict"):
        Conversation(["chunk"])  # type: ignore[list-item]


def test_time_helpers_read_iso_utc() -> None:
    assert ms_between("2026-11-24T08:00:00.000Z", "2026-11-24T08:00:01.250Z") == 1250.0
    assert ms_between("2026-11-24T08:00:00+00:00", "2026-11-24T09:00:00+01:00") == 0.0
    assert ms_between(None, "2026-11-24T08:00:00Z") is None
    assert parse_time("yesterday") is None


def test_start_names_the_session_even_when_the_user_message_guessed_another() -> None:
    stale = make_event("user_message", text="hi", session_id="sess_expired00000")
    turn = Conversation([stale, *stream(START)]).turns[0]
    assert (turn.session_id, turn.run_id) == (SESSION, RUN)


def test_a_decision_logged_after_the_result_it_let_through_changes_nothing_back() -> None:
    # approve() logs approval_resolved once the server accepted it: the run may already
    # have sent the tool's result (and even finished) by then.
    requested = stream(
        *server(
            START,
            {"event": "tool_call", "tool_name": "refund", "call_id": "c1",
             "arguments": {"order": 7}},
            {"event": "approval_requested", "tool_name": "refund", "message": "Refund 7?"},
            {"event": "tool_result", "tool_name": "refund", "call_id": "c1",
             "result_preview": "refunded"},
        )
    )  # fmt: skip
    conv = Conversation([user("refund 7"), *requested])
    turn = conv.turns[0]
    assert (turn.tool_calls[0].state, turn.status) == ("done", "streaming")
    conv.apply(make_event("approval_resolved", arguments={"approved": True, "reason": None}))
    assert (turn.tool_calls[0].state, turn.status, turn.approvals[0].approved) == (
        "done",
        "streaming",
        True,
    )
    assert turn.warnings == []


def test_a_decision_logged_after_complete_keeps_the_finished_run_as_it_was() -> None:
    denied = stream(
        *server(
            START,
            {"event": "approval_requested", "tool_name": "delete", "tool_input": {"id": 1}},
            {"event": "tool_result", "tool_name": "delete", "status": "error",
             "result_preview": "denied by the user"},
            {"event": "complete", "content": "Not deleted.", "status": "completed"},
        )
    )  # fmt: skip
    conv = Conversation(denied)
    conv.apply(make_event("approval_resolved", arguments={"approved": False, "reason": "no"}))
    turn = conv.turns[0]
    assert (turn.status, turn.text) == ("completed", "Not deleted.")
    assert (turn.tool_calls[0].state, turn.tool_calls[0].error) == ("error", "denied by the user")
    assert turn.approvals[0].approved is False
    approved = stream(
        *server(
            START,
            {"event": "tool_call", "tool_name": "refund", "call_id": "c1"},
            {"event": "approval_requested", "tool_name": "refund"},
            {"event": "complete", "content": "Done.", "status": "completed"},
        )
    )  # fmt: skip
    conv = Conversation([*approved, make_event("approval_resolved", arguments={"approved": True})])
    assert (conv.turns[0].tool_calls[0].state, conv.turns[0].status) == ("done", "completed")


def test_usage_without_a_total_gets_one_derived_in_python_for_every_sum() -> None:
    """The panel draws `total_tokens` and never derives it: a turn whose server left the
    total out still counts in the turn's footer, the session's and the Python sum."""
    from powawidget.model.view import turn_view

    counted = [
        make_event("user_message", text="a"),
        make_event("complete", status="completed", text="x", usage={"total_tokens": 10}),
        make_event("user_message", text="b"),
        make_event(
            "complete",
            status="completed",
            text="y",
            usage={"prompt_tokens": 3, "completion_tokens": 4},
        ),
    ]
    conv = Conversation(counted)
    second = turn_view(conv.turns[1])
    assert second["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert conv.usage_total["total_tokens"] == 17
