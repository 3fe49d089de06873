"""Issue 15's odd values, each reproduced: past the normaliser every sink takes them.

Each case is a stream of raw frames (the JSON text a server could send) read by the real
client from a raw HTTP peer or normalised frame by frame, then put through every sink: the
fold, the panel's snapshot and patches through the kernel's own JSON packer, save/load,
the exports, the static copy and the DataFrame views (docs/protocol.md, "Odd values").
"""

from __future__ import annotations

import json
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.session import json_packer
from panel_patches import apply_ops

from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.static import static_html
from powawidget.notebook.sync import PanelSync
from powawidget.outputs.transcript import Transcript
from powawidget.session.chat import ChatSession
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.client import PowabaseClient
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent
from tests.scripted_peer import Reply, scripted_peer

RUN = '"run_id": "run_1", "session_id": "sess_1"'


def read(*frames: str) -> list[CanonicalEvent]:
    """The user's question, then each frame's JSON text through one normaliser."""
    normaliser = EventNormaliser()
    events = [make_event("user_message", text="question")]
    return events + [normaliser.normalise(ServerSentEvent(data=f)) for f in frames]


def shown(events: list[CanonicalEvent]) -> Any:
    """The full projection, as the panel receives it (through JSON)."""
    return json.loads(json.dumps(entries(Conversation(events)), allow_nan=False))


def every_sink(events: list[CanonicalEvent], tmp_path: Path) -> dict[str, str]:
    """Put `events` through every sink; returns the human-readable ones' text."""
    conversation, lock, sent = Conversation(), threading.RLock(), []
    # Packed when sent, as the kernel does; its lossy fallback warns: not allowed.
    sync = PanelSync(conversation, lock, lambda message: sent.append(json_packer(message)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for event in events:  # a flush after every event: the most patches
            conversation.apply(event)
            sync.flush()
        sync.send_snapshot()
    drawn: list[Any] = []
    for message in sent:
        packed = json.loads(message)
        if packed["type"] == "patch":
            apply_ops(drawn, packed["ops"])
    assert drawn == packed["entries"] == shown(events)  # patches = snapshot = projection

    transcript = Transcript(events)
    path = transcript.save(tmp_path / "odd.jsonl")
    loaded = Transcript.load(path)
    assert shown(loaded.events) == shown(events)  # the round trip gives the same turns
    again = Transcript.load(loaded.save(tmp_path / "again.jsonl"))
    assert again.events == loaded.events  # a second round trip changes nothing
    for table in (transcript.runs, transcript.tool_calls, transcript.messages, transcript.rows):
        table.to_pandas()
        table.to_arrow()
        table.to_polars()
    out = {
        "markdown": transcript.to_markdown(),
        "html": transcript.to_html(),
        "static": static_html(transcript, "chat"),
        "saved": path.read_text(encoding="utf-8"),
    }
    for text in out.values():
        text.encode("utf-8")  # valid Unicode throughout
    return out


def test_a_lone_surrogate_in_a_delta_becomes_u_fffd_everywhere_and_the_frame_is_kept(
    tmp_path: Path,
) -> None:
    frame = '{"event": "content_delta", "delta": "x\\ud83dy", ' + RUN + "}"
    events = read(
        '{"event": "start", ' + RUN + "}",
        frame,
        '{"event": "content_delta", "delta": " and \\ud83d\\ude00"}',  # a pair is fine
        '{"event": "complete", "status": "completed", "content": null}',
    )
    assert events[2]["text"] == "x\ufffdy"
    assert events[2]["dropped"] == {"raw": frame}  # exactly what came, recoverable
    assert events[3]["text"] == " and 😀" and events[3]["dropped"] is None
    sinks = every_sink(events, tmp_path)
    for name in ("markdown", "html", "static"):
        assert "x\ufffdy and 😀" in sinks[name], name


def test_a_lone_surrogate_from_the_user_is_made_valid_too(tmp_path: Path) -> None:
    events = [make_event("user_message", text="hi \ud83d")]
    assert events[0]["text"] == "hi \ufffd"
    every_sink(events, tmp_path)


HUGE = "9" * 400


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ('{"event": "step_started", "step_number": ' + HUGE + "}", "step"),
        (
            '{"event": "tool_result", "tool_name": "t", "call_id": "c", "result": "r", '
            '"duration_ms": ' + HUGE + "}",
            "duration_ms",
        ),
        ('{"event": "tool_result", "tool_name": "t", "call_id": "c", "duration_ms": NaN}', None),
        ('{"event": "content_delta", "delta": "", "usage": {"prompt_tokens": ' + HUGE + "}}", ""),
    ],
)
def test_a_400_digit_number_where_a_measure_belongs_is_dropped_and_noted(
    tmp_path: Path, frame: str, field: str | None
) -> None:
    events = read(
        '{"event": "start", ' + RUN + "}",
        '{"event": "tool_call", "tool_name": "t", "call_id": "c", "arguments": {}}',
        frame,
        '{"event": "content_delta", "delta": "the answer"}',
        '{"event": "complete", "status": "completed", "content": null, "steps": ' + HUGE + ", "
        '"usage": {"prompt_tokens": ' + HUGE + ', "completion_tokens": 5, "total_tokens": 1e999},'
        ' "tool_calls": [{"tool_name": "t", "step": ' + HUGE + ', "duration_ms": -1}]}',
    )
    odd, complete = events[3], events[-1]
    if field == "":
        assert odd["usage"] == {"prompt_tokens": None} and odd["dropped"] == {
            "usage.prompt_tokens": HUGE
        }
    elif field is not None:
        assert odd[field] is None and odd["dropped"] == {field: HUGE}  # type: ignore[literal-required]
    else:
        assert odd["duration_ms"] is None and odd["dropped"] == {"duration_ms": "NaN"}
    usage = {"prompt_tokens": None, "completion_tokens": 5, "total_tokens": None}
    assert complete["usage"] == usage
    assert complete["dropped"] == {"usage.prompt_tokens": HUGE, "usage.total_tokens": "1e999"}
    assert complete["raw"]["steps"] == HUGE  # data keeps the exact digits as text
    transcript = Transcript(events)
    [run] = transcript.runs.to_pandas().to_dict("records")
    assert run["completion_tokens"] == 5
    sinks = every_sink(events, tmp_path)
    assert "the answer" in sinks["markdown"] and "the answer" in sinks["html"]


