"""The odd-value rules of wire/values.py and wire/canonical.py (docs/protocol.md, "Odd values")."""

from __future__ import annotations

import json
import threading

import pytest

from powawidget.wire.canonical import EVENT_KEYS, canonical
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent
from powawidget.wire.values import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    NumberText,
    careful_loads,
    data,
    deep_text,
    measure,
    name,
    text,
)


def test_text_is_valid_unicode_and_a_pair_is_joined() -> None:
    assert text("x\ud83dy") == "x\ufffdy"
    assert text("\ud83d\ude00") == "😀"  # two halves written separately: one character
    assert text("plain") == "plain" and text("café") == "café"
    text("a\udc00b").encode("utf-8")


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (0, 0),
        (7, 7),
        (1.5, 1.5),
        (MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
        (MAX_SAFE_INTEGER + 1, None),
        (10**400, None),
        (-1, None),
        (float("nan"), None),
        (float("inf"), None),
        (True, None),
        ("5", None),
        (None, None),
    ],
)
def test_a_measure_is_a_finite_number_in_range(value: object, kept: object) -> None:
    assert measure(value) == kept


def test_a_name_is_a_string_or_the_json_text_of_what_came() -> None:
    assert name("search") == "search"
    assert name({"a": 1}) == '{"a":1}'
    assert name(["x", float("nan")]) == '["x","NaN"]'
    assert name(None) is None


def test_the_decoder_keeps_numbers_no_sink_holds_as_their_text() -> None:
    digits = "9" * 5_000  # past Python's own int() limit of 4,300 digits
    value = careful_loads(f'{{"a": NaN, "b": -Infinity, "c": 1e999, "d": {digits}, "e": 5}}')
    assert value == {"a": "NaN", "b": "-Infinity", "c": "1e999", "d": digits, "e": 5}
    assert all(isinstance(value[k], NumberText) for k in "abcd")
    assert careful_loads(str(MAX_SAFE_INTEGER)) == MAX_SAFE_INTEGER
    assert careful_loads(str(MAX_SAFE_INTEGER + 1)) == str(MAX_SAFE_INTEGER + 1)


def test_data_past_the_depth_bound_is_its_json_text_and_nothing_is_lost() -> None:
    deep: object = "bottom"
    for _ in range(900):
        deep = [deep]
    clean = data({"a": deep})
    value, level = clean, 1
    while isinstance(value, (dict, list)):
        value = value["a"] if isinstance(value, dict) else value[0]
        level += 1
    assert level == MAX_DEPTH + 1 and isinstance(value, str)
    assert json.loads(value) == _nest("bottom", 900 - MAX_DEPTH + 1)  # exactly what came
    json.dumps(clean, allow_nan=False)


def _nest(value: object, depth: int) -> object:
    for _ in range(depth):
        value = [value]
    return value


def test_data_returns_the_same_object_when_nothing_changes() -> None:
    value = {"a": [1, "two", {"b": None}], "c": 2.5}
    assert data(value) is value
    assert data({"a": float("nan")}) == {"a": "NaN"}
    assert data({"\udc00": 10**30}) == {"\ufffd": str(10**30)}
    assert data({1, 2}) in ("{1, 2}", "{2, 1}")  # a client's odd object: its text


def test_deep_text_needs_no_recursion() -> None:
    deep = _nest({"k": "x\ud83d"}, 3_000)  # deeper than the interpreter's recursion limit
    out: list[str] = []
    worker = threading.Thread(target=lambda: out.append(deep_text(deep)))
    worker.start()
    worker.join()
    assert out[0] == "[" * 3_000 + '{"k":"x\ufffd"}' + "]" * 3_000


def test_canonical_makes_a_hand_written_event_well_formed() -> None:
    event = canonical(
        {
            "event": "tool_result",
            "seq": "7",
            "step": -2,
            "tool_name": {"a": 1},
            "duration_ms": float("inf"),
            "usage": {"prompt_tokens": 10**20, "total_tokens": 3},
            "arguments": {"x": float("nan")},
            "text": "x\ud83d",
            "extra": float("nan"),
        }
    )
    assert list(event)[: len(EVENT_KEYS)] == list(EVENT_KEYS)
    assert event["seq"] == -1 and event["step"] is None and event["tool_name"] == '{"a":1}'
    assert event["usage"] == {"prompt_tokens": None, "total_tokens": 3}
    assert event["dropped"] == {
        "step": "-2",
        "duration_ms": "Infinity",
        "usage.prompt_tokens": str(10**20),
    }
    assert event["arguments"] == {"x": "NaN"} and event["text"] == "x\ufffd"
    assert event["extra"] == "NaN"  # type: ignore[typeddict-item]
    assert canonical(event) == event  # the door twice changes nothing
    with pytest.raises(ValueError, match="'event' name"):
        canonical({"text": "no name"})


def test_the_normaliser_notes_a_lone_surrogate_and_keeps_the_frame() -> None:
    frame = '{"event": "content_delta", "delta": "a\\udc00", "usage": {"prompt_tokens": 1e999}}'
    (event,) = (EventNormaliser().normalise(ServerSentEvent(data=frame)),)
    assert event["text"] == "a\ufffd" and event["raw"]["delta"] == "a\ufffd"
    assert event["dropped"] == {"raw": frame, "usage.prompt_tokens": "1e999"}
    assert json.loads(event["dropped"]["raw"])["delta"] == "a\udc00"  # exactly as it came


def test_make_event_puts_client_values_through_the_same_rules() -> None:
    event = make_event("user_message", text="hi \ud83d", arguments={"n": float("inf")})
    assert event["text"] == "hi \ufffd" and event["arguments"] == {"n": "Infinity"}
    with pytest.raises(TypeError, match="unknown fields"):
        make_event("user_message", txt="typo")
