"""The demo agent's first impression: what a newcomer asks first, answered the way a good
support assistant would — consistent with the catalogue, with the arithmetic done by its
calculator, and honest about questions it cannot answer."""

from __future__ import annotations

import re

from test_agents import DEMO, answer, assert_server_stream, converse, run_agent, tool_calls

from powawidget.server import knowledge

TEAM_OF_40 = "Which plan is best for a team of 40 people?"
CHEAPER_FOLLOW_UP = (
    "which of those two would be cheaper for 40 people over a year, and by how much?"
)


def seat_ranges(text: str) -> list[tuple[int, int]]:
    """Every "N to M people" / "N–M seats" range the text claims."""
    ranges = re.findall(r"(\d+)\s*(?:to|–|-)\s*(\d+)\s*(?:people|seats)", text)
    return [(int(low), int(high)) for low, high in ranges]


def test_the_plan_recommended_for_40_people_is_described_as_fitting_40_people():
    events = run_agent(DEMO, TEAM_OF_40)
    assert_server_stream(events)
    text = answer(events)
    assert "I'd recommend **Orbit Team**" in text
    claimed = seat_ranges(text.split("**Also worth a look:**")[0])
    assert claimed and all(low <= 40 <= high for low, high in claimed), claimed


def test_every_product_description_agrees_with_its_seat_limits():
    for product in knowledge.catalogue():
        for low, high in seat_ranges(product.best_for):
            assert (low, high) == (product.min_seats, product.max_seats), product.name


def test_the_cheaper_follow_up_works_out_the_yearly_totals_and_the_difference():
    _, second = converse([TEAM_OF_40, CHEAPER_FOLLOW_UP])
    assert_server_stream(second)
    calculations = [args["expression"] for name, args in tool_calls(second) if name == "calculator"]
    assert calculations == ["40 * 12 * 12", "40 * 22 * 12", "10560 - 5760"]
    text = answer(second)
    assert text.startswith("For 40 people over a year, **Orbit Team** is cheaper")
    assert "$5,760" in text and "$10,560" in text and "**$4,800**" in text
    steps = [e["step"] for e in second if e["event"] == "tool_call"]
    assert steps == [1, 2, 2, 3], "look up, both totals at once, then the difference"


def test_the_cheapest_of_the_whole_range_for_a_team_leaves_out_what_cannot_seat_it():
    _, second = converse(
        ["What products do you offer?", "Which of those is cheapest for 40 people per year?"]
    )
    text = answer(second)
    assert text.startswith("For 40 people over a year, **Orbit Team** is cheaper")
    assert "Orbit Starter" in text.split("```")[-1], "named among the plans left out"
    assert "not a monthly plan for 40 people" in text


def test_an_off_topic_question_gets_a_natural_answer_and_ideas_to_ask():
    events = run_agent(DEMO, "Who won the 2018 World Cup?")
    assert_server_stream(events)
    text = answer(events)
    first_line = text.splitlines()[0]
    assert first_line.startswith("Sorry, I can't help with that one")
    assert "Orbit Labs" in first_line and "products, prices and policies" in first_line
    assert "World Cup" not in text and "couldn't find anything" not in text
    assert "Try asking:" in text and "*What products do you offer?*" in text