def test_a_huge_timeout_on_an_approval_is_data_not_a_crash(tmp_path: Path) -> None:
    events = read(
        '{"event": "start", ' + RUN + "}",
        '{"event": "tool_call", "tool_name": "refund", "call_id": "c", "arguments": {}}',
        '{"event": "approval_requested", "tool_name": "refund", "message": "ok?", '
        '"timeout_seconds": ' + HUGE + "}",
    )
    turn = Conversation(events).turns[0]
    assert turn.approvals[0].timeout_s is None
    every_sink(events, tmp_path)


def test_a_400_digit_count_over_http_keeps_the_run_and_its_text(tmp_path: Path) -> None:
    body = "".join(
        f"data: {frame}\n\n"
        for frame in (
            '{"event": "start", ' + RUN + "}",
            '{"event": "step_started", "step": ' + HUGE + "}",
            '{"event": "tool_call", "step": 1, "tool_name": "t", "arguments": {"n": NaN}}',
            '{"event": "tool_result", "step": 1, "tool_name": "t", "result_preview": "ok", '
            '"duration_ms": ' + HUGE + "}",
            '{"event": "content_delta", "delta": "kept text"}',
            '{"event": "complete", ' + RUN + ', "status": "completed", "content": "kept text", '
            '"usage": {"prompt_tokens": ' + HUGE + ', "completion_tokens": 2, "total_tokens": 3}}',
        )
    )
    with scripted_peer(lambda *_: Reply(body=body, content_type="text/event-stream")) as peer:
        client = PowabaseClient(peer.url, "key")
        chat = ChatSession(client, "agt", fetch_usage=False)
        try:
            handle = chat.send("hello")
            handle.wait(10)
            assert handle.error is None and handle.status == "completed"
            assert handle.text == "kept text"
            transcript = Transcript(chat.events)
        finally:
            chat.close()
            client.close()
    [run] = transcript.runs.to_polars().to_dicts()
    assert run["prompt_tokens"] is None and run["completion_tokens"] == 2
    [call] = transcript.tool_calls.to_arrow().to_pylist()
    assert json.loads(call["arguments"]) == {"n": "NaN"}  # data keeps NaN as its text
    every_sink(transcript.events, tmp_path)


