"""Transcripts of real runs against the local agent server (over HTTP, both dialects)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from powawidget.model.conversation import ms_between
from powawidget.outputs.rows import CITATION_COLUMNS, ROW_COLUMNS
from powawidget.outputs.transcript import Transcript
from powawidget.wire.events import make_event

SCALARS = (str, int, float, bool, type(None))


def ask(client: Any, agent_id: str, message: str, session_id: str | None = None) -> list[dict]:
    """The events a widget records for one message: user_message, then the run's stream."""
    events = [make_event("user_message", text=message, session_id=session_id)]
    events.extend(client.stream_run(agent_id, message, session_id=session_id))
    return events


def test_metrics_of_a_run_with_a_300_ms_tool(client: Any) -> None:
    t = Transcript(ask(client, "agt_slow_tool", "How many Orbit Hubs are in stock?"))
    (run,) = t.runs
    (call,) = t.tool_calls
    assert run["status"] == "completed" and run["tool_calls"] == 1 and run["steps"] >= 2
    assert (call["tool_name"], call["status"]) == ("check_stock", "done")
    assert 300.0 <= call["duration_ms"] < 5_000  # the server's measure of a 300 ms sleep
    measured = ms_between(call["called_at"], call["finished_at"])
    assert measured is not None and 250.0 <= measured < 10_000  # and ours, on arrival
    assert run["duration_ms"] >= call["duration_ms"] - 1
    assert 0.0 <= run["time_to_first_token_ms"] <= run["duration_ms"]
    assert run["completion_tokens"] > 0 and run["tokens_per_s"] > 0
    assert run["answer"] == t.conversation.final_text() and "in stock" in run["answer"]
    assert all(r["elapsed_ms"] >= 0 for r in t.rows)


@pytest.fixture
def both_dialects(client: Any) -> tuple[Transcript, Transcript]:
    """The same question asked of the server-dialect and the documented-dialect agent."""
    question = "What is the refund policy?"
    return Transcript(ask(client, "agt_demo", question)), Transcript(
        ask(client, "agt_docs", question)
    )


def test_both_dialects_give_the_same_columns_and_answer(
    both_dialects: tuple[Transcript, Transcript],
) -> None:
    server, documented = both_dialects
    assert server.rows.columns == documented.rows.columns == list(ROW_COLUMNS)
    for view in ("rows", "messages", "runs", "tool_calls"):
        a, b = getattr(server, view), getattr(documented, view)
        assert a.columns == b.columns
        for row in [*a, *b]:
            assert list(row) == a.columns
            assert all(isinstance(value, SCALARS) for value in row.values())
    assert server.runs[0]["status"] == documented.runs[0]["status"] == "completed"
    assert server.runs[0]["answer"] == documented.runs[0]["answer"]
    assert [c["tool_name"] for c in server.tool_calls] == [
        c["tool_name"] for c in documented.tool_calls
    ]


def test_real_runs_convert_to_pandas_polars_and_arrow(
    both_dialects: tuple[Transcript, Transcript],
) -> None:
    pd = pytest.importorskip("pandas")
    server, documented = both_dialects
    frame = pd.concat([server.rows.to_pandas(), documented.rows.to_pandas()], ignore_index=True)
    assert list(frame.columns) == list(ROW_COLUMNS)
    assert set(frame["event"]) >= {"user_message", "start", "tool_call", "tool_result", "complete"}
    assert json.loads(frame.loc[frame["event"] == "tool_call", "arguments"].iloc[0])

    runs = server.runs.to_polars()
    assert runs["total_tokens"].to_list()[0] == server.conversation.usage_total["total_tokens"]
    calls = documented.tool_calls.to_arrow()
    assert calls.num_rows == len(documented.conversation.turns[0].tool_calls) > 0
    assert str(calls.schema.field("duration_ms").type) == "double"


