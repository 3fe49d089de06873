"""Loading a stored session: every run with its tool calls and failures, as canonical events.

Stored runs come as the open-source backend returns them from /api/sessions/{id}/runs
(events keyed by `type`, no deltas, full tool results in `tool_calls`); a scripted peer
plays an older server without /runs and an unknown session.
"""

from __future__ import annotations

from typing import Any

import pytest
from scripted_peer import Reply, scripted_peer

from powawidget.model.conversation import Conversation
from powawidget.session.chat import ChatSession
from powawidget.session.history import (
    UnknownSessionError,
    load_history,
    run_events,
    runs_events,
)
from powawidget.wire.client import PowabaseClient
from powawidget.wire.errors import PowabaseError
from powawidget.wire.events import EVENT_KEYS

SESSION = "sess_0123456789ab"

TOOL_RUN = {
    "run_id": "run_00000000000a",
    "status": "completed",
    "input_messages": [{"role": "user", "content": "What is the refund policy?"}],
    "content": "Let me check.Refunds take 5 days.",
    "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    "created_at": "2026-11-20T10:00:00+00:00",
    "completed_at": "2026-11-20T10:00:04+00:00",
    "steps": 2,
    "events": [
        {"type": "step_started", "step": 1, "is_last_step": False, "seq": 1},
        {"type": "reasoning", "step": 1, "source": "thinking", "content": "Search the KB."},
        {
            "type": "tool_call",
            "step": 1,
            "tool_name": "knowledge_search",
            "arguments": {"query": "refund"},
            "call_id": "call_1",
        },
        {
            "type": "tool_result",
            "step": 1,
            "tool_name": "knowledge_search",
            "call_id": "call_1",
            "result_preview": "Refunds: 5 days",
            "duration_ms": 41,
        },
        {"type": "step_completed", "step": 1, "finish_reason": "tool_calls"},
    ],
    "tool_calls": [
        {
            "step": 1,
            "tool_name": "knowledge_search",
            "arguments": {"query": "refund"},
            "result": "Refunds: 5 days (the whole policy text…)",
            "duration_ms": 41,
        }
    ],
}
FAILED_RUN = {
    "run_id": "run_00000000000b",
    "status": "failed",
    "input_messages": [{"role": "user", "content": [{"type": "text", "text": "And fees?"}]}],
    "content": "Partial",
    "error": "Stream iteration failed: overloaded",
    "usage": None,
    "created_at": "2026-11-20T10:01:00+00:00",
    "events": None,
    "tool_calls": [],
}


def test_a_stored_run_becomes_the_events_a_live_stream_would_give() -> None:
    events = run_events(TOOL_RUN, SESSION)
    assert [e["event"] for e in events] == [
        "history",
        "step_started",
        "reasoning",
        "tool_call",
        "tool_result",
        "step_completed",
        "complete",
    ]
    assert all(set(e) == set(EVENT_KEYS) for e in events)
    assert all(e["run_id"] == "run_00000000000a" and e["session_id"] == SESSION for e in events)
    user = events[0]
    assert user["text"] == "What is the refund policy?"
    assert user["arguments"] == {"role": "user", "timestamp": "2026-11-20T10:00:00+00:00"}
    call, result, complete = events[3], events[4], events[6]
    assert (call["tool_name"], call["call_id"], call["arguments"]) == (
        "knowledge_search",
        "call_1",
        {"query": "refund"},
    )
    assert result["result"] == "Refunds: 5 days" and result["duration_ms"] == 41.0
    assert complete["text"] == TOOL_RUN["content"] and complete["status"] == "completed"
    assert complete["usage"]["total_tokens"] == 150
    assert complete["raw"]["tool_calls"][0]["result"].endswith("policy text…)")
    assert complete["received_at"] == "2026-11-20T10:00:04.000Z"  # stored times, not now


def test_a_failed_run_keeps_its_partial_text_and_error() -> None:
    events = run_events(FAILED_RUN, SESSION)
    assert [e["event"] for e in events] == ["history", "complete"]
    assert events[0]["text"] == "And fees?"
    end = events[1]
    assert end["status"] == "failed" and end["text"] == "Partial"
    assert end["error_message"] == "Stream iteration failed: overloaded"


def test_tool_calls_without_stored_events_still_become_cards() -> None:
    run = {**TOOL_RUN, "events": None}
    events = run_events(run, SESSION)
    assert [e["event"] for e in events] == ["history", "tool_call", "tool_result", "complete"]
    assert events[1]["call_id"] == events[2]["call_id"]
    assert events[2]["result"].startswith("Refunds: 5 days (the whole")


def test_runs_are_ordered_oldest_first_and_a_running_run_has_no_end() -> None:
    running = {**FAILED_RUN, "run_id": "run_00000000000c", "status": "running"}
    running["created_at"] = "2026-11-20T10:02:00+00:00"
    events = runs_events([running, FAILED_RUN, TOOL_RUN], SESSION)
    users = [e["run_id"] for e in events if e["event"] == "history"]
    assert users == ["run_00000000000a", "run_00000000000b", "run_00000000000c"]
    assert events[-1]["event"] == "history"


def test_the_fold_gets_tool_calls_and_the_failure() -> None:
    conversation = Conversation(runs_events([TOOL_RUN, FAILED_RUN], SESSION))
    calls = [c for t in conversation.turns for c in t.tool_calls]
    assert [c.tool_name for c in calls] == ["knowledge_search"]
    assert calls[0].result.endswith("policy text…)")  # the full result from the record
    assert any(t.error_message and "overloaded" in t.error_message for t in conversation.turns)
    assert [t.user_text for t in conversation.turns if t.from_history] == [
        "What is the refund policy?",
        "And fees?",
    ]