def test_nan_in_tool_arguments_is_kept_as_text_and_saves(tmp_path: Path) -> None:
    events = read(
        '{"event": "start", ' + RUN + "}",
        '{"event": "tool_call", "tool_name": "t", "call_id": "c", '
        '"arguments": {"x": NaN, "y": -Infinity, "z": 1e999, "big": ' + HUGE + "}}",
        '{"event": "tool_result", "tool_name": "t", "call_id": "c", "result": [NaN]}',
        '{"event": "complete", "status": "completed", "content": "done"}',
    )
    assert events[2]["arguments"] == {"x": "NaN", "y": "-Infinity", "z": "1e999", "big": HUGE}
    assert events[3]["result"] == '["NaN"]'
    sinks = every_sink(events, tmp_path)
    assert HUGE in sinks["saved"]


def test_a_tool_name_that_is_an_object_becomes_its_json_text(tmp_path: Path) -> None:
    events = read(
        '{"event": "start", ' + RUN + "}",
        '{"event": "tool_call", "tool_name": ["streamed"], "call_id": {"id": 1}}',
        '{"event": "complete", "status": "completed", "content": "done", '
        '"tool_calls": [{"tool_name": {"a": 1}, "call_id": 7, "arguments": {}, "result": "r"}]}',
    )
    assert events[2]["tool_name"] == '["streamed"]' and events[2]["call_id"] == '{"id":1}'
    turn = Conversation(events).turns[0]
    assert [c.tool_name for c in turn.tool_calls] == ['["streamed"]', '{"a":1}']
    sinks = every_sink(events, tmp_path)
    assert '{"a":1}' in sinks["markdown"]
    assert "{&quot;a&quot;:1}" in sinks["html"] and "{&quot;a&quot;:1}" in sinks["static"]


def test_arguments_nested_990_deep_reach_the_kernel_packer_as_text(tmp_path: Path) -> None:
    deep = "[" * 990 + "]" * 990
    frames = (
        '{"event": "start", ' + RUN + "}",
        '{"event": "tool_call", "tool_name": "t", "call_id": "c", "arguments": {"a": '
        + deep
        + "}}",
        '{"event": "complete", "status": "completed", "content": "done"}',
    )
    got: list[list[CanonicalEvent]] = []
    reader = threading.Thread(target=lambda: got.append(read(*frames)))  # as a run's thread
    reader.start()
    reader.join()
    [events] = got
    arguments = events[2]["arguments"]
    depth, value = 1, arguments
    while isinstance(value, (dict, list)) and value:
        value = value["a"] if isinstance(value, dict) else value[0]
        depth += 1
    assert isinstance(value, str) and value.count("[") + depth - 2 == 990  # all of it kept
    every_sink(events, tmp_path)


def test_frames_past_what_json_can_parse_stay_as_malformed_text(tmp_path: Path) -> None:
    events = read('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert events[1]["event"] == "malformed" and len(events[1]["raw"]) == 200_007
    every_sink(events, tmp_path)


def test_after_a_loaded_session_the_panel_says_what_the_history_holds(tmp_path: Path) -> None:
    # The history note sits before its turn and says whether tool calls were restored;
    # the sync must re-send it when that turn gains its first tool call.
    history = make_event(
        "history",
        text="earlier question",
        run_id="run_0",
        session_id="sess_1",
        arguments={"role": "user", "timestamp": "2026-11-24T08:00:00Z"},
    )
    normaliser = EventNormaliser()
    stored = [
        normaliser.normalise(ServerSentEvent(data=f))
        for f in (
            '{"event": "tool_call", "run_id": "run_0", "tool_name": "t", "call_id": "c"}',
            '{"event": "tool_result", "run_id": "run_0", "tool_name": "t", "call_id": "c"}',
            '{"event": "complete", "run_id": "run_0", "status": "completed", "content": "a"}',
        )
    ]
    events = [history, *stored, make_event("session_loaded", session_id="sess_1")]
    note = shown(events)[0]
    assert note["kind"] == "history-note" and note["tools"] is True
    every_sink(events, tmp_path)  # patches after each event equal the full projection
