"""Both wire dialects become one canonical event model, and nothing of the wire is lost."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from powawidget.wire.events import (
    EVENT_KEYS,
    REASONING_EVENTS,
    TEXT_EVENTS,
    EventNormaliser,
    format_timestamp,
    is_failure,
    make_event,
    normalise_stream,
)
from powawidget.wire.sse import ServerSentEvent, iter_events

T0 = datetime(2026, 11, 24, 8, 0, 0, 123000, tzinfo=timezone.utc).timestamp()
RUN = "run_0123456789ab"
SESSION = "sess_0123456789ab"


def frame(payload: dict[str, Any] | str, event: str = "message") -> ServerSentEvent:
    """An SSE event carrying a JSON object (or any text) as its data."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return ServerSentEvent(event=event, data=data)


def normalise(*payloads: dict[str, Any] | str) -> list[dict[str, Any]]:
    """Canonical events for one stream of frames, all stamped at T0."""
    return list(normalise_stream((frame(p) for p in payloads), clock=lambda: T0))


def server(event: str, seq: int = 0, **fields: Any) -> dict[str, Any]:
    """A server-dialect frame: event, its copy in type, seq and ts, then the fields."""
    return {"event": event, "type": event, "seq": seq, "ts": "2026-11-24T08:00:00+00:00", **fields}


