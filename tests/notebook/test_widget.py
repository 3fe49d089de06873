"""ChatWidget as a notebook user drives it, against the real local agent server over HTTP.

No kernel here: the widget's comm traffic (state updates and custom messages) is captured
at the comm boundary (`_send`), and front-end messages are delivered through the comm
handler, exactly as the kernel would deliver them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from panel_patches import apply_ops

from powawidget.model.view import entries
from powawidget.notebook.widget import ChatWidget
from powawidget.session.run import RunHandle, RunInProgressError
from powawidget.wire.errors import (
    AuthenticationError,
    InsufficientCreditsError,
    NotFoundError,
    PowabaseError,
    RunFailedError,
    StreamError,
)

# ---- helpers ------------------------------------------------------------------------------


class CommLog:
    """Everything a widget sent over its comm (state updates and custom messages)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.bytes = 0
        self._lock = threading.Lock()

    def __call__(self, msg: dict[str, Any], buffers: Any = None) -> None:
        text = json.dumps(msg)  # what the kernel serialises: must never fail
        with self._lock:
            self.bytes += len(text)
            self.messages.append(json.loads(text))

    def custom(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The custom messages (optionally of one `type`), in order."""
        with self._lock:
            return [
                m["content"]
                for m in self.messages
                if m.get("method") == "custom" and kind in (None, m["content"].get("type"))
            ]

    def panel_entries(self) -> list[dict[str, Any]]:
        """What a view that applied every message in order holds."""
        shown: list[dict[str, Any]] = []
        seq = 0
        for message in self.custom():
            if message["type"] == "snapshot":
                shown, seq = message["entries"], message["seq"]
            elif message["type"] == "patch" and message["seq"] > seq:
                assert message["seq"] == seq + 1, "a patch was skipped"
                apply_ops(shown, message["ops"])
                seq = message["seq"]
        return shown

    def states(self, key: str) -> list[Any]:
        """Every value of the synced trait `key` sent, in order."""
        with self._lock:
            return [
                m["state"][key]
                for m in self.messages
                if m.get("method") == "update" and key in m["state"]
            ]


def capture(widget: ChatWidget) -> CommLog:
    """Capture the widget's comm traffic at the comm boundary."""
    log = CommLog()
    widget._send = log  # type: ignore[method-assign]
    return log


def from_panel(widget: ChatWidget, content: dict[str, Any]) -> None:
    """Deliver a custom message as the front end does (through the comm handler)."""
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def chat(local_server: Any) -> Iterator[Callable[..., tuple[ChatWidget, CommLog]]]:
    """Make ChatWidgets on the local server, their comm captured; closed afterwards."""
    made: list[ChatWidget] = []

    def make(agent_id: str | None = "agt_demo", **kwargs: Any) -> tuple[ChatWidget, CommLog]:
        widget = ChatWidget(agent_id, local_server.base_url, local_server.api_key, **kwargs)
        made.append(widget)
        return widget, capture(widget)

    yield make
    for widget in made:
        widget.close()


def saved(widget: ChatWidget) -> list[dict[str, Any]]:
    """The entries saved with the notebook, oldest first (`history` → each model's previous)."""
    found, model = [], widget.history
    while model is not None:
        found.append(model.entry)
        model = model.previous
    return found[::-1]


# ---- construction -------------------------------------------------------------------------


def test_unknown_keyword_arguments_are_a_type_error(local_server: Any) -> None:
    with pytest.raises(TypeError):
        ChatWidget("agt_demo", local_server.base_url, local_server.api_key, colour="red")
    with pytest.raises(TypeError):
        ChatWidget("agt_demo", local_server.base_url, local_server.api_key, "sess_x")


def test_idle_timeout_is_the_widgets_client_setting(local_server: Any) -> None:
    # The notebook's advice for a silent agent says "Raise idle_timeout=".
    widget = ChatWidget("agt_demo", local_server.base_url, local_server.api_key, idle_timeout=7.5)
    try:
        assert widget._chat.client.idle_timeout == 7.5
    finally:
        widget.close()


def _open_widgets() -> int:
    """How many widgets still have an open comm (what a failed constructor must not leak)."""
    from ipywidgets import Widget

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the registry, not its accessor
        return len(Widget.widgets)


def test_a_failed_constructor_leaves_no_widget_or_client_behind(
    local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from powawidget.wire.client import PowabaseClient

    closed: list[PowabaseClient] = []
    real_close = PowabaseClient.close

    def close(self: PowabaseClient) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(PowabaseClient, "close", close)
    before = _open_widgets()
    url, key = local_server.base_url, local_server.api_key
    with pytest.raises(NotFoundError):
        ChatWidget("agt_demo", url, key, session_id="sess_000000000000")
    assert _open_widgets() == before and len(closed) == 1
    with pytest.raises(AuthenticationError):  # list_agents fails: no agent_id given
        ChatWidget(None, url, "pk_wrong_key")
    assert _open_widgets() == before and len(closed) == 2
    with pytest.raises(ValueError, match="theme"):
        ChatWidget("agt_demo", url, key, theme="neon")
    with pytest.raises(ValueError, match="speed"):
        ChatWidget.replay([], speed=-1)
    assert _open_widgets() == before and len(closed) == 2  # refused before any client


def test_no_agent_id_picks_the_first_listed_agent(chat: Any) -> None:
    widget, _ = chat(None)
    assert widget.agent_id == "agt_demo"
    assert widget.agent_name and widget.agent_name != "agt_demo"
    assert widget.banner == ""  # connected where we were told to: no local-server notice


def test_with_no_url_or_key_anywhere_it_starts_the_local_server_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("POWABASE_BASE_URL", "POWABASE_API_KEY", "POWABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    widget = ChatWidget()
    try:
        assert widget.agent_id == "agt_demo"
        assert "Not connected to Powabase" in widget.banner
        assert "POWABASE_BASE_URL" in widget.banner and "POWABASE_API_KEY" in widget.banner
        assert widget.ask("What is the refund policy?", timeout=60)
    finally:
        widget.close()


def test_a_ready_client_can_be_passed_and_stays_open(client: Any) -> None:
    widget = ChatWidget("agt_demo", client=client)
    widget.close()
    assert client.list_agents()  # the widget did not close a client it does not own
    with pytest.raises(TypeError, match="either client"):
        ChatWidget("agt_demo", "http://127.0.0.1:1", client=client)


def test_importing_under_ipykernel_7_0_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata
    import sys
    import types

    from powawidget.notebook.kernel import warn_if_broken_ipykernel

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "7.0.1")
    with pytest.warns(RuntimeWarning, match=r"ipykernel>=7\.1"):
        warn_if_broken_ipykernel()
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "7.1.0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_broken_ipykernel()


def test_the_agent_name_is_looked_up_for_the_panel_header(chat: Any, client: Any) -> None:
    widget, _ = chat("agt_approval")
    wait_until(lambda: widget.agent_name != "agt_approval", 10, "the agent's name")
    assert widget.agent_name == client.get_agent("agt_approval")["name"]


def test_repr_is_cheap_and_names_the_state(chat: Any) -> None:
    widget, _ = chat()
    text = repr(widget)
    assert "agt_demo" in text and "idle" in text


# ---- runs -----------------------------------------------------------------------------------


def test_send_returns_a_handle_and_the_run_streams_into_the_panel(chat: Any) -> None:
    widget, comm = chat()
    handle = widget.send("What is the refund policy?")
    assert isinstance(handle, RunHandle)
    assert handle.wait(30)
    assert handle.done and handle.error is None and handle.status == "completed"
    complete = [e for e in handle.events if e["event"] == "complete"]
    assert len(complete) == 1 and handle.text == complete[0]["text"] and handle.text
    assert handle.run_id and handle.run_id.startswith("run_")
    # The panel drew exactly the turns Python folded, from numbered patches.
    assert comm.panel_entries() == json.loads(json.dumps(entries(widget._chat.conversation)))
    seqs = [m["seq"] for m in comm.custom("patch")]
    assert seqs == list(range(1, len(seqs) + 1))
    # Small state in traits: session, status; the finished turn saved as its own model,
    # which `history` references (tests/notebook/test_saved.py).
    assert widget.status == "idle" and widget.error == ""
    assert widget.session_id == handle.session_id and widget.session_id.startswith("sess_")
    assert "connecting" in comm.states("status") and "streaming" in comm.states("status")
    assert [e["userText"] for e in saved(widget)] == ["What is the refund policy?"]
    assert len(comm.states("history")) == 1  # a reference, set once per new entry


def test_ask_blocks_and_returns_the_authoritative_final_text(chat: Any) -> None:
    widget, _ = chat()
    answer = widget.ask("What is the refund policy?", timeout=30)
    assert answer and answer == widget.last_run.text
    assert widget.runs[-1]["answer"] == answer


def test_ask_async_awaits_the_answer_without_blocking_the_event_loop(chat: Any) -> None:
    import asyncio

    widget, _ = chat()
    answer = asyncio.run(widget.ask_async("What is the refund policy?", timeout=30))
    assert answer and answer == widget.last_run.text


def test_a_second_send_while_streaming_is_refused_clearly(chat: Any) -> None:
    widget, _ = chat("agt_long")
    handle = widget.send("Tell me a long story")
    with pytest.raises(RunInProgressError, match="still streaming"):
        widget.send("and another")
    handle.stop()
    assert handle.wait(10)


def test_stop_ends_a_long_run_promptly_and_keeps_what_arrived(chat: Any) -> None:
    widget, comm = chat("agt_long")
    handle = widget.send("Tell me a long story")
    wait_until(lambda: handle.text, what="the first words of the long answer")
    started = time.monotonic()
    widget.stop()
    assert handle.wait(10), "the run did not end after stop()"
    assert time.monotonic() - started < 5.0
    assert handle.status == "stopped" and handle.error is None
    assert handle.events[-1]["event"] == "stopped"
    assert handle.text  # what arrived stays
    assert widget.status == "stopped"
    assert comm.panel_entries()[-1]["status"] == "stopped"


def test_the_panel_stop_button_stops_the_run(chat: Any) -> None:
    widget, _ = chat("agt_long")
    handle = widget.send("Tell me a long story")
    wait_until(lambda: handle.text, what="streamed text")
    from_panel(widget, {"type": "stop"})
    assert handle.wait(10) and handle.status == "stopped"


def test_stop_then_send_at_once_from_python_and_from_the_panel(chat: Any) -> None:
    widget, _ = chat("agt_long")
    first = widget.send("Tell me a long story")
    wait_until(lambda: first.text, what="streamed text")
    widget.stop()
    second = widget.send("next")  # waits for the stopped run instead of refusing
    assert first.status == "stopped" and widget.last_run is second
    wait_until(lambda: second.text, what="the next run's text")
    from_panel(widget, {"type": "stop"})
    from_panel(widget, {"type": "send", "text": "and the next"})
    assert widget.error == "" and second.status == "stopped"
    third = widget.last_run
    assert third is not second and third is not None
    third.stop()
    widget.new_session()
    assert third.done and widget.session_id is None


def test_the_panel_retry_button_sends_the_failed_message_again(chat: Any) -> None:
    widget, _ = chat("fault_error_event")
    widget.send("please work").wait(30)
    from_panel(widget, {"type": "retry"})
    assert widget.wait(30)
    asked = [e["text"] for e in widget.events if e["event"] == "user_message"]
    assert asked == ["please work", "please work"]


def test_a_panel_send_while_streaming_is_refused_in_the_error_trait(chat: Any) -> None:
    widget, _ = chat("agt_long")
    handle = widget.send("Tell me a long story")
    from_panel(widget, {"type": "send", "text": "and another"})
    assert "still streaming" in widget.error
    assert [e["text"] for e in widget.events if e["event"] == "user_message"] == [
        "Tell me a long story"
    ]
    handle.stop()
    assert handle.wait(10)


def test_the_session_continues_until_new_session(chat: Any, client: Any) -> None:
    widget, _ = chat()
    widget.ask("What is the refund policy?", timeout=30)
    first = widget.session_id
    widget.ask("And for damaged items?", timeout=30)
    assert widget.session_id == first
    roles = [m["role"] for m in client.session_messages(first)]
    assert roles == ["user", "assistant", "user", "assistant"]
    widget.new_session()
    assert widget.session_id is None
    assert widget.events[-1]["event"] == "new_session"
    widget.ask("Hello again", timeout=30)
    assert widget.session_id and widget.session_id != first


def test_messages_from_the_panel_send_and_start_new_sessions(chat: Any) -> None:
    widget, _ = chat()
    from_panel(widget, {"type": "send", "text": "What is the refund policy?"})
    assert widget.last_run is not None and widget.wait(30)
    assert widget.last_run.text
    from_panel(widget, {"type": "new_session"})
    assert widget.session_id is None


def test_one_thread_per_run_and_none_left_after_100_runs(chat: Any) -> None:
    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("powawidget")]

    widget, _ = chat()
    wait_until(lambda: not ours(), 10, "background threads of the setup to end")
    for number in range(100):
        handle = widget.send(f"What is 2 + {number}?")
        assert handle.wait(30), f"run {number} did not finish"
        runs_alive = [t for t in ours() if t.name.startswith("powawidget-run")]
        assert not runs_alive, f"run thread still alive after wait(): {runs_alive}"
        assert handle.error is None, handle.error
    assert len(widget.runs) == 100
    widget.close()
    wait_until(lambda: not ours(), 5, "every powawidget thread to end")


# ---- failures -------------------------------------------------------------------------------


FAILURES = [
    ("fault_unauthorized", AuthenticationError, "unauthorized"),
    ("fault_credits", InsufficientCreditsError, "insufficient_credits"),
    ("fault_not_found", NotFoundError, "not_found"),
    ("fault_not_event_stream", StreamError, "not_event_stream"),
    ("fault_drop", StreamError, "stream_lost"),
    ("fault_error_event", RunFailedError, None),
    ("fault_failed_run", RunFailedError, None),
]


@pytest.mark.parametrize(("agent_id", "error_type", "code"), FAILURES)
def test_a_failed_run_raises_from_ask_and_shows_in_panel_and_handle(
    chat: Any, agent_id: str, error_type: type[PowabaseError], code: str | None
) -> None:
    widget, comm = chat(agent_id)
    with pytest.raises(error_type) as raised:
        widget.ask("hello", timeout=30)
    error = raised.value
    assert error.message and str(error)
    if code is not None:
        assert error.code == code
    # send() never raises for a failed run: the handle holds the error.
    handle = widget.send("hello again")
    assert handle.wait(30)
    assert isinstance(handle.error, error_type)
    assert handle.status == "failed"
    assert widget.status == "error" and widget.error == handle.error.message
    # The panel and the transcript show the failure; what arrived before it stays.
    shown = comm.panel_entries()[-1]
    assert shown["status"] == "failed" and shown["error"]["message"]
    rows = widget.transcript
    assert any(r["error_message"] for r in rows)


def test_server_error_messages_reach_the_raised_error(chat: Any) -> None:
    widget, _ = chat("fault_error_event")
    with pytest.raises(RunFailedError) as raised:
        widget.ask("hello", timeout=30)
    server_text = next(e for e in widget.events if e["event"] == "error")["error_message"]
    assert server_text and server_text in str(raised.value)


def test_a_bug_in_the_run_thread_surfaces_on_the_handle_not_as_a_lost_traceback(
    chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    widget, comm = chat()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(widget._chat.client, "stream_run", broken)
    handle = widget.send("hello")
    assert handle.wait(10)
    assert handle.error is not None and handle.error.code == "internal"
    assert "ZeroDivisionError" in handle.error.message
    assert "ZeroDivisionError" in comm.panel_entries()[-1]["error"]["message"]
    assert widget.status == "error"


# ---- approvals ------------------------------------------------------------------------------


def _wait_for_approval(widget: ChatWidget) -> RunHandle:
    handle = widget.send("Please issue a refund for order 1234")
    wait_until(lambda: widget.status == "waiting_approval" or handle.done, 30, "approval")
    assert widget.status == "waiting_approval", handle.events
    return handle


def test_approve_from_python_resumes_the_run(chat: Any) -> None:
    widget, _ = chat("agt_approval")
    handle = _wait_for_approval(widget)
    widget.approve(True)
    assert handle.wait(30) and handle.error is None
    # The decision is logged once the server accepted it, so the run may have sent the
    # tool's result first: either order folds to the same finished tool call.
    names = [e["event"] for e in widget.events]
    assert names.index("approval_requested") < names.index("approval_resolved")
    assert names.count("approval_resolved") == 1 and "tool_result" in names
    assert [c["status"] for c in widget.tool_calls] == ["done"]
    assert [r["status"] for r in widget.runs] == ["completed"]
    assert widget.status == "idle"


def test_deny_from_the_panel_calls_the_server_off_the_main_thread(chat: Any) -> None:
    widget, comm = chat("agt_approval")
    handle = _wait_for_approval(widget)
    from_panel(widget, {"type": "approve", "approved": False})
    assert handle.wait(30) and handle.error is None

    def resolved_events() -> list[dict[str, Any]]:
        return [e for e in handle.events if e["event"] == "approval_resolved"]

    # Logged once the server answered the click's thread: maybe after the run ended.
    resolved = wait_until(resolved_events, 10, "the logged decision")
    assert resolved[0]["arguments"]["approved"] is False
    wait_until(
        lambda: any(i.get("state") == "denied" for i in comm.panel_entries()[-1]["items"]),
        10,
        "the decision in the panel",
    )
    assert widget.tool_calls == [] or all(
        r["status"] != "done"
        for r in widget.tool_calls
        if r["tool_name"] == resolved[0].get("tool_name")
    )


def test_approve_with_nothing_waiting_is_refused(chat: Any) -> None:
    widget, _ = chat()
    with pytest.raises(RuntimeError, match="waiting for approval"):
        widget.approve(True)


# ---- sync -----------------------------------------------------------------------------------


def test_a_view_with_a_gap_asks_for_a_snapshot_and_gets_the_whole_log(chat: Any) -> None:
    widget, comm = chat()
    widget.ask("What is the refund policy?", timeout=30)
    patches = comm.custom("patch")
    assert len(patches) >= 2
    # A view that missed a patch sees a seq beyond the next and asks for a snapshot.
    from_panel(widget, {"type": "snapshot_request"})
    snapshot = comm.custom("snapshot")[-1]
    # Every entry as Python folded it, numbered so the next patch follows on.
    assert snapshot["entries"] == json.loads(json.dumps(entries(widget._chat.conversation)))
    assert snapshot["seq"] == patches[-1]["seq"]


def test_a_10000_chunk_run_travels_in_few_batched_messages(chat: Any) -> None:
    widget, comm = chat("fault_many_chunks")
    handle = widget.send("go")
    assert handle.wait(120) and handle.error is None
    patches = comm.custom("patch")
    assert len(widget.events) > 10_000
    assert len(patches) < len(widget.events) / 20
    # Never more than 60 a second: consecutive patches are ≥ 1/60 s apart on average.
    assert len(patches) <= 60 * max(handle.elapsed, 1.0) + 2
    assert comm.panel_entries()[0]["items"][-1]["text"] == handle.text
    # The finished answer is stored once: one turn, not 10,000 deltas.
    assert len(saved(widget)) == 1
    deltas = "".join(e["text"] for e in widget.events if e["event"] == "content_delta")
    assert handle.text == deltas


def test_the_api_key_appears_nowhere_outside_python(
    local_server: Any, chat: Any, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    key = local_server.api_key
    widget, comm = chat()
    widget.ask("What is the refund policy?", timeout=30)
    rejected, rejected_comm = chat("fault_unauthorized")
    with pytest.raises(PowabaseError) as raised:
        rejected.ask("hi", timeout=30)
    from_panel(widget, {"type": "snapshot_request"})
    failing, failing_comm = chat("fault_error_event")
    failing.send("hi").wait(30)
    saved = widget.save(tmp_path / "chat.jsonl")
    surfaces = [
        json.dumps(widget.get_state(), default=str),
        json.dumps(failing.get_state(), default=str),
        json.dumps(comm.messages),
        json.dumps(failing_comm.messages),
        json.dumps(rejected_comm.messages),
        json.dumps(list(rejected.transcript)),
        json.dumps(list(widget.transcript)),
        json.dumps(list(widget.messages) + list(widget.runs) + list(widget.tool_calls)),
        repr(widget),
        repr(widget.last_run),
        str(raised.value),
        repr(raised.value),
        str(failing.last_run.error),
        caplog.text,
        saved.read_text(),
        widget._repr_mimebundle_()[0]["text/html"],
    ]
    assert len(key) >= 8
    for surface in surfaces:
        assert key not in surface


# ---- views, save, replay, history -------------------------------------------------------------


def test_transcript_views_are_dataframe_ready(chat: Any) -> None:
    pd = pytest.importorskip("pandas")
    widget, _ = chat()
    widget.ask("What is the refund policy?", timeout=30)
    frame = pd.DataFrame(widget.transcript)
    assert len(frame) == len(widget.events)
    assert {"session_id", "run_id", "event", "text", "received_at"} <= set(frame.columns)
    assert list(pd.DataFrame(widget.runs)["status"]) == ["completed"]
    assert any(m["role"] == "user" for m in widget.messages)


def test_save_then_replay_plays_the_same_events_without_a_server(chat: Any, tmp_path: Any) -> None:
    widget, _ = chat()
    widget.ask("What is the refund policy?", timeout=30)
    path = widget.save(tmp_path / "chat.jsonl")
    replay = ChatWidget.replay(path, speed=0)
    comm = capture(replay)
    try:
        assert replay.wait(10) and replay.replay_done
        assert replay.mode == "replay"
        assert replay.events == widget.events
        assert saved(replay) and replay.status == "idle"
        assert replay.runs[0]["answer"] == widget.runs[0]["answer"]
        with pytest.raises(RuntimeError, match="replay"):
            replay.send("hello")
        from_panel(replay, {"type": "snapshot_request"})
        shown = comm.custom("snapshot")[-1]["entries"]
        assert shown == json.loads(json.dumps(entries(widget._chat.conversation)))
    finally:
        replay.close()


def _timed_events(gaps: list[float]) -> list[dict[str, Any]]:
    """A recorded run whose events arrived `gaps` seconds apart."""
    from powawidget.wire.events import format_timestamp, make_event

    t0 = 1_800_000_000.0
    at = [t0 + sum(gaps[:i]) for i in range(len(gaps) + 1)]
    events = [make_event("user_message", text="hi", received_at=format_timestamp(at[0]))]
    for i, when in enumerate(at[1:]):
        events.append(
            make_event(
                "content_delta",
                seq=i,
                text=f"w{i} ",
                text_mode="append",
                run_id="run_000000000001",
                received_at=format_timestamp(when),
            )
        )
    return events


def test_replay_keeps_the_original_timing_scaled_by_speed() -> None:
    events = _timed_events([0.2] * 5)  # 1.0 s recorded
    started = time.monotonic()
    widget = ChatWidget.replay(events, speed=2.0)
    try:
        assert widget.wait(10)
        took = time.monotonic() - started
        assert took >= 0.45  # 1.0 s at double speed, never faster
        assert took < 5.0
        assert [e["text"] for e in widget.events] == [e["text"] for e in events]
    finally:
        widget.close()


def test_replay_at_speed_zero_is_instant_and_long_pauses_are_capped() -> None:
    events = _timed_events([600.0, 0.1])  # a ten-minute pause in the recording
    started = time.monotonic()
    instant = ChatWidget.replay(events, speed=0)
    assert instant.wait(5) and time.monotonic() - started < 2.0
    instant.close()
    capped = ChatWidget.replay(events, speed=1.0, max_gap=0.2)
    assert capped.wait(5)
    capped.close()


def test_stopping_a_replay_keeps_what_played() -> None:
    widget = ChatWidget.replay(_timed_events([0.05] + [5.0] * 3), speed=1.0, max_gap=10)
    wait_until(lambda: len(widget.events) >= 2, 5, "the first events")
    widget.stop()
    assert widget.wait(5) and 2 <= len(widget.events) < 5
    widget.close()


def test_load_session_fills_the_panel_with_history_and_continues_it(
    chat: Any, local_server: Any
) -> None:
    first, _ = chat()
    first.ask("What is the refund policy?", timeout=30)
    first.ask("And for damaged items?", timeout=30)
    again, _ = chat(session_id=first.session_id)
    assert again.session_id == first.session_id
    # Each stored run (GET /api/sessions/{id}/runs): its user message as `history`, its
    # stored events, its end as `complete` (session/history.py).
    history = [e for e in again.events if e["event"] == "history"]
    assert [e["arguments"]["role"] for e in history] == ["user", "user"]
    assert [e["text"] for e in history] == ["What is the refund policy?", "And for damaged items?"]
    ends = [e for e in again.events if e["event"] == "complete"]
    assert [e["text"] for e in ends] == [run["answer"] for run in first.runs]
    # One turn per stored run, with its tool cards; the note says tools are included.
    kinds = [e["kind"] for e in saved(again)]  # saved with the notebook
    assert kinds == ["history-note", "turn", "turn"] and saved(again)[0]["tools"]
    assert saved(again)[0]["text"] == "Loaded from session history."
    assert [t["userText"] for t in saved(again)[1:]] == [
        "What is the refund policy?",
        "And for damaged items?",
    ]
    assert len(again.runs) == 2 and len(again.tool_calls) == len(first.tool_calls)
    again.ask("Thanks!", timeout=30)
    assert again.session_id == first.session_id
    assert len(again.runs) == 3


def test_the_display_bundle_has_the_widget_view_and_a_static_copy(chat: Any) -> None:
    widget, _ = chat()
    widget.ask("What is the refund policy?", timeout=30)
    data, _ = widget._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
    html = data["text/html"]
    assert "What is the refund policy?" in html
    assert "<script" not in html.lower()


def test_the_static_copy_says_which_turn_it_shows_and_hides_only_an_empty_widget_error(
    chat: Any,
) -> None:
    widget, _ = chat()
    assert "as of turn 0" in widget._static_html()
    widget.ask("What is the refund policy?", timeout=30)
    widget.ask("Thanks!", timeout=30)
    html = widget._static_html()
    assert "as of turn 2" in html
    style = html[: html.index("</style>")]
    # Only a widget output without element children (JupyterLab's "model not found" text)
    # right before the copy; a live panel always has children.
    assert ":has(+ .jp-OutputArea-child .powawidget-static)" in style
    assert ".jupyter-widgets:not(:has(*))" in style


def test_the_panels_session_picker_lists_sessions_and_loads_the_one_picked(chat: Any) -> None:
    first, _ = chat()
    first.ask("What is the refund policy?", timeout=30)
    widget, comm = chat()
    from_panel(widget, {"type": "sessions_request"})
    answer = wait_until(lambda: comm.custom("sessions"), what="the sessions")[-1]
    listed = {row["session_id"]: row for row in answer["sessions"]}
    assert listed[first.session_id]["first_message"] == "What is the refund policy?"
    assert not any(row["current"] for row in listed.values())  # a new conversation
    from_panel(widget, {"type": "load_session", "session_id": first.session_id})
    wait_until(lambda: widget.session_id == first.session_id, what="the loaded session")
    assert widget.runs[0]["question"] == "What is the refund policy?"
    from_panel(widget, {"type": "sessions_request"})
    answer = wait_until(lambda: comm.custom("sessions")[1:], what="the sessions again")[-1]
    assert [r["session_id"] for r in answer["sessions"] if r["current"]] == [first.session_id]
    from_panel(widget, {"type": "load_session", "session_id": "sess_000000000000"})
    wait_until(lambda: widget.error, what="the refusal")
    assert "No such session" in widget.error
