"""The panel sync: a snapshot then numbered patches of the folded conversation, batched,
rate-limited, linear in a long session, and a view that follows them draws what Python has."""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

from panel_patches import apply_ops

from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.sync import PanelSync
from powawidget.wire.client import PowabaseClient
from powawidget.wire.events import make_event


class Recorder:
    """Collects the messages a PanelSync sends (JSON round-tripped, as the wire does)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(json.loads(json.dumps(message)))

    @property
    def bytes(self) -> int:
        return sum(len(json.dumps(m)) for m in self.messages)


class View:
    """What the front end does with the messages (js/src/model/entries.js), in Python."""

    def __init__(self, sync: PanelSync) -> None:
        self.sync = sync
        self.entries: list[dict[str, Any]] = []
        self.seq: int | None = None
        self.snapshot_requests = 0
        self.awaiting = False  # a snapshot was asked for: later gaps are in it anyway

    def receive(self, message: dict[str, Any]) -> None:
        message = copy.deepcopy(message)
        if message["type"] == "snapshot":
            self.entries, self.seq = message["entries"], message["seq"]
            self.awaiting = False
            return
        if self.seq is None or message["seq"] <= self.seq:
            return
        if message["seq"] > self.seq + 1:
            if not self.awaiting:
                self.awaiting = True
                self.snapshot_requests += 1
                self.sync.send_snapshot()
            return
        apply_ops(self.entries, message["ops"])
        self.seq = message["seq"]


class Session:
    """A conversation with its lock, as `ChatSession` owns them, feeding a PanelSync."""

    def __init__(self, **options: Any) -> None:
        self.conversation = Conversation()
        self.lock = threading.RLock()
        self.sent = Recorder()
        self.sync = PanelSync(self.conversation, self.lock, self.sent, **options)

    def record(self, *events: dict[str, Any]) -> None:
        for event in events:
            with self.lock:
                self.conversation.apply(event)
            self.sync.changed()


def delta(text: str, run_id: str = "run_1") -> dict[str, Any]:
    return make_event("content_delta", text=text, text_mode="append", run_id=run_id, seq=1)


def turn_events(n: int, answer: str = "An answer of a few words. " * 8) -> list[dict[str, Any]]:
    """One complete run: the question, a tool, deltas of the answer, complete."""
    run = f"run_{n:04d}"
    words = answer.split(" ")
    return [
        make_event("user_message", text=f"Question {n}?", session_id="sess_1"),
        make_event("start", seq=0, run_id=run, session_id="sess_1"),
        make_event("tool_call", seq=1, run_id=run, tool_name="lookup", call_id=f"c{n}",
                   arguments={"q": n}),
        make_event("tool_result", seq=2, run_id=run, tool_name="lookup", call_id=f"c{n}",
                   result="found it"),
        *[make_event("content_delta", seq=3, run_id=run, text=w + " ", text_mode="append")
          for w in words],
        make_event("complete", seq=4, run_id=run, text=answer, text_mode="replace",
                   status="completed", usage={"prompt_tokens": 10, "completion_tokens": 5}),
    ]  # fmt: skip


def test_a_view_following_the_patches_draws_exactly_what_python_folded(
    client: PowabaseClient,
) -> None:
    session = Session()
    view = View(session.sync)
    session.sync.send_snapshot()
    view.receive(session.sent.messages[-1])
    for question in ("What is the refund policy?", "Which plan for 40 people?"):
        session.record(make_event("user_message", text=question))
        with client.stream_run("agt_demo", question) as stream:
            for event in stream:
                session.record(event)
        session.sync.flush()
    for message in session.sent.messages[1:]:
        view.receive(message)
    assert view.snapshot_requests == 0
    assert view.entries == json.loads(json.dumps(entries(session.conversation)))
    assert [e["status"] for e in view.entries] == ["completed", "completed"]
    session.sync.close()


def test_deltas_in_one_batch_become_one_text_append_and_ids_are_sent_once() -> None:
    session = Session(min_interval=10.0)  # one batch after the first message
    session.record(make_event("user_message", text="hi"))
    session.record(make_event("start", seq=0, run_id="run_1", session_id="sess_1"))
    session.sync.flush()
    session.sent.messages.clear()
    session.record(*[delta(f"w{i} ") for i in range(1000)])
    session.sync.flush()
    [patch] = session.sent.messages
    assert patch["ops"] == [
        {"op": "text", "at": 0, "index": 0, "append": "".join(f"w{i} " for i in range(1000))}
    ] or [op["op"] for op in patch["ops"]] == ["item"]
    assert "run_1" not in json.dumps(patch) and "sess_1" not in json.dumps(patch)
    session.sync.close()


def test_a_live_run_sends_a_quarter_of_its_sse_bytes_or_less(client: PowabaseClient) -> None:
    """A run of 10,000 deltas: the comm carries the text, not an envelope per token."""
    session = Session()
    sse_bytes = 0
    session.record(make_event("user_message", text="hi"))
    with client.stream_run("fault_many_chunks", "hi") as stream:
        for event in stream:
            sse_bytes += len(json.dumps(event["raw"])) + len("data: \n\n")
            session.record(event)
    session.sync.close()
    assert sse_bytes > 300_000
    assert session.sent.bytes <= 0.25 * sse_bytes, (session.sent.bytes, sse_bytes)


def test_a_burst_is_coalesced_into_few_messages_at_a_bounded_rate() -> None:
    session = Session()
    session.record(make_event("user_message", text="hi"))
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < 0.5:
        session.record(delta("x"))
        count += 1
        time.sleep(0.0005)
    session.sync.close()
    elapsed = time.monotonic() - started
    assert count > 200
    # One patch per 1/30 s at most (plus the first and close()'s flush): never one per event.
    assert len(session.sent.messages) <= elapsed / session.sync.min_interval + 2


def test_a_lone_change_after_a_quiet_spell_goes_out_at_once() -> None:
    session = Session()
    session.record(make_event("user_message", text="first"))
    deadline = time.monotonic() + 2.0
    while not session.sent.messages and time.monotonic() < deadline:
        time.sleep(0.002)
    assert session.sent.messages[0]["ops"][0]["entry"]["userText"] == "first"
    session.sync.close()


def test_changes_keep_flowing_while_the_producer_pauses() -> None:
    session = Session()
    session.record(make_event("user_message", text="q"), delta("a"))
    session.record(delta("b"))  # within the interval: held back for the next patch
    time.sleep(0.5)  # the producer is quiet (a slow tool, say); nobody calls flush
    view = View(session.sync)
    view.seq = 0
    for message in session.sent.messages:
        view.receive(message)
    assert view.entries[0]["items"] == [{"kind": "text", "text": "ab"}]
    session.sync.close()


def test_the_flusher_thread_ends_when_idle_and_restarts_on_demand() -> None:
    session = Session(idle_exit=0.05)
    session.record(make_event("user_message", text="q"))
    deadline = time.monotonic() + 3.0
    while any(t.name == "powawidget-sync" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "flusher thread did not exit when idle"
        time.sleep(0.01)
    session.record(delta("b"))
    session.sync.close()
    assert len(session.sent.messages) == 2
    assert not any(t.name == "powawidget-sync" for t in threading.enumerate())


def test_a_view_that_misses_a_patch_asks_for_a_snapshot_and_catches_up() -> None:
    session = Session()
    view = View(session.sync)
    session.sync.send_snapshot()
    view.receive(session.sent.messages[0])
    session.record(*turn_events(1))
    session.sync.flush()
    session.record(*turn_events(2))
    session.sync.flush()
    session.record(*turn_events(3))
    session.sync.flush()
    _lost, *rest = session.sent.messages[1:]
    for message in rest:
        view.receive(message)
    assert view.snapshot_requests == 1
    view.receive(session.sent.messages[-1])  # the snapshot the gap asked for
    assert view.entries == json.loads(json.dumps(entries(session.conversation)))
    session.sync.close()


def test_a_failing_send_never_raises_into_the_producer() -> None:
    tried: list[str] = []

    def broken(message: dict[str, Any]) -> None:
        tried.append(message["type"])
        raise OSError("comm closed")

    conversation, lock = Conversation(), threading.RLock()
    sync = PanelSync(conversation, lock, broken)
    conversation.apply(make_event("user_message", text="q"))
    sync.changed()
    sync.flush()
    sync.send_snapshot()
    sync.close()
    assert tried == ["patch", "snapshot"]  # both tried, neither raised


def test_turns_late_in_a_long_session_cost_what_early_ones_do() -> None:
    """Per-turn bytes stay flat: turns 51–60 send ≤ 1.5× what turns 1–10 sent."""
    session = Session()
    per_turn: list[int] = []
    for n in range(60):
        before = session.sent.bytes
        session.record(*turn_events(n))
        session.sync.flush()
        per_turn.append(session.sent.bytes - before)
    early, late = sum(per_turn[:10]), sum(per_turn[50:])
    assert late <= 1.5 * early, (early, late)
    session.sync.close()
