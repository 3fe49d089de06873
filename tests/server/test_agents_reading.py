"""How the demo agent reads a message: products, numbers, units, zones and follow-ups."""

from __future__ import annotations

import pytest

from powawidget.server.agents.extract import (
    find_conversion,
    find_expression,
    find_months,
    find_quantity,
    find_timezone,
)
from powawidget.server.agents.reading import read
from powawidget.server.knowledge import mentioned_policies, mentioned_products


def names(text: str) -> list[str]:
    """Products named in the text, by name."""
    return [p.name for p in mentioned_products(text)]


def test_products_are_named_like_names_not_like_everyday_words() -> None:
    assert names("Compare Team and Business") == ["Orbit Team", "Orbit Business"]
    assert names("the team plan, or the orbit hub") == ["Orbit Team", "Orbit Hub"]
    assert names("best for small teams in my business") == []
    assert names("solo, then HUB") == ["Orbit Solo", "Orbit Hub"]
    # Order of first mention, not catalogue order.
    assert names("**Orbit Starter** beats Orbit Solo") == ["Orbit Starter", "Orbit Solo"]


def test_policies_are_found_by_their_keywords() -> None:
    topics = [p.topic for p in mentioned_policies("Can I get my money back, and how is delivery?")]
    assert topics == ["refund", "shipping"]
    assert mentioned_policies("Which plans have SSO?") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("convert 5 km to miles", (5.0, "km", "miles")),
        ("what is 72 F in celsius?", (72.0, "F", "celsius")),
        ("how many pounds is 2 kg", (2.0, "kg", "pounds")),
        ("1,5 litres in cups please", (1.5, "litres", "cups")),
        ("3 seats to start", None),
        ("5 kg to km", None),
    ],
)
def test_conversions_need_two_units_of_one_kind(text: str, expected: object) -> None:
    assert find_conversion(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what is (12*7+3)/2?", "(12*7+3)/2"),
        ("what's 15% of 240?", "15 / 100 * 240"),
        ("2**10 please", "2**10"),
        ("I have 3 people", None),
        ("teams of 3-", None),
    ],
)
def test_expressions_are_found_in_the_message(text: str, expected: str | None) -> None:
    assert find_expression(text) == expected


def test_team_sizes_and_billing_periods() -> None:
    assert find_quantity("how much would 3 seats of it cost?") == 3
    assert find_quantity("for ten people") == 10
    assert find_quantity("3 of the hub") == 3
    assert find_quantity("for 12 months") is None
    assert find_months("per year") == 12
    assert find_months("for 2 years") == 24
    assert find_months("for 6 months") == 6
    assert find_months("a month") == 1


def test_timezones_from_places_or_iana_names() -> None:
    assert find_timezone("what time is it in New York?") == ("America/New_York", "New York")
    assert find_timezone("time in Europe/Lisbon") == ("Europe/Lisbon", "Europe/Lisbon")
    assert find_timezone("what time is it?") == ("UTC", None)


HISTORY = [
    {"role": "user", "content": "Which one is best for small teams?"},
    {"role": "assistant", "content": "I'd recommend **Orbit Team**. Also: **Orbit Starter**."},
]


@pytest.mark.parametrize(
    ("message", "kind", "products"),
    [
        ("which one is cheapest of those?", "superlative", ["Orbit Team", "Orbit Starter"]),
        ("how much would 3 seats of it cost?", "price", ["Orbit Team"]),
        ("and for 10 seats?", "price", ["Orbit Team"]),
        ("how much for 8 people?", "price", []),
        ("tell me more about it", "product", ["Orbit Team"]),
        ("what's the difference between them?", "compare", ["Orbit Team", "Orbit Starter"]),
        ("How much is Orbit Business?", "product", ["Orbit Business"]),
        ("What is the refund policy?", "policy", []),
        ("thanks!", "thanks", []),
        ("What's the weather in Paris?", "search", []),
    ],
)
def test_follow_ups_read_the_previous_answer(message: str, kind: str, products: list[str]) -> None:
    intent = read(message, HISTORY)
    assert intent.kind == kind
    assert [p.name for p in intent.products] == products
