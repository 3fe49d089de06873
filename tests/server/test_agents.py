"""The local server's agents, driven directly through `agent.run(ctx, message)`.

The demo agent must answer a newcomer's questions with the right tools, follow up on the
session history, run tools concurrently, and stream by the server-dialect rules.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_shapes import assert_plain_stream, assert_react_stream

from powawidget.server.agents import AGENTS, DemoAgent, answers
from powawidget.server.agents.loop import tokens
from powawidget.server.protocol import Agent, RunContext

DEMO = DemoAgent()


def run_agent(
    agent: Agent,
    message: str,
    history: list[dict] | None = None,
    *,
    delay: float = 0.0,
    run_id: str = "run_0123456789ab",
    approve: tuple[bool, str | None] | None = (True, None),
) -> list[dict]:
    """Every event one run yields (an approval decision is handed over before it is asked)."""
    ctx = RunContext(
        agent_id=agent.id,
        run_id=run_id,
        session_id="sess_0123456789ab",
        history=list(history or []),
        delay=delay,
    )
    if approve is not None:
        ctx.resolve_approval(*approve)

    async def collect() -> list[dict]:
        return [event async for event in agent.run(ctx, message)]

    return asyncio.run(collect())


def converse(messages: list[str]) -> list[list[dict]]:
    """Several runs in one session, each seeing the earlier turns as history."""
    history: list[dict] = []
    runs = []
    for message in messages:
        events = run_agent(DEMO, message, history)
        history += [
            {"role": "user", "content": message},
            {"role": "assistant", "content": events[-1]["content"]},
        ]
        runs.append(events)
    return runs


def tool_calls(events: list[dict]) -> list[tuple[str, dict]]:
    """(tool name, arguments) of every tool_call event, in order."""
    return [(e["tool_name"], e["arguments"]) for e in events if e["event"] == "tool_call"]


def answer(events: list[dict]) -> str:
    """The run's final text."""
    return events[-1]["content"]


def assert_server_stream(events: list[dict]) -> None:
    """The rules of the run's server path (docs/protocol.md): ReAct with tools, else standard."""
    if any(e["event"] == "step_started" for e in events):
        assert_react_stream(events)
    else:
        assert_plain_stream(events)


def test_registry_lists_the_agents_demo_first() -> None:
    ids = [agent.id for agent in AGENTS]
    assert ids == [
        "agt_demo",
        "agt_approval",
        "agt_docs",
        "agt_slow_tool",
        "agt_long",
        "agt_plain",
        "agt_citations",
        "agt_judge",
    ]
    for agent in AGENTS:
        assert isinstance(agent, Agent)
        assert agent.name and agent.model and agent.system_prompt and agent.description
        assert agent.dialect == ("documented" if agent.id == "agt_docs" else "server")


@pytest.mark.parametrize(
    ("message", "tools", "expected"),
    [
        (
            "What can you help me with?",
            [],
            ["Products and pricing", "*What products do you offer?*"],
        ),
        (
            "What products do you offer?",
            ["search_catalogue"],
            ["| **Orbit Team** | $12 per seat / month | 3–50 |"],
        ),
        (
            "What is the refund policy?",
            ["get_policy"],
            ["### Refunds and cancellations", "**30 days**"],
        ),
        (
            "Which one is best for small teams?",
            ["search_catalogue", "get_policy"],
            ["recommend **Orbit Team**", "14 days"],
        ),
        ("Can I get my money back?", ["get_policy"], ["Refunds and cancellations"]),
        ("How long does shipping take?", ["get_policy"], ["3–5 business days"]),
        ("Where is my data stored?", ["get_policy"], ["Frankfurt"]),
        ("Is there a free trial?", ["get_policy"], ["14-day free trial"]),
        ("What time is it?", ["current_time"], ["(UTC)"]),
        ("What time is it in Tokyo?", ["current_time"], ["in Tokyo (Asia/Tokyo, UTC+09:00)"]),
        ("Convert 5 km to miles", ["convert_units"], ["**5 km = 3.1069 mi**"]),
        ("How many pounds is 2 kg?", ["convert_units"], ["**2 kg = 4.4092 lb**"]),
        ("What is 72 F in celsius?", ["convert_units"], ["**72 °F = 22.2222 °C**"]),
        ("What is (12*7+3)/2?", ["calculator"], ["`(12*7+3)/2` = **43.5**"]),
        ("What's 15% of 240?", ["calculator"], ["`15 / 100 * 240` = **36**"]),
        (
            "Compare Team and Business",
            ["search_catalogue", "search_catalogue"],
            ["| Price | $12 per seat / month | $22 per seat / month |"],
        ),
        ("Tell me about the Orbit Hub", ["search_catalogue"], ["4K camera", "1.2 kg"]),
        (
            "How heavy is the Orbit Hub in pounds?",
            ["search_catalogue", "convert_units"],
            ["**2.65 lb**"],
        ),
        (
            "How much would 5 seats of Orbit Team cost per year?",
            ["search_catalogue", "calculator", "calculator"],
            ["$60 a month", "$720 for a year"],
        ),
        (
            "Which plans have SSO?",
            ["search_catalogue"],
            ["**Orbit Business**", "**Orbit Enterprise**"],
        ),
        ("What is the cheapest plan?", ["search_catalogue"], ["cheapest is **Orbit Starter**"]),
    ],
)
def test_demo_answers_newcomer_questions_with_the_right_tools(
    message: str, tools: list[str], expected: list[str]
) -> None:
    events = run_agent(DEMO, message)
    assert_server_stream(events)
    assert [name for name, _ in tool_calls(events)] == tools
    for text in expected:
        assert text in answer(events)
    assert all(
        record["result"] and not record["result"].startswith("Error")
        for record in events[-1]["tool_calls"]
    )