def pick(event: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The named keys of an event, for compact comparisons."""
    return {k: event[k] for k in keys}


# --- the shape ---------------------------------------------------------------------------


def test_every_event_has_all_keys_in_order() -> None:
    for event in normalise({"event": "start", "run_id": RUN}, "oops", {"event": "x"}):
        assert tuple(event) == EVENT_KEYS
        json.dumps(event)  # plain JSON-serialisable data
    assert EVENT_KEYS[:3] == ("event", "seq", "received_at") and EVENT_KEYS[-1] == "raw"


def test_seq_counts_from_zero_in_client_order_and_received_at_uses_the_clock() -> None:
    ticks: Iterator[float] = iter([T0, T0 + 0.5, T0 + 61.25])
    events = list(
        normalise_stream(
            [frame({"event": "start"}), frame("not json"), frame({"event": "chunk"})],
            clock=lambda: next(ticks),
        )
    )
    assert [e["seq"] for e in events] == [0, 1, 2]
    assert [e["received_at"] for e in events] == [
        "2026-11-24T08:00:00.123Z",
        "2026-11-24T08:00:00.623Z",
        "2026-11-24T08:01:01.373Z",
    ]


def test_received_at_defaults_to_now() -> None:
    (event,) = list(normalise_stream([frame({"event": "start"})]))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["received_at"])
    stamped = datetime.strptime(event["received_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(stamped.replace(tzinfo=timezone.utc).timestamp() - datetime.now().timestamp()) < 60


def test_format_timestamp_is_iso_utc_with_milliseconds() -> None:
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(T0) == "2026-11-24T08:00:00.123Z"
    assert format_timestamp(T0 + 0.0004) == "2026-11-24T08:00:00.123Z"


def test_raw_is_the_parsed_object_untouched() -> None:
    payload = server("tool_call", tool_name="t", arguments={"q": [1, 2]}, call_id="c1", extra=1)
    sse = frame(payload)
    event = EventNormaliser(clock=lambda: T0).normalise(sse)
    assert event["raw"] == payload  # every field, unknown ones included
    before = copy.deepcopy(event["raw"])
    EventNormaliser().normalise(sse)
    assert event["raw"] == before
    assert event["arguments"] is event["raw"]["arguments"]


# --- server dialect ----------------------------------------------------------------------


def test_a_server_dialect_run() -> None:
    events = normalise(
        server("start", 0, run_id=RUN, session_id=SESSION, context_handler_id=None),
        server("step_started", 1, step=1, is_last_step=False),
        server("reasoning_delta", 2, step=1, source="thinking", delta="Look up "),
        server("reasoning", 3, step=1, content="Look up the catalogue."),
        server(
            "tool_call",
            4,
            step=1,
            tool_name="search_catalogue",
            arguments={"query": "widgets"},
            call_id="call_1",
        ),
        server(
            "tool_result",
            5,
            step=1,
            tool_name="search_catalogue",
            call_id="call_1",
            result_preview='[{"sku": "W-1"}]',
            result_meta={"truncated": False},
            duration_ms=12,
        ),
        server("step_completed", 6, step=1, finish_reason="tool_calls", has_tool_calls=True),
        server("content_delta", 7, delta="Hel"),
        server("content_delta", 8, delta="lo"),
        server("chunk", 9, content="Hello!"),
        server(
            "complete",
            10,
            run_id=RUN,
            session_id=SESSION,
            content="Hello!",
            status="completed",
            steps=1,
            tool_calls=[],
            usage={"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
            error=None,
        ),
    )
    assert [e["event"] for e in events] == [
        "start",
        "step_started",
        "reasoning_delta",
        "reasoning",
        "tool_call",
        "tool_result",
        "step_completed",
        "content_delta",
        "content_delta",
        "chunk",
        "complete",
    ]
    assert all(e["run_id"] == RUN and e["session_id"] == SESSION for e in events)
    assert [e["step"] for e in events[:7]] == [None, 1, 1, 1, 1, 1, 1]
    assert pick(events[2], "text", "text_mode") == {"text": "Look up ", "text_mode": "append"}
    assert pick(events[3], "text", "text_mode") == {
        "text": "Look up the catalogue.",
        "text_mode": "replace",
    }
    assert pick(events[4], "tool_name", "call_id", "arguments", "text") == {
        "tool_name": "search_catalogue",
        "call_id": "call_1",
        "arguments": {"query": "widgets"},
        "text": None,
    }
    assert pick(events[5], "tool_name", "call_id", "result", "duration_ms") == {
        "tool_name": "search_catalogue",
        "call_id": "call_1",
        "result": '[{"sku": "W-1"}]',
        "duration_ms": 12.0,
    }
    assert [(e["text"], e["text_mode"]) for e in events[7:]] == [
        ("Hel", "append"),
        ("lo", "append"),
        ("Hello!", "replace"),  # the terminal chunk holds the whole answer
        ("Hello!", "replace"),
    ]
    assert pick(events[10], "status", "usage", "error_message", "error_code") == {
        "status": "completed",
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        "error_message": None,
        "error_code": None,
    }
    assert not any(is_failure(e) for e in events)


def test_a_failed_complete_is_a_failure_with_a_default_code() -> None:
    (event,) = normalise(
        server("complete", run_id=RUN, status="failed", error="Model timed out", content="")
    )
    assert pick(event, "status", "error_message", "error_code", "text", "text_mode") == {
        "status": "failed",
        "error_message": "Model timed out",
        "error_code": "run_failed",
        "text": "",
        "text_mode": "replace",
    }
    assert is_failure(event)
    (coded,) = normalise({"event": "complete", "status": "failed", "error": "x", "code": "quota"})
    assert coded["error_code"] == "quota"


def test_a_server_error_event_has_text_but_no_code() -> None:
    (event,) = normalise(server("error", error="The model provider returned an error", step=1))
    assert pick(event, "error_message", "error_code", "step", "status") == {
        "error_message": "The model provider returned an error",
        "error_code": None,
        "step": 1,
        "status": None,
    }
    assert is_failure(event)


def test_approval_requested_carries_the_tool_its_input_and_message() -> None:
    (event,) = normalise(
        server(
            "approval_requested",
            tool_name="refund_order",
            tool_input={"order_id": "A-17", "amount": 20},
            message="Refund 20 EUR on order A-17?",
        )
    )
    assert pick(event, "tool_name", "arguments", "text", "text_mode") == {
        "tool_name": "refund_order",
        "arguments": {"order_id": "A-17", "amount": 20},
        "text": "Refund 20 EUR on order A-17?",
        "text_mode": None,
    }


def test_tool_arguments_sent_as_a_json_string_stay_as_sent() -> None:
    (event,) = normalise(server("tool_call", tool_name="t", arguments='{"q": 1}'))
    assert event["arguments"] == '{"q": 1}'


# --- documented dialect ------------------------------------------------------------------


def test_a_documented_dialect_run() -> None:
    events = normalise(
        {"event": "start", "session_id": SESSION, "run_id": RUN},
        {"event": "step_started", "step_number": 1},
        {"event": "chunk", "content": "Hel"},
        {"event": "chunk", "content": "lo"},
        {"event": "tool_call", "tool_name": "get_policy", "arguments": {"topic": "returns"}},
        {"event": "tool_result", "result": {"days": 30}},
        {"event": "tool_result", "result": "plain text"},
        {"event": "step_completed", "step_number": 1},
        {"event": "complete", "usage": {"total_tokens": 5}},
    )
    assert [e["step"] for e in events] == [None, 1, None, None, None, None, None, 1, None]
    assert [(e["text"], e["text_mode"]) for e in events[2:4]] == [
        ("Hel", "append"),
        ("lo", "append"),  # no deltas before: each chunk is a delta
    ]
    assert events[4]["arguments"] == {"topic": "returns"}
    assert json.loads(events[5]["result"]) == {"days": 30}  # non-strings JSON-dumped
    assert events[6]["result"] == "plain text"
    complete = events[8]
    assert pick(complete, "text", "text_mode", "status", "usage") == {
        "text": None,
        "text_mode": None,
        "status": None,
        "usage": {"total_tokens": 5},
    }
    assert all(e["run_id"] == RUN for e in events)
    assert not is_failure(complete)


def test_a_documented_error_has_message_and_code() -> None:
    (event,) = normalise({"event": "error", "message": "Slow down", "code": "rate_limited"})
    assert pick(event, "error_message", "error_code") == {
        "error_message": "Slow down",
        "error_code": "rate_limited",
    }


def test_an_error_object_gives_its_message_and_code() -> None:
    nested = {"event": "error", "error": {"message": "Too long", "code": "context_length_exceeded"}}
    (event,) = normalise(nested)
    assert pick(event, "error_message", "error_code") == {
        "error_message": "Too long",
        "error_code": "context_length_exceeded",
    }
    (bare,) = normalise({"event": "error"})
    assert pick(bare, "error_message", "error_code") == {"error_message": None, "error_code": None}
    assert is_failure(bare)


def test_result_wins_over_result_preview_and_null_stays_none() -> None:
    both = {"event": "tool_result", "result": [1, 2], "result_preview": "[1,"}
    none = {"event": "tool_result", "result": None}
    assert [e["result"] for e in normalise(both, none)] == ["[1, 2]", None]


# --- chunk: append or replace ------------------------------------------------------------


def test_a_chunk_replaces_only_after_deltas_in_the_same_run() -> None:
    events = normalise(
        {"event": "start", "run_id": "run_a"},
        {"event": "content_delta", "delta": "x"},
        {"event": "chunk", "content": "X"},
        {"event": "start", "run_id": "run_a"},  # the same run announced again
        {"event": "chunk", "content": "X"},
        {"event": "start", "run_id": "run_b"},
        {"event": "chunk", "content": "y"},
        {"event": "content_delta", "run_id": "run_c", "delta": "z"},
        {"event": "chunk", "run_id": "run_d", "content": "w"},
    )
    assert [e["text_mode"] for e in events if e["event"] == "chunk"] == [
        "replace",
        "replace",
        "append",
        "append",
    ]


def test_reasoning_deltas_do_not_make_a_chunk_replace() -> None:
    events = normalise(
        {"event": "reasoning_delta", "delta": "hm"},
        {"event": "chunk", "content": "a"},
    )
    assert events[1]["text_mode"] == "append"


# --- ids, names, and frames that are not what they should be ----------------------------


def test_run_and_session_ids_are_carried_forward_once_known() -> None:
    events = normalise(
        {"event": "step_started"},
        {"event": "start", "run_id": RUN, "session_id": SESSION},
        "not json",
        {"event": "content_delta", "delta": "a"},
    )
    assert [(e["run_id"], e["session_id"]) for e in events] == [
        (None, None),
        (RUN, SESSION),
        (RUN, SESSION),
        (RUN, SESSION),
    ]


@pytest.mark.parametrize(
    "data", ["not json", "[1, 2]", "null", '"text"', "42", "", "{bad", '{"a": 1} extra', "{"]
)
def test_a_frame_that_is_not_a_json_object_is_malformed_and_the_stream_goes_on(
    data: str,
) -> None:
    events = normalise(data, {"event": "content_delta", "delta": "after"})
    assert pick(events[0], "event", "raw", "text", "seq") == {
        "event": "malformed",
        "raw": data,
        "text": None,
        "seq": 0,
    }
    assert not is_failure(events[0])
    assert events[1]["text"] == "after" and events[1]["seq"] == 1


def test_json_objects_with_surrounding_whitespace_are_fine() -> None:
    events = normalise(' {"event": "chunk", "content": "a"}', '{"event": "chunk"}  \t')
    assert [e["event"] for e in events] == ["chunk", "chunk"]
    assert events[0]["raw"] == {"event": "chunk", "content": "a"}


def test_unknown_events_pass_through_with_their_payload() -> None:
    payload = server("model_fallback", 3, from_model="a", to_model="b", step=2)
    (event,) = normalise(payload)
    assert pick(event, "event", "step", "raw", "text") == {
        "event": "model_fallback",
        "step": 2,
        "raw": payload,
        "text": None,
    }


def test_the_event_name_comes_from_event_then_type_then_the_sse_field() -> None:
    normaliser = EventNormaliser(clock=lambda: T0)
    names = [
        normaliser.normalise(frame({"event": "chunk", "type": "other"}, event="ping"))["event"],
        normaliser.normalise(frame({"type": "content_delta", "delta": "x"}))["event"],
        normaliser.normalise(frame({"delta": "x"}, event="content_delta"))["event"],
        normaliser.normalise(frame({"a": 1}))["event"],
    ]
    assert names == ["chunk", "content_delta", "content_delta", "message"]
    typed = normaliser.normalise(frame({"type": "content_delta", "delta": "x"}))
    assert pick(typed, "text", "text_mode") == {"text": "x", "text_mode": "append"}


def test_odd_field_types_do_not_break_the_event() -> None:
    (event,) = normalise(
        {
            "event": "tool_result",
            "run_id": 5,
            "step": "2",
            "tool_name": ["x"],
            "duration_ms": "fast",
            "usage": "lots",
            "result": {"nested": [1, {"a": None}]},
        }
    )
    assert pick(event, "run_id", "step", "duration_ms", "usage") == dict.fromkeys(
        ("run_id", "step", "duration_ms", "usage")
    )
    assert event["tool_name"] == '["x"]'  # a name is text: an object's JSON text
    # What was left out is noted, as the JSON text that came (docs/protocol.md, Odd values).
    assert event["dropped"] == {"step": '"2"', "duration_ms": '"fast"', "usage": '"lots"'}
    assert json.loads(event["result"]) == {"nested": [1, {"a": None}]}
    assert event["raw"]["step"] == "2"


# --- client-side events and helpers ------------------------------------------------------


def test_make_event_fills_every_key_for_client_side_events() -> None:
    event = make_event("client_error", error_message="connection lost", error_code="stream_lost")
    assert tuple(event) == EVENT_KEYS
    assert pick(event, "event", "seq", "raw", "error_message", "error_code") == {
        "event": "client_error",
        "seq": -1,
        "raw": None,
        "error_message": "connection lost",
        "error_code": "stream_lost",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["received_at"])
    assert is_failure(event)
    assert make_event("user_message", text="hi", received_at="X")["received_at"] == "X"


def test_make_event_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match="txt"):
        make_event("user_message", txt="hi")


def test_is_failure_covers_exactly_errors_failed_runs_and_client_errors() -> None:
    assert is_failure(make_event("error"))
    assert is_failure(make_event("complete", status="failed"))
    assert is_failure(make_event("client_error"))
    assert not is_failure(make_event("complete", status="completed"))
    assert not is_failure(make_event("stopped"))
    assert not is_failure(make_event("malformed"))
    assert not is_failure({"event": "chunk"})  # slim events work too


def test_text_and_reasoning_event_sets() -> None:
    assert {"chunk", "content_delta", "complete"} == TEXT_EVENTS
    assert {"reasoning_delta", "reasoning"} == REASONING_EVENTS


# --- bytes to canonical events, CRLF framing included ------------------------------------


def test_from_bytes_to_canonical_events_with_crlf_framing_and_keepalives() -> None:
    frames = [
        {"event": "start", "run_id": RUN, "session_id": SESSION},
        {"event": "content_delta", "delta": "caf\u00e9 \u2028 "},
        {"event": "chunk", "content": "caf\u00e9 \u2028 done"},
        {"event": "complete", "status": "completed", "content": "caf\u00e9 \u2028 done"},
    ]
    body = b": keepalive\r\n\r\n" + b"".join(
        b"data: " + json.dumps(f, ensure_ascii=False).encode() + b"\r\n\r\n" for f in frames
    )
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    events = list(normalise_stream(iter_events(chunks), clock=lambda: T0))
    assert [e["raw"] for e in events] == frames
    assert events[-1]["text"] == "caf\u00e9 \u2028 done"
    assert events[2]["text_mode"] == "replace"


# --- real streams from the local agent server (both dialects, CRLF framing) --------------


def stream_from_server(local_server: Any, agent_id: str, message: str) -> list[dict[str, Any]]:
    """POST a run to the local server and read its raw body through our reader."""
    import requests

    key = local_server.api_key
    with requests.post(
        f"{local_server.base_url}/api/agents/{agent_id}/run/stream",
        json={"message": message},
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        stream=True,
        timeout=30,
    ) as response:
        assert response.status_code == 200
        chunks = iter(lambda: response.raw.read1(777), b"")
        return list(normalise_stream(iter_events(chunks)))


def final_text(events: list[dict[str, Any]]) -> str:
    """Fold answer text the way a view does: append, or replace on a replace."""
    text = ""
    for event in events:
        if event["event"] in TEXT_EVENTS and event["text"] is not None:
            text = event["text"] if event["text_mode"] == "replace" else text + event["text"]
    return text


@pytest.mark.parametrize(
    ("agent_id", "message"),
    [
        ("agt_demo", "Which widgets do you have in stock?"),
        ("agt_docs", "What is your return policy?"),
        ("fault_crlf", "hi"),
    ],
)
def test_real_server_streams_become_consistent_runs(
    local_server: Any, agent_id: str, message: str
) -> None:
    events = stream_from_server(local_server, agent_id, message)
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[0]["event"] == "start"
    run_id = events[0]["run_id"]
    assert run_id and run_id.startswith("run_")
    assert all(e["run_id"] == run_id and e["session_id"] for e in events)
    assert events[-1]["event"] in ("complete", "error")
    assert "malformed" not in {e["event"] for e in events}
    assert all(tuple(e) == EVENT_KEYS and isinstance(e["raw"], dict) for e in events)
    complete = events[-1]
    if complete["text"] is not None:
        assert final_text(events) == complete["text"]


def test_real_server_malformed_frame_is_kept_and_the_run_goes_on(local_server: Any) -> None:
    events = stream_from_server(local_server, "fault_malformed", "hi")
    names = [e["event"] for e in events]
    assert "malformed" in names
    bad = events[names.index("malformed")]
    assert isinstance(bad["raw"], str) and bad["run_id"] == events[0]["run_id"]
    assert names[-1] == "complete"
