"""ChatSession, the conversation behind the widget, on its own: no kernel, no widget.

Every test talks HTTP to the real local agent server; what a view would show is what the
session reported through its callbacks, recorded here in order.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from powawidget.outputs.transcript import Transcript
from powawidget.session.chat import ChatSession
from powawidget.session.run import RunInProgressError
from powawidget.wire.errors import RunFailedError
from powawidget.wire.events import make_event


class Watcher:
    """A view of a session: the events and state changes it was told about, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.changes: list[tuple[str, dict[str, Any]]] = []  # ("state" | "settle", changes)
        self.waited = 0
        self._lock = threading.Lock()

    def on_event(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)

    def on_state(self, **changes: Any) -> None:
        with self._lock:
            self.changes.append(("state", changes))

    def on_settle(self, **changes: Any) -> None:
        with self._lock:
            self.changes.append(("settle", changes))

    def on_waited(self) -> None:
        self.waited += 1

    def values(self, key: str) -> list[Any]:
        """Every value reported for `key`, in order."""
        with self._lock:
            return [c[key] for _, c in self.changes if key in c]

    def settles(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c for kind, c in self.changes if kind == "settle"]

    def state(self) -> dict[str, Any]:
        """What a view holds after applying every reported change."""
        with self._lock:
            merged: dict[str, Any] = {}
            for _, c in self.changes:
                merged.update(c)
            return merged


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)
    return value


@pytest.fixture
def session(client: Any) -> Iterator[Callable[..., tuple[ChatSession, Watcher]]]:
    """Make ChatSessions on the local server, each with a Watcher; closed afterwards."""
    made: list[ChatSession] = []

    def make(agent_id: str | None = "agt_demo", **kwargs: Any) -> tuple[ChatSession, Watcher]:
        watcher = Watcher()
        chat = ChatSession(
            client,
            agent_id,
            on_event=watcher.on_event,
            on_state=watcher.on_state,
            on_settle=watcher.on_settle,
            on_waited=watcher.on_waited,
            **kwargs,
        )
        made.append(chat)
        return chat, watcher

    yield make
    for chat in made:
        chat.close()