def serving(routes: dict[str, Reply]) -> Any:
    """A peer answering GET paths (query left out) from `routes`, else 404."""

    def script(method: str, path: str, body: Any) -> Reply:
        return routes.get(path.partition("?")[0], Reply(404, "Not Found", "text/plain"))

    return script


def test_load_history_reads_runs() -> None:
    routes = {f"/api/sessions/{SESSION}/runs": Reply(200, {"runs": [TOOL_RUN]})}
    with scripted_peer(serving(routes)) as peer, PowabaseClient(peer.url, "key") as c:
        events = load_history(c, SESSION)
    assert [e["event"] for e in events][:2] == ["history", "step_started"]
    assert peer.paths() == [f"GET /api/sessions/{SESSION}/runs?limit=100&offset=0"]


@pytest.mark.parametrize("missing", [Reply(404, "Not Found", "text/plain"), Reply(405, "")])
def test_an_older_server_without_runs_falls_back_to_messages(missing: Reply) -> None:
    messages = [
        {"role": "user", "content": "hi", "run_id": "run_1", "timestamp": "2026-11-20T10:00:00Z"},
        {"role": "assistant", "content": "hello", "run_id": "run_1", "timestamp": None},
    ]
    routes = {
        f"/api/sessions/{SESSION}/runs": missing,
        f"/api/sessions/{SESSION}/messages": Reply(200, {"messages": messages}),
    }
    with scripted_peer(serving(routes)) as peer, PowabaseClient(peer.url, "key") as c:
        events = load_history(c, SESSION)
    assert [(e["event"], e["text"], e["arguments"]["role"]) for e in events] == [
        ("history", "hi", "user"),
        ("history", "hello", "assistant"),
    ]
    assert len(peer.requests) == 2


@pytest.mark.parametrize(
    "routes",
    [
        {  # the real backend: 200 with nothing, from both
            f"/api/sessions/{SESSION}/runs": Reply(200, {"runs": []}),
            f"/api/sessions/{SESSION}/messages": Reply(200, {"messages": []}),
        },
        {  # a hosted, user-scoped answer
            f"/api/sessions/{SESSION}/runs": Reply(404, {"error": "Session not found"}),
        },
    ],
)
def test_an_unknown_session_says_so_in_the_users_terms(routes: dict[str, Reply]) -> None:
    with (
        scripted_peer(serving(routes)) as peer,
        PowabaseClient(peer.url, "key") as c,
        pytest.raises(UnknownSessionError) as info,
    ):
        load_history(c, SESSION)
    message = str(info.value)
    assert message.startswith(f"No such session: {SESSION}")
    assert "w.new_session()" in message and "check the id" in message.lower()
    assert info.value.code == "unknown_session" and info.value.status_code == 404


def test_chat_session_loads_runs_and_lists_sessions_newest_first() -> None:
    sessions = [
        {"session_id": "sess_old", "run_count": 1, "last_run_at": "2026-11-01T09:00:00Z"},
        {"session_id": "sess_none", "run_count": 0},
        {
            "session_id": SESSION,
            "run_count": 2,
            "last_activity_at": "2026-11-20T10:01:00Z",
            "first_message": "What is the refund policy?",
        },
    ]
    routes = {
        "/api/agents/agt_demo": Reply(200, {"id": "agt_demo", "name": "Demo"}),
        "/api/agents/agt_demo/sessions": Reply(200, {"sessions": sessions}),
        f"/api/sessions/{SESSION}/runs": Reply(200, {"runs": [TOOL_RUN, FAILED_RUN]}),
    }
    with scripted_peer(serving(routes)) as peer, PowabaseClient(peer.url, "key") as c:
        chat = ChatSession(c, "agt_demo")
        rows = chat.sessions()
        chat.load_session(SESSION)
    assert all(
        list(row) == ["session_id", "first_message", "last_activity", "runs"] for row in rows
    )
    assert [row["session_id"] for row in rows] == [SESSION, "sess_old", "sess_none"]
    assert rows[0]["first_message"] == "What is the refund policy?" and rows[0]["runs"] == 2
    assert chat.session_id == SESSION
    names = [e["event"] for e in chat.events]
    assert names.count("history") == 2 and "tool_call" in names and names[-1] == "session_loaded"


@pytest.mark.parametrize(
    ("path", "read"),
    [
        (f"/api/sessions/{SESSION}/runs", lambda c: c.get_session_runs(SESSION)),
        (f"/api/sessions/{SESSION}/messages", lambda c: c.session_messages(SESSION)),
        ("/api/agents", lambda c: c.list_agents()),
    ],
)
def test_a_bare_list_is_not_powabase_and_says_so(path: str, read: Any) -> None:
    """Powabase answers listings as objects (tests/server/test_rest_shapes.py); a bare list
    is a server that is not Powabase, not an empty history."""
    answer = serving({path: Reply(200, [TOOL_RUN])})
    with (
        scripted_peer(answer) as peer,
        PowabaseClient(peer.url, "key") as c,
        pytest.raises(PowabaseError) as raised,
    ):
        read(c)
    assert raised.value.code == "unexpected_response"
    assert f"The server answered GET {path} with a list" in str(raised.value)
    assert "the base_url= you passed" in str(raised.value)