def test_follow_ups_resolve_those_and_it_from_the_session_history() -> None:
    best, cheapest, price = converse(
        [
            "Which one is best for small teams?",
            "Which one is cheapest of those?",
            "How much would 3 seats of it cost?",
        ]
    )
    assert "**Orbit Team**" in answer(best)
    assert tool_calls(cheapest) == [
        (
            "search_catalogue",
            {"query": "", "names": ["Orbit Team", "Orbit Starter", "Orbit Business"]},
        )
    ]
    assert answer(cheapest).startswith("Of those, the cheapest is **Orbit Starter** at **$5")
    assert tool_calls(price) == [
        ("search_catalogue", {"query": "", "names": ["Orbit Starter"]}),
        ("calculator", {"expression": "3 * 5"}),
    ]
    assert "**3 seats of Orbit Starter cost $15 a month**" in answer(price)
    assert "```text\n3 × $5 per seat / month = $15 / month\n```" in answer(price)
    # Three steps: look up, calculate, answer.
    assert price[-1]["steps"] == 3


def test_follow_up_with_a_new_size_moves_to_a_plan_that_fits() -> None:
    *_, bigger = converse(
        [
            "What is the cheapest plan?",
            "How much would 3 seats of it cost?",
            "And for 10 seats per year?",
        ]
    )
    assert tool_calls(bigger)[1:] == [
        ("calculator", {"expression": "10 * 12"}),
        ("calculator", {"expression": "10 * 12 * 12"}),
    ]
    assert "Orbit Starter allows at most 5 seats" in answer(bigger)
    assert "$120 a month" in answer(bigger) and "$1,440 for a year" in answer(bigger)


def test_without_history_it_picks_the_plan_that_fits_the_team() -> None:
    events = run_agent(DEMO, "How much would it cost for 8 people?")
    assert "For 8 people, **Orbit Team** is the plan that fits." in answer(events)
    assert "$96 a month" in answer(events)


def test_tell_me_more_about_it_describes_the_previous_answer_s_product() -> None:
    _, more = converse(["Compare Business and Enterprise", "Tell me more about it"])
    assert tool_calls(more) == [("search_catalogue", {"query": "", "names": ["Orbit Business"]})]
    assert answer(more).startswith("**Orbit Business** —")


def test_two_tools_at_once_report_results_in_completion_order() -> None:
    events = run_agent(DEMO, "Which one is best for small teams?")
    first_step = [e for e in events if e.get("step") == 1 and e["event"].startswith("tool_")]
    names = [(e["event"], e["tool_name"]) for e in first_step]
    # Both calls go out before any result; the quicker policy lookup answers first.
    assert names == [
        ("tool_call", "search_catalogue"),
        ("tool_call", "get_policy"),
        ("tool_result", "get_policy"),
        ("tool_result", "search_catalogue"),
    ]
    calls = {e["call_id"]: e["tool_name"] for e in first_step if e["event"] == "tool_call"}
    assert all(
        calls[e["call_id"]] == e["tool_name"] for e in first_step if e["event"] == "tool_result"
    )
    # complete.tool_calls is in completion order, as the backend appends them.
    assert [c["tool_name"] for c in events[-1]["tool_calls"]] == ["get_policy", "search_catalogue"]