def test_the_module_needs_no_widget_library() -> None:
    code = (
        "import sys, powawidget.session.chat\n"
        "loaded = {'anywidget', 'traitlets', 'ipywidgets', 'IPython'} & set(sys.modules)\n"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_run_reports_every_event_in_order_and_settles_idle(session: Any) -> None:
    chat, watcher = session()
    handle = chat.send("What is the refund policy?")
    assert handle.wait(30) and handle.error is None
    assert watcher.events == chat.events == handle.events
    assert chat.events[0]["event"] == "user_message"
    statuses = watcher.values("status")
    assert statuses[0] == "connecting" and "streaming" in statuses
    assert statuses[-1] == chat.status == "idle"
    final = watcher.settles()[-1]
    assert final["error"] == "" and final["session_id"] == handle.session_id
    assert chat.session_id and chat.session_id.startswith("sess")
    assert watcher.waited == 1  # waited in the main thread: a view may republish
    assert len(chat) == len(chat.events)


def test_the_settled_state_is_what_a_view_shows(session: Any) -> None:
    chat, watcher = session()
    chat.send("hello").result(30)
    state = watcher.state()
    assert state["status"] == chat.status == "idle"
    assert state["session_id"] == chat.session_id
    assert state["agent_id"] == "agt_demo"


def test_no_agent_id_picks_the_first_listed_and_its_name(session: Any, client: Any) -> None:
    chat, watcher = session(None)
    first = client.list_agents()[0]
    assert chat.agent_id == first["id"]
    assert chat.agent_name == first.get("name") != first["id"]
    assert watcher.values("agent_id") == [first["id"]]


def test_the_agent_name_is_looked_up_in_the_background(session: Any, client: Any) -> None:
    chat, watcher = session("agt_demo")
    name = client.get_agent("agt_demo")["name"]
    wait_until(lambda: name in watcher.values("agent_name"), what="the agent's name")
    assert chat.agent_name == name
    assert watcher.values("agent_name")[0] == "agt_demo"  # the id stood in first


def test_sending_is_refused_while_a_run_streams_and_for_empty_text(session: Any) -> None:
    chat, _ = session("agt_long")
    with pytest.raises(ValueError, match="empty"):
        chat.send("   ")
    handle = chat.send("Tell me a long story")
    with pytest.raises(RunInProgressError, match="still streaming"):
        chat.send("another")
    with pytest.raises(RunInProgressError):
        chat.new_session()
    chat.stop()
    assert handle.wait(10)


def test_stop_settles_stopped_and_keeps_what_arrived(session: Any) -> None:
    chat, watcher = session("agt_long")
    handle = chat.send("Tell me a long story")
    wait_until(lambda: handle.text, what="some text")
    chat.stop()
    assert chat.wait(10)
    assert chat.events[-1]["event"] == "stopped"
    assert watcher.settles()[-1]["status"] == chat.status == "stopped"
    assert handle.text


def test_a_failed_run_settles_in_error_with_the_message(session: Any) -> None:
    chat, watcher = session("fault_failed_run")
    with pytest.raises(RunFailedError) as raised:
        chat.send("hi").result(30)
    final = watcher.settles()[-1]
    assert final["status"] == chat.status == "error"
    assert final["error"] == chat.error == raised.value.message != ""
    chat.error = ""  # a view cleared it; the next send reports it cleared anyway
    chat.send("again").wait(30)
    assert watcher.values("error")[-2] == ""
    assert watcher.values("error")[-1] == chat.error != raised.value.message  # another run


def test_approval_waits_then_resumes_when_approved(session: Any) -> None:
    chat, watcher = session("agt_approval")
    handle = chat.send("Please issue a refund for order 1234")
    wait_until(lambda: chat.status == "waiting_approval" or handle.done, 30, "approval")
    assert chat.status == "waiting_approval", handle.events
    chat.approve(True)
    assert handle.wait(30) and handle.error is None
    names = [e["event"] for e in chat.events]
    assert names.index("approval_requested") < names.index("approval_resolved")
    statuses = watcher.values("status")
    assert statuses.index("waiting_approval") < len(statuses) - 1
    assert statuses[-1] == "idle"


def test_approve_with_nothing_waiting_is_refused(session: Any) -> None:
    chat, _ = session()
    with pytest.raises(RuntimeError, match="waiting for approval"):
        chat.approve(True)


def test_approve_later_reports_a_failure_as_the_error(session: Any) -> None:
    chat, watcher = session()
    chat.approve_later(False)
    wait_until(lambda: watcher.values("error"), what="the error")
    assert "waiting for approval" in watcher.values("error")[-1]
    assert "waiting for approval" in chat.error


def test_new_session_forgets_the_session_and_the_next_run_opens_another(session: Any) -> None:
    chat, watcher = session()
    first = chat.send("hello").result(30) and chat.session_id
    chat.new_session()
    assert chat.session_id is None and chat.status == "idle"
    assert chat.events[-1] == {**chat.events[-1], "event": "new_session", "session_id": first}
    kind, changes = watcher.changes[-1]
    assert kind == "state" and changes["session_id"] is None
    assert (changes["error"], changes["status"]) == ("", "idle")
    chat.send("hello again").wait(30)
    assert chat.session_id and chat.session_id != first


def test_load_session_logs_its_history_and_continues_it(session: Any) -> None:
    chat, _ = session()
    chat.send("What is the refund policy?").wait(30)
    earlier = chat.session_id
    chat.new_session()
    chat.send("hello").wait(30)
    other, watcher = session()
    other.load_session(earlier)
    history = [e for e in other.events if e["event"] == "history"]
    assert history[0]["arguments"]["role"] == "user"
    assert history[0]["text"] == "What is the refund policy?"
    answers = [  # the stored run's complete (v2 /runs) or an assistant message (/messages)
        e
        for e in other.events
        if e["event"] == "complete"
        or (e["event"] == "history" and e["arguments"]["role"] == "assistant")
    ]
    assert answers and "refund" in answers[0]["text"].lower()
    assert watcher.settles()[-1]["session_id"] == earlier
    other.send("And for damaged items?").wait(30)
    assert other.session_id == earlier
    # Loading into a session that has events first marks the switch.
    chat.load_session(earlier)
    assert chat.session_id == earlier
    assert any(e["event"] == "new_session" for e in chat.events)


def test_retry_sends_the_last_user_message_again(session: Any) -> None:
    chat, _ = session()
    assert chat.retry() is None  # nothing to retry yet
    chat.send("What is the refund policy?").wait(30)
    handle = chat.retry()
    assert handle is not None and handle.wait(30)
    asked = [e["text"] for e in chat.events if e["event"] == "user_message"]
    assert asked == ["What is the refund policy?"] * 2


def test_events_recorded_directly_derive_the_session(session: Any) -> None:
    chat, watcher = session()
    chat.record(make_event("start", seq=0, run_id="run_x", session_id="sess_x"))
    assert chat.session_id == "sess_x" and watcher.events[-1]["run_id"] == "run_x"
    assert chat.status == "idle"  # no run of ours is streaming: the status stays


def test_a_replay_session_plays_without_a_server_and_cannot_send(session: Any) -> None:
    chat, _ = session()
    chat.send("What is the refund policy?").wait(30)
    watcher = Watcher()
    replay = ChatSession(on_event=watcher.on_event, on_state=watcher.on_state)
    assert replay.replay_done and not replay.replaying
    replay.play(chat.events, speed=0, max_gap=1)
    assert replay.replaying and replay.wait(10) and replay.replay_done
    assert replay.events == watcher.events == chat.events
    assert watcher.values("status") == ["streaming", "idle"]  # no on_settle: on_state
    assert replay.session_id == chat.session_id
    with pytest.raises(RuntimeError, match="replay"):
        replay.send("hi")
    with pytest.raises(RuntimeError, match="replay"):
        replay.new_session()


def test_the_session_log_makes_a_transcript(session: Any, tmp_path: Any) -> None:
    chat, _ = session()
    chat.send("What is the refund policy?").wait(30)
    transcript = Transcript(chat.events)
    assert [r["status"] for r in transcript.runs] == ["completed"]
    roles = [m["role"] for m in transcript.messages]
    assert roles[0] == "user" and roles[-1] == "assistant"
    assert len(transcript.rows) == len(chat.events)
    path = transcript.save(tmp_path / "chat.jsonl")
    assert len(path.read_text().splitlines()) == len(chat.events)


def test_close_closes_only_a_client_it_owns(client: Any, local_server: Any) -> None:
    from powawidget.wire.client import PowabaseClient

    ChatSession(client, "agt_demo").close()
    assert client.list_agents()  # not ours: still open
    owned = PowabaseClient(local_server.base_url, local_server.api_key)
    closed: list[bool] = []
    close = owned.close
    owned.close = lambda: closed.append(True) or close()  # type: ignore[method-assign]
    ChatSession(owned, "agt_demo", owns_client=True).close()
    assert closed == [True]


def _slow_to_close(client: Any, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Each real stream takes `seconds` to release its connection (a slow network's close)."""
    real = client.stream_run

    def stream_run(*args: Any, **kwargs: Any) -> Any:
        stream = real(*args, **kwargs)
        close = stream.close

        def slow_close() -> None:
            time.sleep(seconds)
            close()

        stream.close = slow_close
        return stream

    monkeypatch.setattr(client, "stream_run", stream_run)


def test_send_new_session_and_load_session_right_after_stop_wait_for_the_run_to_end(
    session: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_to_close(client, monkeypatch, 0.3)  # the stopped run needs a moment to end
    chat, watcher = session("agt_long")
    first = chat.send("Tell me a long story")
    wait_until(lambda: first.text, what="some text")
    chat.stop()
    second = chat.send("next")  # no RunInProgressError: the stopped run ended first
    assert first.done and first.status == "stopped"
    assert watcher.values("status")[-1] == "connecting"
    wait_until(lambda: second.text, what="the next run's text")
    chat.stop()
    chat.new_session()
    assert second.status == "stopped" and chat.session_id is None
    third = chat.send("and another")
    wait_until(lambda: third.session_id, what="the third run's session")
    chat.stop()
    chat.load_session(third.session_id)
    assert third.done and chat.session_id == third.session_id


def test_a_stopped_run_that_does_not_end_in_time_is_refused_with_a_fitting_message(
    session: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("powawidget.session.chat.STOP_GRACE", 0.1)
    _slow_to_close(client, monkeypatch, 1.0)
    chat, _ = session("agt_long")
    handle = chat.send("Tell me a long story")
    wait_until(lambda: handle.text, what="some text")
    chat.stop()
    with pytest.raises(RunInProgressError, match=r"you stopped .* try again") as refused:
        chat.send("next")
    assert "w.stop()" not in str(refused.value)  # never "stop it" after a stop
    assert handle.wait(10) and handle.status == "stopped"


def test_a_run_that_is_not_stopping_is_still_refused_at_once(session: Any) -> None:
    chat, _ = session("agt_long")
    handle = chat.send("Tell me a long story")
    started = time.monotonic()
    with pytest.raises(RunInProgressError, match="stop it"):
        chat.send("another")
    assert time.monotonic() - started < 2.0  # no grace wait (3 s) unless a stop was asked for
    chat.stop()
    assert handle.wait(10)


def _gated_approve(client: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """Make the real `client.approve` wait for a gate (an HTTP call with slow retries)."""
    entered, gate = threading.Event(), threading.Event()
    real = client.approve

    def approve(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert gate.wait(20), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "approve", approve)
    return entered, gate


def test_approve_does_not_block_the_log_while_the_server_is_called(
    session: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, _ = session("agt_approval")
    handle = chat.send("Please issue a refund for order 1234")
    wait_until(lambda: chat.status == "waiting_approval" or handle.done, 30, "approval")
    entered, gate = _gated_approve(client, monkeypatch)
    approving = threading.Thread(target=chat.approve, args=(True,))
    approving.start()
    try:
        assert entered.wait(10)
        reads: list[int] = []
        reader = threading.Thread(target=lambda: reads.append(len(chat.events)), daemon=True)
        reader.start()
        reader.join(5)
        assert reads, "the event log was locked during the approval's HTTP call"
        chat.record(make_event("stopped_typing", run_id=handle.run_id))  # a sink never blocks
        with pytest.raises(RuntimeError, match="already on its way"):
            chat.approve(False)
    finally:
        gate.set()
        approving.join(30)
    assert handle.wait(30) and handle.error is None and handle.status == "completed"
    assert [
        e["arguments"]["approved"] for e in chat.events if e["event"] == "approval_resolved"
    ] == [True]


def test_a_decision_logged_after_the_run_ended_settles_again_and_keeps_the_outcome(
    session: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, watcher = session("agt_approval")
    handle = chat.send("Please issue a refund for order 1234")
    wait_until(lambda: chat.status == "waiting_approval" or handle.done, 30, "approval")
    real = client.approve

    def approve_then_let_the_run_finish(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        assert handle._done.wait(30)  # the run ends before the decision is logged
        return answer

    monkeypatch.setattr(client, "approve", approve_then_let_the_run_finish)
    chat.approve(True)
    names = [e["event"] for e in chat.events]
    assert names[-1] == "approval_resolved" and "complete" in names
    assert chat.status == "idle" and watcher.values("status")[-1] == "idle"
    assert watcher.changes[-1][0] == "settle"  # a view re-saves with the decision
    assert [r["status"] for r in Transcript(chat.events).runs] == ["completed"]
    assert [c["status"] for c in Transcript(chat.events).tool_calls] == ["done"]
    assert handle.status == "completed"


def test_last_run_is_the_latest_handle(session: Any) -> None:
    chat, _ = session()
    assert chat.last_run is None
    handle = chat.send("hello")
    assert chat.last_run is handle
    handle.wait(30)
