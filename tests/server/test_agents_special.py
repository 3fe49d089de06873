"""The agents with one job each: approval before a refund, the documented dialect, a slow
tool for timing metrics, and a long slow answer for stop tests."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from server_shapes import assert_plain_stream, assert_react_stream

from powawidget.server.agents import (
    ApprovalAgent,
    DemoAgent,
    DocsAgent,
    LongAgent,
    SlowToolAgent,
)
from powawidget.server.agents.approval import refund_request
from powawidget.server.agents.loop import ServerRun, ToolRequest
from powawidget.server.agents.timing import LONG_TOKEN_DELAY, long_answer, long_answer_seconds
from powawidget.server.protocol import Agent, RunContext
from powawidget.server.tools import TOOLS


def context(agent: Agent, history: list[dict] | None = None) -> RunContext:
    """A fresh run context with no token delay."""
    return RunContext(
        agent_id=agent.id,
        run_id="run_0123456789ab",
        session_id="sess_0123456789ab",
        history=list(history or []),
    )


def run_with_decision(message: str, approved: bool, reason: str | None) -> list[dict]:
    """Run agt_approval, answering its approval request the way POST /approve would."""
    agent = ApprovalAgent()
    ctx = context(agent)

    async def collect() -> list[dict]:
        events = []
        async for event in agent.run(ctx, message):
            events.append(event)
            if event["event"] == "approval_requested":
                # The decision arrives later, from another task (the HTTP handler).
                asyncio.get_running_loop().call_later(0.01, ctx.resolve_approval, approved, reason)
        return events

    return asyncio.run(collect())


def names(events: list[dict]) -> list[str]:
    """Event names without the streamed deltas."""
    return [e["event"] for e in events if not e["event"].endswith("_delta")]


def test_approval_is_requested_before_the_tool_runs_and_approved_runs_it() -> None:
    events = run_with_decision("Refund order 1234, $30 because it arrived damaged", True, None)
    assert names(events) == [
        "start", "step_started", "reasoning", "tool_call", "approval_requested", "hook_result",
        "tool_result", "step_completed", "step_started", "step_completed", "on_run_complete",
        "chunk", "complete",
    ]  # fmt: skip
    assert_react_stream(events)
    wanted = ("tool_call", "approval_requested", "hook_result", "tool_result")
    call, request, hook, result = (next(e for e in events if e["event"] == n) for n in wanted)
    arguments = {"order_id": "ORD-1234", "amount": 30.0, "reason": "it arrived damaged"}
    assert call["arguments"] == request["tool_input"] == arguments
    # approval_requested: exactly tool_name, tool_input, message (no run_id, no call_id).
    assert list(request)[2:-2] == ["tool_name", "tool_input", "message"]
    assert request["tool_name"] == "issue_refund" == result["tool_name"]
    assert request["message"] == (
        "Approve a refund of $30 for order ORD-1234? The run waits up to 300 s for an answer."
    )
    assert list(hook)[2:-2] == [
        "hook_id", "position", "hook_event", "status", "modified", "blocked", "latency_ms",
        "message",
    ]  # fmt: skip
    assert (hook["hook_event"], hook["status"], hook["blocked"], hook["message"]) == (
        "PreToolUse", "succeeded", False, None,
    )  # fmt: skip
    assert result["call_id"] == call["call_id"] and "result_meta" in result
    on_complete = next(e for e in events if e["event"] == "on_run_complete")
    assert (on_complete["status"], on_complete["steps"]) == ("completed", 2)
    refund = json.loads(events[-1]["tool_calls"][0]["result"])
    assert refund["status"] == "issued"
    assert events[-1]["content"].startswith("Done — I refunded **$30** for order **ORD-1234**")
    assert refund["refund_id"] in events[-1]["content"]


def test_denied_approval_is_a_blocked_hook_and_an_error_result() -> None:
    events = run_with_decision("Please refund order #998 ($120)", False, "over the agent's limit")
    hook = next(e for e in events if e["event"] == "hook_result")
    assert (hook["status"], hook["blocked"], hook["message"]) == (
        "succeeded", True, "Denied by user: over the agent's limit",
    )  # fmt: skip
    result = next(e for e in events if e["event"] == "tool_result")
    assert result["result_preview"] == (
        "Error: Blocked by hook — Denied by user: over the agent's limit"
    )
    assert "result_meta" not in result, "the backend's early return has no result_meta"
    text = events[-1]["content"]
    assert "I did **not** refund order **ORD-998**" in text
    assert "$120" in text and "over the agent's limit" in text
    assert events[-1]["status"] == "completed"
    assert events[-2] == {"event": "chunk", "content": text}
    assert_react_stream(events)


def test_nobody_answering_in_time_is_a_timed_out_hook() -> None:
    agent = ApprovalAgent()
    ctx = context(agent)
    ctx.approval_timeout = 0.05

    async def collect() -> list[dict]:
        return [event async for event in agent.run(ctx, "refund please")]

    events = asyncio.run(collect())
    request = next(e for e in events if e["event"] == "approval_requested")
    assert "waits up to 0.05 s" in request["message"]
    hook = next(e for e in events if e["event"] == "hook_result")
    assert (hook["status"], hook["blocked"], hook["message"]) == (
        "timed_out", True, "Approval timed out",
    )  # fmt: skip
    assert hook["latency_ms"] >= 50
    result = next(e for e in events if e["event"] == "tool_result")
    assert result["result_preview"] == "Error: Blocked by hook — Approval timed out"
    text = events[-1]["content"]
    assert "did **not** refund order **ORD-1042**" in text and "timed out" in text


def test_refund_requests_are_read_from_plain_words() -> None:
    assert refund_request("refund $120 for order 555") == {
        "order_id": "ORD-555",
        "amount": 120.0,
        "reason": "customer request",
    }
    assert refund_request("ORD-77123: 19.99 USD")["amount"] == 19.99
    assert refund_request("hello")["order_id"] == "ORD-1042"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("I'd like a refund for order 1042, it arrived late", "it arrived late"),
        ("Refund order 1042 please, it arrived late.", "it arrived late"),
        ("refund ORD-77 because the screen was cracked", "the screen was cracked"),
        ("Refund order 5555 - the item was broken", "the item was broken"),
        ("Money back for order 5555 please. Wrong colour.", "Wrong colour"),
        ("Refund order 1042 as soon as possible", "customer request"),
    ],
)
def test_the_refund_records_the_reason_the_customer_gave(message: str, reason: str) -> None:
    events = run_with_decision(message, True, None)
    call = next(e for e in events if e["event"] == "tool_call")
    assert call["arguments"]["reason"] == reason
    assert f"reason recorded: *{reason}*" in events[-1]["content"]


def run_docs(message: str, history: list[dict] | None = None) -> list[dict]:
    """Every event agt_docs yields."""
    agent = DocsAgent()

    async def collect() -> list[dict]:
        return [event async for event in agent.run(context(agent, history), message)]

    return asyncio.run(collect())


DOCUMENTED_KEYS = {
    "start": {"event", "session_id", "run_id"},
    "step_started": {"event", "step_number"},
    "step_completed": {"event", "step_number"},
    "chunk": {"event", "content"},
    "tool_call": {"event", "tool_name", "arguments"},
    "tool_result": {"event", "result"},
    "complete": {"event", "usage"},
}


def test_docs_agent_speaks_only_the_documented_fields() -> None:
    events = run_docs("What products do you offer?")
    for event in events:
        assert set(event) == DOCUMENTED_KEYS[event["event"]], event
    assert [e["event"] for e in events if e["event"] != "chunk"] == [
        "start", "step_started", "tool_call", "tool_result", "step_completed",
        "step_started", "step_completed", "complete",
    ]  # fmt: skip
    assert [e["step_number"] for e in events if e["event"] == "step_started"] == [1, 2]
    # Chunks are deltas: together they are the demo agent's answer to the same question.
    text = "".join(e["content"] for e in events if e["event"] == "chunk")
    ctx = context(DemoAgent())

    async def demo() -> list[dict]:
        return [e async for e in DemoAgent().run(ctx, "What products do you offer?")]

    assert text == asyncio.run(demo())[-1]["content"]
    assert sum(e["event"] == "chunk" for e in events) > 50
    # The documented tool_result carries the whole result, not a 200-character preview.
    result = next(e["result"] for e in events if e["event"] == "tool_result")
    assert len(result) > 200 and json.loads(result)["count"] == 7
    usage = events[-1]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_docs_agent_fails_with_a_rate_limited_error_event() -> None:
    events = run_docs("please fail this run")
    assert events[0] == {
        "event": "start",
        "session_id": "sess_0123456789ab",
        "run_id": "run_0123456789ab",
    }
    assert events[-1]["event"] == "error"
    assert set(events[-1]) == {"event", "message", "code"}
    assert events[-1]["code"] == "rate_limited" and "Rate limit" in events[-1]["message"]


def test_docs_agent_uses_history_like_the_demo() -> None:
    first = run_docs("Which one is best for small teams?")
    history = [
        {"role": "user", "content": "Which one is best for small teams?"},
        {
            "role": "assistant",
            "content": "".join(e["content"] for e in first if e["event"] == "chunk"),
        },
    ]
    follow_up = run_docs("Which one is cheapest of those?", history)
    text = "".join(e["content"] for e in follow_up if e["event"] == "chunk")
    assert text.startswith("Of those, the cheapest is **Orbit Starter**")


def test_slow_tool_takes_at_least_300_ms_and_reports_it() -> None:
    agent = SlowToolAgent()
    stamps: dict[str, float] = {}

    async def collect() -> list[dict]:
        events = []
        async for event in agent.run(context(agent), "How many hubs are in stock?"):
            stamps.setdefault(event["event"], time.perf_counter())
            events.append(event)
        return events

    events = asyncio.run(collect())
    result = next(e for e in events if e["event"] == "tool_result")
    assert result["tool_name"] == "check_stock"
    assert result["duration_ms"] >= 300
    assert stamps["tool_result"] - stamps["tool_call"] >= 0.3
    assert events[-1]["content"] == "The Rotterdam warehouse has **12** Orbit Hub units in stock."
    assert events[-1]["tool_calls"][0]["duration_ms"] == result["duration_ms"]


def test_long_agent_streams_slowly_whatever_the_delay_and_can_be_stopped() -> None:
    agent = LongAgent()
    assert 15 <= long_answer_seconds() <= 30

    async def first_deltas(count: int) -> tuple[list[dict], float]:
        stream = agent.run(context(agent), "Explain streaming")  # ctx.delay is 0.0
        events: list[dict] = []
        started = None
        async for event in stream:
            events.append(event)
            if event["event"] == "content_delta":
                started = started or time.perf_counter()
                if sum(e["event"] == "content_delta" for e in events) == count:
                    break
        await stream.aclose()  # the user pressed Stop
        assert started is not None
        return events, time.perf_counter() - started

    events, elapsed = asyncio.run(first_deltas(11))
    assert elapsed >= 10 * LONG_TOKEN_DELAY * 0.9
    text = "".join(e["delta"] for e in events if e["event"] == "content_delta")
    assert text.startswith("# A field guide to streaming agent runs")
    assert events[-1]["event"] == "content_delta"  # stopped mid-answer: no complete


def test_the_long_agent_answers_what_it_is_asked_at_length() -> None:
    hub, refunds, other = (
        long_answer(q)
        for q in ("Tell me about Orbit Hub", "What is your refund policy?", "What is 31 * 56?")
    )
    assert hub.startswith("# Tell me about Orbit Hub") and "## Orbit Hub" in hub
    assert hub.index("## Orbit Hub") < hub.index("## Everything we sell")
    assert "Full refund within 30 days" in refunds.split("## ", 2)[1]
    assert "nothing on that" in other
    assert len({hub, refunds, other, long_answer("Explain streaming")}) == 4
    for question in ("Tell me about Orbit Hub", "What is 31 * 56?", "Explain streaming"):
        assert 15 <= long_answer_seconds(question) <= 30  # long enough to press Stop


def test_an_agent_without_tools_takes_the_standard_path_and_keeps_usage_for_the_run() -> None:
    agent = LongAgent()
    ctx = context(agent)

    async def answer() -> list[dict]:
        run = ServerRun(ctx, "hi", agent.system_prompt, {})
        return [run.start()] + [e async for e in run.answer("Hello there.", thinking="Greet.")]

    events = asyncio.run(answer())
    assert_plain_stream(events, reasoning=True)
    assert [e["event"] for e in events if not e["event"].endswith("_delta")] == [
        "start", "chunk", "reasoning", "complete",
    ]  # fmt: skip
    complete = events[-1]
    assert complete["content"] == "Hello there." and complete["is_new_session"] is True
    assert complete["retrieved_items"] == 0 and complete["context_handler_id"] is None
    assert ctx.usage is not None and ctx.usage["total_tokens"] > 0
    assert ctx.reasoning_steps == [{"step": 1, "source": "thinking", "content": "Greet."}]


def test_a_failing_tool_becomes_an_error_result_not_a_crash() -> None:
    agent = DemoAgent()

    async def call(arguments: dict) -> list[dict]:
        run = ServerRun(context(agent), "x", agent.system_prompt, TOOLS)
        requests = [
            ToolRequest("calculator", arguments),
            ToolRequest("current_time", {"timezone": 5}),  # a bug in the tool: AttributeError
            ToolRequest("teleport", {}),
        ]
        return [event async for event in run.call_tools(requests)]

    events = asyncio.run(call({"expression": 42}))
    results = {e["tool_name"]: e for e in events if e["event"] == "tool_result"}
    assert results["calculator"]["result_preview"] == "Error: expression must be a non-empty string"
    assert results["current_time"]["result_preview"].startswith("Error: AttributeError:")
    assert results["teleport"]["result_preview"] == "Error: Unknown tool 'teleport'"
    assert all(r["result_meta"]["error"] for r in results.values())
    assert {k: v for k, v in events[-1].items() if k not in ("seq", "ts")} == {
        "event": "step_completed",
        "type": "step_completed",
        "step": 1,
        "finish_reason": "tool_calls",
        "has_tool_calls": True,
    }
