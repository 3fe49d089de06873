"""The local agents' tools: a calculator that cannot be abused, real clocks, exact unit
conversion, and the knowledge-base lookups the demo agent answers from."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from powawidget.server import knowledge
from powawidget.server.agents.approval import ISSUE_REFUND
from powawidget.server.agents.timing import CHECK_STOCK
from powawidget.server.tools import (
    TOOLS,
    ToolError,
    calculate,
    convert_units,
    current_time,
    format_number,
    get_policy,
    result_text,
    search_catalogue,
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-3 + +5", 2),
        ("--4", 4),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 4", 3),
        ("2 ** 10", 1024),
        ("2 ^ 3", 8),
        ("3 × 4 ÷ 2", 6),
        ("1_000 * 3", 3000),
        ("1.5e3 + 0.5", 1500.5),
        ("2 ** -1", 0.5),
        ("10 ** 100", 10**100),
        ("((((1))))", 1),
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, expected: float) -> None:
    assert calculate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__import__('os').system('echo hacked')", "not allowed"),
        ("open('/etc/passwd').read()", "not allowed"),
        ("x + 1", "not allowed"),
        ("(1).__class__", "not allowed"),
        ("[1, 2][0]", "not allowed"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("lambda: 1", "unsupported syntax"),
        ("1 if 1 else 2", "unsupported syntax"),
        ("2 ** 100000", "too large"),
        ("9 ** 9 ** 9", "too large"),
        ("10 ** 101", "too large"),
        ("10 ** 60 * 10 ** 60", "too large"),
        ("1e308 * 10", "too large"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "negative power"),
        ("(-8) ** 0.5", "not a real number"),
        ("1 +", "could not read"),
        ("", "non-empty"),
        ("1+" * 150 + "1", "too long"),
    ],
)
def test_calculator_refuses_anything_but_bounded_arithmetic(expression: str, reason: str) -> None:
    with pytest.raises(ToolError, match=reason):
        calculate(expression)


def test_calculator_results_read_without_float_noise() -> None:
    assert format_number(calculate("0.1 + 0.2")) == "0.3"
    assert format_number(calculate("3 * 5.0")) == "15"
    assert format_number(calculate("2 / 3")) == "0.6666666667"
    assert result_text(calculate("10 / 4")) == "2.5"


def test_current_time_is_now_in_the_requested_zone() -> None:
    utc = current_time("UTC")
    stamp = datetime.fromisoformat(utc["iso"])
    assert abs(stamp - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert utc["timezone"] == "UTC" and utc["utc_offset"] == "+00:00"

    tokyo = current_time("Asia/Tokyo")
    assert tokyo["utc_offset"] == "+09:00"  # no daylight saving in Japan
    assert datetime.fromisoformat(tokyo["iso"]).tzinfo is not None
    berlin = current_time("Europe/Berlin")
    expected = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%z")
    assert berlin["utc_offset"].replace(":", "") == expected
    assert berlin["weekday"] == datetime.now(ZoneInfo("Europe/Berlin")).weekday()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime"])
def test_current_time_rejects_unknown_zones_clearly(zone: str) -> None:
    with pytest.raises(ToolError, match="unknown timezone"):
        current_time(zone)


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (5, "km", "miles", 3.106855961),
        (1, "mile", "m", 1609.344),
        (12, "inches", "ft", 1.0),
        (2, "kg", "lb", 4.409245244),
        (16, "oz", "pounds", 1.0),
        (212, "°F", "celsius", 100.0),
        (0, "C", "K", 273.15),
        (-40, "fahrenheit", "c", -40.0),
        (1, "gallon", "l", 3.785411784),
        (1.5, "GB", "MB", 1500.0),
        (1, "GiB", "MiB", 1024.0),
        (1, "TB", "GiB", 931.3225746),
    ],
)
def test_convert_units_is_exact(value: float, source: str, target: str, expected: float) -> None:
    result = convert_units(value, source, target)
    assert math.isclose(result["result"], expected, rel_tol=1e-9, abs_tol=1e-9)


def test_convert_units_round_trips() -> None:
    there = convert_units(123.4, "kg", "lb")["result"]
    assert math.isclose(convert_units(there, "lb", "kg")["result"], 123.4, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("value", "source", "target", "reason"),
    [
        (1, "kg", "km", "cannot convert mass"),
        (1, "parsec", "m", "unknown unit 'parsec'"),
        (1, "m", "furlong", "unknown unit 'furlong'"),
        (-500, "C", "F", "absolute zero"),
        ("ten", "m", "ft", "finite number"),
        (float("nan"), "m", "ft", "finite number"),
    ],
)
def test_convert_units_refuses_nonsense(
    value: object, source: str, target: str, reason: str
) -> None:
    with pytest.raises(ToolError, match=reason):
        convert_units(value, source, target)  # type: ignore[arg-type]


def test_search_catalogue_lists_everything_for_an_empty_query() -> None:
    result = search_catalogue("")
    assert result["count"] == len(knowledge.catalogue()) == 7
    assert result["products"][0]["name"] == "Orbit Solo"


def test_search_catalogue_ranks_the_small_team_plan_first() -> None:
    names = [p["name"] for p in search_catalogue("small teams")["products"]]
    assert names[0] == "Orbit Team"
    assert "Orbit Enterprise" not in names


def test_search_catalogue_finds_products_by_feature_and_name() -> None:
    assert [p["name"] for p in search_catalogue("SSO")["products"]] == [
        "Orbit Business",
        "Orbit Enterprise",
    ]
    found = search_catalogue(names=["team", "Orbit Hub"])["products"]
    assert [p["id"] for p in found] == ["orbit-team", "orbit-hub"]
    assert found[1]["specs"]["weight_kg"] == 1.2
    with pytest.raises(ToolError, match="no product named"):
        search_catalogue(names=["Orbit Rocket"])
    with pytest.raises(ToolError, match="list of product names"):
        search_catalogue(names="Orbit Team")  # type: ignore[arg-type]


def test_get_policy_by_topic_or_keyword() -> None:
    assert get_policy("refund")["title"] == "Refunds and cancellations"
    assert get_policy("Refunds")["topic"] == "refund"
    assert get_policy("delivery")["topic"] == "shipping"
    assert get_policy("support")["hours"]["timezone"] == "Europe/Berlin"
    with pytest.raises(
        ToolError, match="known topics: refund, billing, shipping, support, privacy, trial"
    ):
        get_policy("warp drive")


def test_tools_check_their_arguments_like_a_schema() -> None:
    calculator = TOOLS["calculator"]
    assert calculator.invoke({"expression": "6 * 7"}) == 42
    with pytest.raises(ToolError, match="unknown argument"):
        calculator.invoke({"expression": "1", "code": "import os"})
    with pytest.raises(ToolError, match="missing argument"):
        calculator.invoke({})
    assert TOOLS["current_time"].invoke({})["timezone"] == "UTC"
    assert set(TOOLS) == {
        "search_catalogue",
        "get_policy",
        "calculator",
        "current_time",
        "convert_units",
    }
    for tool in TOOLS.values():
        assert tool.description and tool.parameters["type"] == "object"


def test_refund_and_stock_tools() -> None:
    refund = ISSUE_REFUND.invoke({"order_id": "ORD-7", "amount": 20})
    assert refund["status"] == "issued" and refund["refund_id"].startswith("rf_")
    with pytest.raises(ToolError, match="positive"):
        ISSUE_REFUND.invoke({"order_id": "ORD-7", "amount": -5})
    with pytest.raises(ToolError, match="finance team"):
        ISSUE_REFUND.invoke({"order_id": "ORD-7", "amount": 50_000})
    assert CHECK_STOCK.latency == 0.3
    assert CHECK_STOCK.invoke({})["in_stock"] == 12