def test_support_hours_question_checks_the_clock_and_the_policy_together() -> None:
    events = run_agent(DEMO, "Is support open right now?")
    assert_server_stream(events)
    assert [n for n, _ in tool_calls(events)] == ["get_policy", "current_time"]
    results = [e["tool_name"] for e in events if e["event"] == "tool_result"]
    assert results == ["current_time", "get_policy"]
    now = datetime.now(ZoneInfo("Europe/Berlin"))
    if now.minute in (59, 0) or now.minute == 0:  # pragma: no cover - avoid the hour boundary
        return
    open_now = now.weekday() < 5 and 8 <= now.hour < 18
    assert ("**open right now**" if open_now else "**closed right now**") in answer(events)


def test_reasoning_summary_streams_in_the_first_step() -> None:
    events = run_agent(DEMO, "What is the refund policy?")
    thinking = "".join(e["delta"] for e in events if e["event"] == "reasoning_delta")
    assert "refund" in thinking and "get_policy" in thinking
    first_reasoning = next(i for i, e in enumerate(events) if e["event"] == "reasoning_delta")
    first_call = next(i for i, e in enumerate(events) if e["event"] == "tool_call")
    assert first_reasoning < first_call


def test_complete_reports_the_full_tool_results_and_measured_durations() -> None:
    events = run_agent(DEMO, "What products do you offer?")
    record = events[-1]["tool_calls"][0]
    assert len(record["result"]) > 200 and json.loads(record["result"])["count"] == 7
    preview = next(e for e in events if e["event"] == "tool_result")
    assert record["result"].startswith(preview["result_preview"])
    assert preview["result_meta"] == {"result_type": "text", "char_count": len(record["result"])}
    # The catalogue lookup has a simulated 40 ms round trip, and it is really measured.
    assert record["duration_ms"] >= 40


def test_unknown_requests_get_a_helpful_fallback() -> None:
    events = run_agent(DEMO, "What's the weather in Paris?")
    assert_server_stream(events)
    text = answer(events)
    assert text.startswith("Sorry, I can't help with that one")
    assert "weather" not in text.lower(), "the question is not pasted back"
    assert "Products and pricing" in text and "Try asking:" in text


def test_calculator_errors_become_a_clear_answer() -> None:
    events = run_agent(DEMO, "compute 2**10000")
    assert_server_stream(events)
    result = next(e for e in events if e["event"] == "tool_result")
    assert result["result_preview"].startswith("Error: exponent 10000 is too large")
    assert (
        answer(events) == "I couldn't compute `2**10000`: exponent 10000 is too large (limit 1000)."
    )


def test_runs_are_deterministic_apart_from_measured_durations() -> None:
    def shape(events: list[dict]) -> list[dict]:
        stable = []
        for event in events:
            event = {k: v for k, v in event.items() if k not in ("duration_ms", "ts")}
            if event["event"] == "complete":
                event["tool_calls"] = [
                    {k: v for k, v in c.items() if k != "duration_ms"} for c in event["tool_calls"]
                ]
            stable.append(event)
        return stable

    for message in (
        "Which one is best for small teams?",
        "How much would 4 seats of Orbit Team cost?",
    ):
        assert shape(run_agent(DEMO, message)) == shape(run_agent(DEMO, message))
    other = run_agent(DEMO, "What is the refund policy?", run_id="run_ffffffffffff")
    same = run_agent(DEMO, "What is the refund policy?")
    ids = {e["call_id"] for e in other + same if e["event"] == "tool_call"}
    assert len(ids) == 2, "call ids differ between runs"


def test_text_streams_token_by_token_at_the_context_delay() -> None:
    started = time.perf_counter()
    events = run_agent(DEMO, "What is the refund policy?", delay=0.002)
    elapsed = time.perf_counter() - started
    deltas = [e for e in events if e["event"] == "content_delta"]
    assert len(deltas) == len(tokens(answer(events))) > 50
    assert elapsed >= len(deltas) * 0.002 * 0.9  # a lower bound only: never flaky


