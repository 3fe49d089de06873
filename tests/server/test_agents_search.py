"""The demo agent searches for what was asked and answers every part of a multi-part question.

A catalogue search passes the subject of the message as `query`; when nothing matches, the
answer says so and shows what we do offer, instead of passing the whole catalogue off as a
match. A message with several questions calls the tools for every part (the first step's
calls at once) and answers each part.
"""

from __future__ import annotations

import json

import pytest
from test_agents import DEMO, answer, assert_server_stream, converse, run_agent, tool_calls

from powawidget.server import knowledge
from powawidget.server.agents.parts import read_all, split_parts
from powawidget.wire.client import PowabaseClient

REFUND_AND_TEAM = "What's the refund policy, and how much is Team for 5 people?"
THREE_PARTS = (
    "What's the refund policy, how much is Team for 5 people, and is support open right now?"
)


def calls_by_step(events: list[dict]) -> list[list[tuple[str, dict]]]:
    """The (tool name, arguments) of each step that called tools, step by step."""
    steps: dict[int, list[tuple[str, dict]]] = {}
    for e in events:
        if e["event"] == "tool_call":
            steps.setdefault(e["step"], []).append((e["tool_name"], e["arguments"]))
    return [steps[step] for step in sorted(steps)]


def search_counts(events: list[dict]) -> list[int]:
    """How many products each search_catalogue call returned (from complete.tool_calls)."""
    calls = events[-1]["tool_calls"]
    return [json.loads(c["result"])["count"] for c in calls if c["tool_name"] == "search_catalogue"]


# -- searching for the subject ------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "search the catalogue for headphones",
        "Do you sell headphones?",
        "Do you have any headphones?",
        "I'm looking for headphones",
    ],
)
def test_a_search_for_something_we_do_not_sell_says_so(message: str) -> None:
    events = run_agent(DEMO, message)
    assert_server_stream(events)
    calls = tool_calls(events)
    assert calls[0] == ("search_catalogue", {"query": "headphones"})
    assert search_counts(events)[0] == 0
    text = answer(events)
    assert "we don't offer *headphones*" in text
    assert "These products match" not in text
    # ...then what we do offer, from a second look at the whole range.
    assert calls[1:] == [("search_catalogue", {"query": ""})]
    assert "Here is what we do offer" in text
    for product in knowledge.catalogue():
        assert f"**{product.name}**" in text


def test_a_noun_phrase_is_passed_whole_and_escaped_in_the_answer() -> None:
    events = run_agent(DEMO, "Do you sell wireless headphones?")
    assert tool_calls(events)[0] == ("search_catalogue", {"query": "wireless headphones"})
    assert "we don't offer *wireless headphones*" in answer(events)


@pytest.mark.parametrize(
    ("message", "query", "found", "not_found"),
    [
        ("Do you sell cameras?", "cameras", ["Orbit Hub"], ["Orbit Team"]),
        ("Search the catalogue for analytics", "analytics", ["Orbit Insights"], ["Orbit Hub"]),
        ("Which plans have SSO?", "sso", ["Orbit Business", "Orbit Enterprise"], ["Orbit Solo"]),
    ],
)
def test_a_search_that_matches_lists_only_the_matches(
    message: str, query: str, found: list[str], not_found: list[str]
) -> None:
    events = run_agent(DEMO, message)
    assert tool_calls(events) == [("search_catalogue", {"query": query})]
    assert 0 < search_counts(events)[0] < len(knowledge.catalogue())
    text = answer(events)
    assert all(f"**{name}**" in text for name in found)
    assert not any(name in text for name in not_found)


def test_asking_for_the_whole_range_still_lists_every_product() -> None:
    events = run_agent(DEMO, "What products do you offer?")
    assert tool_calls(events) == [("search_catalogue", {"query": ""})]
    assert search_counts(events) == [len(knowledge.catalogue())]


def test_an_off_topic_question_still_gets_what_the_assistant_can_do() -> None:
    events = run_agent(DEMO, "What's the weather like?")
    assert tool_calls(events) == [("search_catalogue", {"query": "weather"})]
    assert answer(events).startswith("Sorry, I can't help with that one")


def test_a_follow_up_after_an_empty_search_can_pick_from_the_offer() -> None:
    first, second = converse(["Do you sell headphones?", "Which one is cheapest?"])
    assert "we don't offer" in answer(first)
    # "one" is one of the products the answer offered: Insights is the cheapest of them.
    assert "Of those, the cheapest is **Orbit Insights**" in answer(second)


# -- multi-part questions ----------------------------------------------------------------


