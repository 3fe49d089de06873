"""Transcript views, save/load and dataframe conversions, on events from real wire frames."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from powawidget.outputs.rows import MESSAGE_COLUMNS, ROW_COLUMNS, RUN_COLUMNS, TOOL_CALL_COLUMNS
from powawidget.outputs.tables import Table
from powawidget.outputs.transcript import Transcript
from powawidget.wire.events import EVENT_KEYS, format_timestamp, make_event, normalise_stream
from powawidget.wire.sse import iter_events

T0 = 1_795_000_000.0
RUN, SESSION = "run_0123456789ab", "sess_0123456789ab"
SCALARS = (str, int, float, bool, type(None))


def stream(*payloads: dict | str, times: Iterable[float]) -> list[dict]:
    """Canonical events from wire bytes; `times` = seconds after T0 each frame arrives."""
    body = b"".join(
        b"data: " + (p if isinstance(p, str) else json.dumps(p)).encode() + b"\n\n"
        for p in payloads
    )
    moments = iter(times)
    return list(normalise_stream(iter_events([body]), clock=lambda: T0 + next(moments)))


def user(text: str, at: float = 0.0) -> dict:
    """A user_message sent `at` seconds after T0."""
    return make_event("user_message", text=text, received_at=format_timestamp(T0 + at))


def server_run() -> list[dict]:
    """A server-dialect run with two concurrent tools; the terminal chunk rewrites the text."""
    frames = [
        {"event": "start", "run_id": RUN, "session_id": SESSION},
        {"event": "step_started", "step": 1},
        {"event": "tool_call", "step": 1, "tool_name": "search_catalogue", "call_id": "c1",
         "arguments": {"query": "lamp", "limit": 3}},
        {"event": "tool_call", "step": 1, "tool_name": "get_policy", "call_id": "c2",
         "arguments": {"topic": "returns"}},
        {"event": "tool_result", "step": 1, "tool_name": "get_policy", "call_id": "c2",
         "result_preview": "30 days", "duration_ms": 12.5},
        {"event": "tool_result", "step": 1, "tool_name": "search_catalogue", "call_id": "c1",
         "result_preview": "[{\"sku\": \"L-1\"}]"},
        {"event": "step_completed", "step": 1, "finish_reason": "tool_calls"},
        {"event": "step_started", "step": 2},
        {"event": "content_delta", "step": 2, "delta": "The lamp "},
        {"event": "content_delta", "step": 2, "delta": "ships"},
        {"event": "chunk", "content": "The lamp ships today."},
        {"event": "complete", "run_id": RUN, "session_id": SESSION,
         "content": "The lamp ships today.", "status": "completed", "steps": 2,
         "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140}},
    ]  # fmt: skip
    server = [{**f, "type": f["event"], "seq": i, "ts": "x"} for i, f in enumerate(frames)]
    times = [0.2, 0.3, 0.4, 0.45, 0.6, 0.9, 1.0, 1.1, 1.5, 1.6, 1.9, 2.0]
    return [user("Is the lamp in stock?"), *stream(*server, times=times)]


def documented_run() -> list[dict]:
    """A documented-dialect run (step_number, result, chunk deltas, error with a code)."""
    frames = [
        {"event": "start", "session_id": "sess_docsdocsdocs", "run_id": "run_docsdocsdocs"},
        {"event": "step_started", "step_number": 1},
        {"event": "tool_call", "tool_name": "lookup", "arguments": {"id": 7}},
        {"event": "tool_result", "result": {"found": True}},
        {"event": "chunk", "content": "Found "},
        {"event": "chunk", "content": "it."},
        {"event": "step_completed", "step_number": 1},
        {"event": "error", "message": "Context too long", "code": "context_length_exceeded"},
    ]
    return [user("Find 7", at=10.0), *stream(*frames, times=[10.1 + i / 10 for i in range(8)])]


@pytest.fixture
def transcript() -> Transcript:
    """Both dialects in one conversation."""
    return Transcript([*server_run(), *documented_run()])


def test_rows_have_the_same_columns_in_the_same_order_whatever_the_dialect() -> None:
    server_rows, documented_rows = Transcript(server_run()).rows, Transcript(documented_run()).rows
    assert server_rows.columns == documented_rows.columns == list(ROW_COLUMNS)
    for row in [*server_rows, *documented_rows]:
        assert list(row) == list(ROW_COLUMNS)


def test_every_view_is_flat_nested_values_are_json_strings(transcript: Transcript) -> None:
    for view in (transcript.rows, transcript.messages, transcript.runs, transcript.tool_calls):
        for row in view:
            assert list(row) == view.columns
            assert all(isinstance(value, SCALARS) for value in row.values()), row
    call = transcript.rows[3]
    assert call["event"] == "tool_call"
    assert json.loads(call["arguments"]) == {"query": "lamp", "limit": 3}
    documented_result = next(r for r in transcript.rows if r["result"] == '{"found": true}')
    assert documented_result["event"] == "tool_result"


def test_rows_carry_ids_turns_roles_tokens_and_elapsed_time(transcript: Transcript) -> None:
    rows = transcript.rows
    assert len(rows) == len(transcript.events) == 22
    first, complete = rows[0], rows[12]
    assert (first["event"], first["role"], first["text"]) == (
        "user_message",
        "user",
        "Is the lamp in stock?",
    )
    assert (first["run_id"], first["session_id"], first["seq"]) == (RUN, SESSION, -1)
    assert (complete["event"], complete["status"], complete["total_tokens"]) == (
        "complete",
        "completed",
        140,
    )
    assert complete["elapsed_ms"] == pytest.approx(2000.0)
    assert complete["received_at"] == "2026-11-18T11:06:42.000Z"
    assert {r["turn"] for r in rows[:13]} == {0} and {r["turn"] for r in rows[13:]} == {1}
    error = rows[-1]
    assert (error["error_code"], error["error_message"], error["run_id"]) == (
        "context_length_exceeded",
        "Context too long",
        "run_docsdocsdocs",
    )
    assert [r["role"] for r in rows[3:6]] == ["tool", "tool", "tool"]


def test_runs_measure_timing_tokens_and_outcome(transcript: Transcript) -> None:
    first, second = transcript.runs
    assert first == {
        "session_id": SESSION,
        "run_id": RUN,
        "turn": 0,
        "question": "Is the lamp in stock?",
        "answer": "The lamp ships today.",
        "status": "completed",
        "started_at": "2026-11-18T11:06:40.000Z",
        "ended_at": "2026-11-18T11:06:42.000Z",
        "time_to_first_token_ms": 1500.0,
        "duration_ms": 2000.0,
        "steps": 2,
        "tool_calls": 2,
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "total_tokens": 140,
        "tokens_per_s": 20.0,
        "error_code": None,
        "error_message": None,
        "source": "stream",
        "agent": None,  # an agent's run: no orchestration, nobody delegated
        "parent_run_id": None,
        "depth": 0,
        "server_answer": None,
    }
    assert (second["status"], second["answer"], second["error_code"]) == (
        "failed",
        "Found it.",
        "context_length_exceeded",
    )
    assert second["duration_ms"] == pytest.approx(800.0)


def test_tool_calls_use_the_server_duration_else_the_measured_one(transcript: Transcript) -> None:
    calls = transcript.tool_calls
    assert [(c["tool_name"], c["status"], c["step"]) for c in calls] == [
        ("search_catalogue", "done", 1),
        ("get_policy", "done", 1),
        ("lookup", "done", 1),
    ]
    assert calls[1]["duration_ms"] == 12.5  # sent by the server
    assert calls[0]["duration_ms"] == pytest.approx(500.0)  # measured: 0.4 s → 0.9 s
    assert json.loads(calls[0]["arguments"]) == {"query": "lamp", "limit": 3}
    assert calls[0]["result"] == '[{"sku": "L-1"}]'


def test_messages_read_question_tools_answer(transcript: Transcript) -> None:
    messages = transcript.messages
    assert [(m["turn"], m["role"], m["tool_name"]) for m in messages] == [
        (0, "user", None),
        (0, "tool", "search_catalogue"),
        (0, "tool", "get_policy"),
        (0, "assistant", None),
        (1, "user", None),
        (1, "tool", "lookup"),
        (1, "assistant", None),
    ]
    assert messages[2]["text"] == "30 days"
    assert (messages[3]["text"], messages[3]["status"]) == ("The lamp ships today.", "completed")
    assert (messages[-1]["status"], messages[-1]["error_message"]) == ("failed", "Context too long")


def test_history_turns_say_where_they_came_from() -> None:
    meta = {"role": "user", "timestamp": "2026-11-18T10:00:00Z"}
    events = [
        make_event("history", text="Q", arguments=meta, run_id="run_1"),
        make_event("history", text="A", arguments={**meta, "role": "assistant"}, run_id="run_1"),
    ]
    t = Transcript(events)
    assert [(r["question"], r["answer"], r["source"], r["tool_calls"]) for r in t.runs] == [
        ("Q", "A", "history", 0)
    ]
    assert [r["role"] for r in t.rows] == ["user", "assistant"]
    assert [m["source"] for m in t.messages] == ["history", "history"]


def test_pandas_takes_a_view_as_it_is(transcript: Transcript) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(transcript.rows)
    assert list(frame.columns) == list(ROW_COLUMNS)
    assert frame["total_tokens"].max() == 140


def test_dataframe_conversions_keep_columns_and_types(transcript: Transcript) -> None:
    frame = transcript.runs.to_pandas()
    assert list(frame.columns) == list(RUN_COLUMNS)
    assert frame.loc[0, "tokens_per_s"] == 20.0

    polars = transcript.tool_calls.to_polars()
    assert polars.columns == list(TOOL_CALL_COLUMNS)
    assert polars["duration_ms"].to_list()[1] == 12.5

    arrow = transcript.rows.to_arrow()
    assert arrow.column_names == list(ROW_COLUMNS)
    assert arrow.num_rows == 22
    assert str(arrow.schema.field("arguments").type) == "string"
    assert str(arrow.schema.field("elapsed_ms").type) == "double"


def test_empty_views_still_have_their_columns() -> None:
    empty = Transcript()
    assert list(empty.messages.to_pandas().columns) == list(MESSAGE_COLUMNS)
    assert empty.runs.to_polars().columns == list(RUN_COLUMNS)
    assert empty.tool_calls.to_arrow().column_names == list(TOOL_CALL_COLUMNS)


@pytest.mark.parametrize(
    ("method", "module", "advice"),
    [("to_pandas", "pandas", "pip install pandas"), ("to_polars", "polars", "pip install polars"),
     ("to_arrow", "pyarrow", "pip install pyarrow")],
)  # fmt: skip
def test_a_missing_dataframe_library_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, method: str, module: str, advice: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError) as info:
        getattr(Table([{"a": 1}], ["a"]), method)()
    assert advice in str(info.value)
    assert 'pip install "powawidget[dataframes]"' in str(info.value)


def test_table_repr_is_short_and_html_preview_is_escaped() -> None:
    rows = [{"text": "<script>alert(1)</script>" * 100, "n": i} for i in range(1000)]
    table = Table(rows, ["text", "n"])
    assert repr(table) == "Table(1000 rows × 2 columns: text, n)"
    preview = table._repr_html_()
    assert "<script>" not in preview and "&lt;script&gt;" in preview
    assert "990 more rows" in preview and len(preview) < 5000
    assert table.column("n")[:3] == [0, 1, 2]
    head = table[:3]
    assert isinstance(head, Table) and head.columns == ["text", "n"] and len(head) == 3
    with pytest.raises(KeyError, match="columns are: text, n"):
        table.column("missing")


def test_save_then_load_gives_back_the_same_events(tmp_path: Path, transcript: Transcript) -> None:
    transcript.extend(
        [
            *stream("not json at all", {"event": "odd", "text": "é\u2028😀\r\n"}, times=[20, 21]),
            make_event("new_session"),
            make_event("stopped"),
        ]
    )
    path = transcript.save(tmp_path / "chat.jsonl")
    loaded = Transcript.load(path)
    assert loaded.events == transcript.events
    assert loaded.rows == transcript.rows and loaded.runs == transcript.runs
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(transcript.events)
    assert Transcript.load(str(path)).events == transcript.events
    assert Transcript.load(transcript.events).events == transcript.events
    for line in path.read_text(encoding="utf-8").splitlines():
        assert list(json.loads(line)) == list(EVENT_KEYS)


def test_load_fills_missing_keys_of_hand_written_events(tmp_path: Path) -> None:
    path = tmp_path / "hand.jsonl"
    path.write_text('{"event": "user_message", "text": "hi"}\n\n{"event": "chunk", "text": "yo"}\n')
    loaded = Transcript.load(path)
    assert [list(e) for e in loaded.events] == [list(EVENT_KEYS)] * 2
    assert loaded.conversation.final_text() == "yo"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"event": "chunk"}\n{"event": "chunk"\n', "line 2: not valid JSON"),
        ('{"event": "chunk"}\n\n[1, 2]\n', "line 3: expected a canonical event"),
        ('{"text": "no name"}\n', "line 1: expected a canonical event"),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        Transcript.load(path)
    assert "bad.jsonl" in str(info.value)


def test_save_keeps_values_that_are_not_json_as_text(tmp_path: Path) -> None:
    # make_event puts client values through the normaliser's rules; a dict built by hand
    # is made well-formed by save() itself (docs/protocol.md, "Odd values").
    by_hand = {**make_event("odd"), "arguments": {"n": float("nan")}, "text": "x\ud83dy"}
    t = Transcript([make_event("odd", arguments={1, 2}), by_hand])
    t.save(tmp_path / "x.jsonl")
    loaded = Transcript.load(tmp_path / "x.jsonl")
    assert [e["arguments"] for e in loaded.events] == ["{1, 2}", {"n": "NaN"}]
    assert loaded.events[1]["text"] == "x\ufffdy"


def test_transcript_grows_with_append_and_repr_stays_short() -> None:
    t = Transcript()
    t.append(user("hello"))
    t.extend(server_run()[1:])
    assert len(t) == 13 and list(t) == t.events
    assert repr(t) == "Transcript(13 events, 1 turns)"
    assert t.conversation.final_text() == "The lamp ships today."


def test_slim_events_without_raw_or_empty_keys_give_the_same_answer_and_columns() -> None:
    events = server_run()
    slim = [{k: v for k, v in e.items() if v is not None and k != "raw"} for e in events]
    full, lean = Transcript(events), Transcript(slim)
    assert lean.rows.columns == full.rows.columns
    assert [r["answer"] for r in lean.runs] == [r["answer"] for r in full.runs]
    assert lean.tool_calls == full.tool_calls


NAMES = [
    "user_message", "start", "step_started", "chunk", "content_delta", "reasoning_delta",
    "reasoning", "tool_call", "tool_result", "approval_requested", "approval_resolved",
    "step_completed", "complete", "error", "client_error", "stopped", "new_session", "history",
    "malformed", "model_fallback",
]  # fmt: skip


def _any_events() -> Any:
    """Strategy: events with known names and fields of any JSON type (hand-edited files)."""
    from hypothesis import strategies as st

    leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    value = st.recursive(
        leaf,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )
    fields = st.fixed_dictionaries(
        {"event": st.sampled_from(NAMES)},
        optional={key: value for key in EVENT_KEYS if key != "event"},
    )
    return st.lists(fields, max_size=25)  # fmt: skip


def test_any_sequence_of_events_folds_views_and_exports_without_raising() -> None:
    from hypothesis import given, settings

    @settings(max_examples=60, deadline=None)
    @given(_any_events())
    def check(events: list[dict]) -> None:
        t = Transcript(events)
        for view in (t.rows, t.messages, t.runs, t.tool_calls):
            for row in view:
                assert list(row) == view.columns
                assert all(isinstance(v, SCALARS) for v in row.values()), row
        assert isinstance(t.to_markdown(), str) and isinstance(t.to_html(), str)

    check()


def test_save_replaces_the_file_whole_and_leaves_no_temp_file(
    tmp_path: Path, transcript: Transcript
) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text("old contents\n")
    path.chmod(0o640)
    transcript.save(path)
    assert Transcript.load(path).events == transcript.events
    assert path.stat().st_mode & 0o777 == 0o640  # an existing file keeps its permissions
    assert [p.name for p in tmp_path.iterdir()] == ["chat.jsonl"]


def test_a_save_that_fails_midway_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    Transcript([make_event("user_message", text="kept")]).save(path)
    before = path.read_bytes()

    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no text")

    odd = {**make_event("odd"), "arguments": Unprintable()}  # no JSON, no text at all
    with pytest.raises(ValueError, match="not JSON"):
        Transcript([make_event("user_message", text="new"), odd]).save(path)
    with pytest.raises(IsADirectoryError):
        Transcript([make_event("user_message")]).save(tmp_path)  # cannot replace a folder
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["chat.jsonl"]


def test_a_cut_short_last_line_is_skipped_with_a_warning(
    tmp_path: Path, transcript: Transcript
) -> None:
    path = transcript.save(tmp_path / "chat.jsonl")
    whole = path.read_text(encoding="utf-8")
    path.write_text(whole + whole.splitlines()[0][:25], encoding="utf-8")  # a write cut off
    with pytest.warns(UserWarning, match=rf"line {len(transcript) + 1}: skipped an unfinished"):
        loaded = Transcript.load(path)
    assert loaded.events == transcript.events


def test_a_bad_line_that_is_not_the_last_still_raises(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text('{"event": "chunk"}\n{"event": "chu\n{"event": "chunk"}')
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        Transcript.load(path)
    path.write_text('{"event": "chunk"}\n{"event": "chu\n')  # cut, but the newline was written
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        Transcript.load(path)


def test_integer_columns_stay_integers_in_pandas_even_with_gaps() -> None:
    table = Table(
        [{"tokens": 897, "ms": 1.5, "ok": True}, {"tokens": None, "ms": None, "ok": False}],
        ["tokens", "ms", "ok"],
    )
    frame = table.to_pandas()
    assert str(frame["tokens"].dtype) == "Int64"
    assert frame["tokens"].to_string(index=False).split() == ["897", "<NA>"]
    assert str(frame["ms"].dtype) == "float64"
    assert str(frame["ok"].dtype) == "bool"
