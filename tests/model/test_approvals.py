"""Approvals as the fold sees them (docs/protocol.md, Approvals): each approval belongs to
the call it gates, whatever its tool's name; the call keeps its own time apart from the
person's wait. Sequences in tests/fixtures/approval_streams.json (built in the server's
shapes; the panel's conformance test replays them too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from powawidget.model.conversation import Conversation
from powawidget.model.tools import plain_reason
from powawidget.model.view import turn_view
from powawidget.outputs.transcript import Transcript
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "approval_streams.json"


def _events(kind: str) -> list[dict[str, Any]]:
    stream = next(s for s in json.loads(FIXTURES.read_text("utf-8")) if s["kind"] == kind)
    normaliser = EventNormaliser()
    return [make_event("user_message", text="question")] + [
        normaliser.normalise(ServerSentEvent(data=json.dumps(frame))) for frame in stream["events"]
    ]


def test_two_approvals_of_one_tool_each_settle_their_own_call() -> None:
    events = _events("two-approvals-one-tool")
    turn = Conversation(events).turns[0]
    first, second = turn.tool_calls
    assert (first.call_id, first.state, first.result) == ("call_R1", "done", '{"refunded": 49}')
    assert (second.call_id, second.state) == ("call_R2", "denied")
    assert [a.outcome for a in turn.approvals] == ["approved", "denied"]
    assert [a.call_id for a in turn.approvals] == ["call_R1", "call_R2"]

    tools = [i for i in turn_view(turn)["items"] if i["kind"] == "tool"]
    assert [t["approval"]["state"] for t in tools] == ["approved", "denied"]  # type: ignore[index]
    assert [t["approval"]["callId"] for t in tools] == ["call_R1", "call_R2"]  # type: ignore[index]
    assert tools[1]["approval"]["reason"] == "already refunded"  # type: ignore[index]
    assert tools[0]["result"] == '{"refunded": 49}' and tools[0]["note"] is None
    # The approved refund ran for 40 ms after a 12 s wait; the denied one never ran.
    assert [t["durationMs"] for t in tools] == [40.0, None]
    assert [t["approvalWaitMs"] for t in tools] == [12000.0, 3000.0]
    # No approval item stands apart from its call: the card tells it, in time order.
    assert [i["kind"] for i in turn_view(turn)["items"]] == ["step", "tool", "tool", "step", "text"]


def test_the_first_approval_is_still_waiting_while_the_second_call_is_asked_for() -> None:
    events = _events("two-approvals-one-tool")
    cut = [e["event"] for e in events].index("approval_requested", 6)  # the second request
    turn = Conversation(events[: cut + 1]).turns[0]
    assert turn.status == "waiting_approval"
    views = [i for i in turn_view(turn)["items"] if i["kind"] == "tool"]
    assert [(v["state"], v["approval"]["state"]) for v in views] == [  # type: ignore[index]
        ("done", "approved"),
        ("pending", "pending"),
    ]


def test_an_approved_tool_shows_its_own_time_and_the_wait_apart() -> None:
    events = _events("approved-after-a-wait")
    transcript = Transcript(events)
    (call,) = transcript.conversation.turns[0].tool_calls
    assert (call.duration_ms, call.approval_wait_ms) == (2.0, 36000.0)
    (row,) = transcript.tool_calls
    assert (row["duration_ms"], row["approval_wait_ms"]) == (2.0, 36000.0)


def test_without_the_hooks_latency_the_wait_is_measured_on_the_clients_clock() -> None:
    at = "2026-12-07T10:00:{:02d}.000Z".format
    events = [
        make_event("user_message", text="q", received_at=at(0)),
        make_event("tool_call", tool_name="lookup", call_id="c1", received_at=at(0)),
        make_event("approval_requested", tool_name="lookup", received_at=at(1)),
        make_event("approval_resolved", arguments={"approved": True}, received_at=at(21)),
        make_event(
            "tool_result", tool_name="lookup", call_id="c1", result="ok", received_at=at(22)
        ),
    ]
    (call,) = Conversation(events).turns[0].tool_calls
    assert (call.approval_wait_ms, call.duration_ms) == (20000.0, 2000.0)


def test_a_call_no_one_was_asked_about_has_no_approval_and_no_wait() -> None:
    events = [
        make_event("user_message", text="q"),
        make_event("tool_call", tool_name="lookup", call_id="c1"),
        make_event("tool_result", tool_name="lookup", call_id="c1", result="ok", duration_ms=7),
    ]
    turn = Conversation(events).turns[0]
    (view,) = [i for i in turn_view(turn)["items"] if i["kind"] == "tool"]
    assert (view["approval"], view["approvalWaitMs"], view["durationMs"]) == (None, None, 7.0)


def test_a_refusal_reads_in_the_users_words() -> None:
    assert plain_reason("Error: Blocked by hook — Denied by user: too much") == "too much"
    assert plain_reason("Blocked by hook - too much") == "too much"
    assert plain_reason("Denied: too much") == "too much"
    assert plain_reason("A plain reason") == "A plain reason"
    # A refusal with no reason of its own leaves none (no "Denied by you: Denied by user").
    for bare in ("Denied by user", "Error: Blocked by hook — Denied by user", "denied.", None):
        assert plain_reason(bare) is None