def test_a_session_saved_and_loaded_keeps_every_view(client: Any, tmp_path: Path) -> None:
    first = ask(client, "agt_demo", "What is the refund policy?")
    session_id = first[1]["session_id"]
    second = ask(client, "agt_demo", "And shipping?", session_id=session_id)
    t = Transcript([*first, *second])
    assert [r["session_id"] for r in t.runs] == [session_id, session_id]

    loaded = Transcript.load(t.save(tmp_path / "session.jsonl"))
    assert loaded.events == t.events
    for view in ("rows", "messages", "runs", "tool_calls"):
        assert getattr(loaded, view) == getattr(t, view)

    # The server's stored history becomes completed turns with the same answers.
    history = [
        make_event("history", text=m["content"], run_id=m.get("run_id"),
                   arguments={"role": m["role"], "timestamp": m.get("timestamp")})
        for m in client.session_messages(session_id)
    ]  # fmt: skip
    stored = Transcript(history).runs
    assert [(r["question"], r["answer"], r["source"]) for r in stored] == [
        (r["question"], r["answer"], "history") for r in t.runs
    ]


def test_a_malformed_frame_is_a_warning_and_the_run_still_completes(client: Any) -> None:
    t = Transcript(ask(client, "fault_malformed", "hello"))
    turn = t.conversation.turns[0]
    assert turn.status == "completed" and turn.text
    assert any("malformed" in w for w in turn.warnings)
    (row,) = [r for r in t.rows if r["event"] == "malformed"]
    assert row["text"] and row["run_id"] == turn.run_id


def test_a_failed_run_shows_in_runs_and_messages(client: Any) -> None:
    t = Transcript(ask(client, "fault_failed_run", "hello"))
    (run,) = t.runs
    assert run["status"] == "failed" and run["error_message"]
    assert run["error_code"] == "run_failed"
    assert t.messages[-1]["status"] == "failed"


@pytest.mark.parametrize("approved", [True, False])
def test_an_approval_round_trip_is_folded_into_the_turn(client: Any, approved: bool) -> None:
    events = [make_event("user_message", text="Refund order 1234, $30 because it broke")]
    with client.stream_run("agt_approval", "Refund order 1234, $30 because it broke") as stream:
        for event in stream:
            events.append(event)
            if event["event"] == "approval_requested":
                waiting = Transcript(events).conversation.turns[0]
                assert waiting.status == "waiting_approval"
                assert [c.state for c in waiting.tool_calls] == ["pending"]
                client.approve(event["run_id"], approved, None if approved else "too much")
                decision = {"approved": approved, "reason": None if approved else "too much"}
                events.append(make_event("approval_resolved", arguments=decision))
    turn = Transcript(events).conversation.turns[0]
    (approval,) = turn.approvals
    (call,) = turn.tool_calls
    assert (approval.approved, turn.status) == (approved, "completed")
    assert call.call_id is not None and call.tool_name == "issue_refund"
    assert call.state == ("done" if approved else "denied")
    assert call.result


def test_citations_view_of_a_cited_answer(client: Any) -> None:
    """`agt_citations` with citations_enabled: one row per source the final text cites, in
    the order it cites them, each key a `[n]` marker of the answer (the invented one is gone)."""
    question = "What is the refund policy?"
    events = [make_event("user_message", text=question)]
    events.extend(client.stream_run("agt_citations", question, citations_enabled=True))
    t = Transcript(events)
    (run,) = t.runs
    rows = list(t.citations)
    assert t.citations.columns == list(CITATION_COLUMNS)
    assert len(rows) >= 2
    assert [r["key"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    for row in rows:
        assert f"[{row['key']}]" in run["answer"]
        assert (row["run_id"], row["session_id"], row["turn"]) == (
            run["run_id"],
            run["session_id"],
            0,
        )
        assert row["source_name"] == "policies/refund.md"
        assert row["text_excerpt"] and row["source_id"] and row["item_id"]
        assert all(isinstance(value, SCALARS) for value in row.values())
    assert f"[{len(rows) + 1}]" not in run["answer"]  # the invented marker was dropped


def test_citations_view_is_empty_without_citations(client: Any) -> None:
    t = Transcript(ask(client, "agt_citations", "What is the refund policy?"))
    off = Transcript(
        [
            make_event("user_message", text="refund?"),
            *client.stream_run(
                "agt_citations", "What is the refund policy?", citations_enabled=False
            ),
        ]
    )
    assert len(list(t.citations)) >= 2  # on unless the request turns it off
    assert list(off.citations) == [] and off.citations.columns == list(CITATION_COLUMNS)