def test_a_two_part_question_calls_the_tools_of_both_parts_at_once() -> None:
    events = run_agent(DEMO, REFUND_AND_TEAM)
    assert_server_stream(events)
    assert calls_by_step(events) == [
        [
            ("get_policy", {"topic": "refund"}),
            ("search_catalogue", {"query": "", "names": ["Orbit Team"]}),
        ],
        [("calculator", {"expression": "5 * 12"})],
    ]
    text = answer(events)
    assert text.index("### Refunds and cancellations") < text.index("**5 seats of Orbit Team")
    assert "cost $60 a month" in text
    assert text.count("Is there anything else I can check for you?") == 1
    assert text.endswith("Is there anything else I can check for you?")
    assert events[-1]["steps"] == 3


def test_a_three_part_question_answers_every_part() -> None:
    events = run_agent(DEMO, THREE_PARTS)
    assert_server_stream(events)
    steps = calls_by_step(events)
    assert [name for name, _ in steps[0]] == [
        "get_policy",
        "search_catalogue",
        "get_policy",
        "current_time",
    ]
    assert steps[1:] == [[("calculator", {"expression": "5 * 12"})]]
    text = answer(events)
    assert "### Refunds and cancellations" in text
    assert "cost $60 a month" in text
    assert "Support is **" in text
    assert text.count("\n---\n") == 2  # three answers, ruled apart
    thinking = "".join(e["delta"] for e in events if e["event"] == "reasoning_delta")
    assert thinking.startswith("This message asks 3 things")


def test_each_part_gets_the_results_of_its_own_calls() -> None:
    events = run_agent(DEMO, "Do you sell headphones, and how much is Team for 5 people?")
    assert calls_by_step(events) == [
        [
            ("search_catalogue", {"query": "headphones"}),
            ("search_catalogue", {"query": "", "names": ["Orbit Team"]}),
        ],
        [("search_catalogue", {"query": ""}), ("calculator", {"expression": "5 * 12"})],
    ]
    text = answer(events)
    assert "we don't offer *headphones*" in text and "cost $60 a month" in text


def test_a_multi_part_answer_is_deterministic_at_delay_zero() -> None:
    first, second = run_agent(DEMO, REFUND_AND_TEAM), run_agent(DEMO, REFUND_AND_TEAM)
    assert answer(first) == answer(second)
    assert tool_calls(first) == tool_calls(second)
    assert [e["call_id"] for e in first if e["event"] == "tool_call"] == [
        e["call_id"] for e in second if e["event"] == "tool_call"
    ]


def test_a_part_can_refer_to_the_product_the_part_before_named() -> None:
    events = run_agent(DEMO, "Tell me about the Orbit Hub, and how heavy is it in pounds?")
    hub = ("search_catalogue", {"query": "", "names": ["Orbit Hub"]})
    convert = ("convert_units", {"value": 1.2, "from_unit": "kg", "to_unit": "pounds"})
    assert calls_by_step(events) == [[hub], [convert]]  # asked by both parts, called once
    text = answer(events)
    assert "4K camera with auto-framing" in text
    assert "**Orbit Hub** weighs **2.65 lb** (1.2 kg)." in text


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (REFUND_AND_TEAM, ["What's the refund policy", "how much is Team for 5 people?"]),
        ("Is support open? What time is it?", ["Is support open?", "What time is it?"]),
        ("5 km to miles; 3 kg in pounds", ["5 km to miles", "3 kg in pounds"]),
        ("Compare Team and Business", ["Compare Team and Business"]),
        ("Refund policy and shipping policy?", ["Refund policy and shipping policy?"]),
    ],
)  # fmt: skip
def test_messages_are_cut_where_a_new_question_starts(message: str, parts: list[str]) -> None:
    assert split_parts(message) == parts


@pytest.mark.parametrize(
    ("message", "kinds"),
    [
        (REFUND_AND_TEAM, ["policy", "price"]),
        ("Is support open? What time is it in Tokyo?", ["support_now", "time"]),
        ("Hi, what can you do?", ["capabilities"]),
        ("Thanks! How much is Team for 5 people?", ["price"]),
        ("Compare Team and Business", ["compare"]),
        ("What's the refund policy and the shipping policy?", ["policy"]),
        ("For 5 people, how much is Orbit Team?", ["price"]),
    ],
)
def test_only_real_questions_count_as_parts(message: str, kinds: list[str]) -> None:
    assert [intent.kind for intent in read_all(message, [])] == kinds


def test_a_multi_part_question_over_http(client: PowabaseClient) -> None:
    events = list(client.stream_run("agt_demo", REFUND_AND_TEAM))
    calls = [(e["step"], e["tool_name"]) for e in events if e["event"] == "tool_call"]
    assert calls == [(1, "get_policy"), (1, "search_catalogue"), (2, "calculator")]
    complete = events[-1]
    assert complete["event"] == "complete" and complete["status"] == "completed"
    assert "### Refunds and cancellations" in complete["text"]
    assert "cost $60 a month" in complete["text"]