def test_tokens_concatenate_back_to_the_text() -> None:
    text = "**Price:** $12 per seat / month\n\n| a | b |\n|---|---|\n```text\n3 × $5 = $15\n```  \n"
    assert "".join(tokens(text)) == text
    assert all(piece.strip() or piece == text[-len(piece) :] for piece in tokens(text))


@pytest.mark.parametrize(
    "agent", [a for a in AGENTS if a.dialect == "server" and a.id != "agt_long"], ids=lambda a: a.id
)
def test_every_server_dialect_agent_follows_the_stream_rules(agent: Agent) -> None:
    assert_server_stream(run_agent(agent, "Refund order 1042, $49"))


def test_stopping_mid_tool_call_cancels_cleanly() -> None:
    async def stop_after_first_call() -> list[dict]:
        ctx = RunContext(agent_id="agt_demo", run_id="run_0123456789ab", session_id="sess_0")
        stream = DEMO.run(ctx, "Which one is best for small teams?")
        seen = []
        async for event in stream:
            seen.append(event)
            if event["event"] == "tool_call":
                break
        await stream.aclose()  # what the transport does when the client goes away
        await asyncio.sleep(0.06)  # the cancelled tool tasks must not blow up later
        return seen

    seen = asyncio.run(stop_after_first_call())
    assert seen[-1]["event"] == "tool_call"


@pytest.mark.parametrize(
    ("message", "best"),
    [
        ("Which plan is best for freelancers?", "Orbit Solo"),
        ("Best plan for 2 people?", "Orbit Starter"),
        ("Which plan should I choose for 40 people?", "Orbit Team"),
        ("Which plan should we pick for 300 people?", "Orbit Business"),
        ("What would you recommend for a large company with compliance needs?", "Orbit Enterprise"),
        ("What's good for a meeting room?", "Orbit Hub"),
    ],
)
def test_recommendations_fit_the_audience_or_team_size(message: str, best: str) -> None:
    events = run_agent(DEMO, message)
    assert_server_stream(events)
    assert f"I'd recommend **{best}**" in answer(events)


VOCABULARY = (
    "what which how much is the it those cheapest best for small teams refund policy seats "
    "3 10 cost per year orbit team Business hub km miles in to time tokyo support open now "
    "compare and vs tell me more about 12 * + ( ) % of kg lb weather ? hello trial data"
)
WORDS = VOCABULARY.split()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=st.lists(st.sampled_from(WORDS), min_size=1, max_size=9).map(" ".join)
    | st.text(max_size=40),
    follow_up=st.booleans(),
)
def test_any_message_gets_a_well_formed_answer(message: str, follow_up: bool) -> None:
    history = [
        {"role": "user", "content": "Which one is best for small teams?"},
        {"role": "assistant", "content": "I'd recommend **Orbit Team**; see also Orbit Starter."},
    ]
    events = run_agent(DEMO, message, history if follow_up else None)
    assert_server_stream(events)


@pytest.mark.parametrize(
    ("message", "tools", "expected"),
    [
        ("What is Powabase?", [], "fictional company"),
        ("What are your support hours?", ["get_policy"], "08:00–18:00 CET"),
        ("Can I pay by invoice?", ["get_policy"], "pay by invoice (30 days net)"),
        ("How do I get started?", ["get_policy"], "14-day free trial"),
        ("Thanks!", [], "You're welcome!"),
        (
            "Is Orbit Team cheaper than Business?",
            ["search_catalogue"] * 2,
            "**Orbit Team** is the cheaper one",
        ),
    ],
)
def test_other_things_newcomers_say(message: str, tools: list[str], expected: str) -> None:
    events = run_agent(DEMO, message)
    assert_server_stream(events)
    assert [name for name, _ in tool_calls(events)] == tools
    assert expected in answer(events)


def test_user_words_in_an_answer_cannot_break_its_markdown() -> None:
    attack = "<img src=x onerror=alert(1)> *zzz* [qqq](javascript:x)"
    for message in (attack, f"Do you sell {attack}?"):
        text = answer(run_agent(DEMO, message))
        assert not re.search(r"(?<!\\)[<>]", text) and "](javascript:" not in text
    quoted = answers.quoted(attack)
    assert "\\<img" in quoted and not re.search(r"(?<!\\)[<>]", quoted)
    assert "\\*zzz\\*" in quoted and "\\[qqq\\]\\(javascript:x\\)" in quoted
