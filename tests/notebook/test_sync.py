"""The append-only sync protocol: slim events, batching, rate limit, gap → snapshot."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from powawidget.notebook.sync import (
    HISTORY_MAX_CHARS,
    MAX_RESULT_CHARS,
    EventSync,
    compact,
    slim_event,
)
from powawidget.wire.client import PowabaseClient
from powawidget.wire.events import make_event


class Recorder:
    """Collects the messages an EventSync sends, with their send times."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        json.dumps(message)  # every message must be JSON-serialisable
        with self.lock:
            self.messages.append(message)
            self.times.append(time.monotonic())


class View:
    """What the front end does with the messages (design.md §7), to check the protocol."""

    def __init__(self, sync: EventSync) -> None:
        self.sync = sync
        self.events: list[dict[str, Any]] = []
        self.next = 0  # the log position reached: the `start` expected next
        self.snapshot_requests = 0

    def receive(self, message: dict[str, Any]) -> None:
        if message["type"] == "snapshot":
            self.events = list(message["events"])
            self.next = message["next"]
            return
        start, batch = message["start"], message["events"]
        if start > self.next:
            self.snapshot_requests += 1
            self.sync.send_snapshot()
            return
        fresh = batch[self.next - start :]
        self.events.extend(fresh)
        self.next += len(fresh)

    def text(self) -> str:
        """The answer as the panel shows it: the deltas' texts in order."""
        return "".join(e.get("text", "") for e in self.events)


def delta(text: str, run_id: str = "run_1", **fields: Any) -> dict[str, Any]:
    return make_event("content_delta", text=text, text_mode="append", run_id=run_id, **fields)


def test_slim_event_drops_raw_and_none_but_keeps_seq() -> None:
    event = make_event("chunk", seq=0, text="hi", text_mode="append", raw={"content": "hi"})
    slim = slim_event(event)
    assert "raw" not in slim
    assert None not in slim.values()
    assert slim["seq"] == 0 and slim["text"] == "hi" and slim["event"] == "chunk"


def test_slim_event_cuts_huge_results_and_marks_them() -> None:
    event = make_event("tool_result", result="x" * (MAX_RESULT_CHARS + 10))
    slim = slim_event(event)
    assert len(slim["result"]) == MAX_RESULT_CHARS
    assert slim["result_truncated"] is True
    assert "result_truncated" not in slim_event(make_event("tool_result", result="short"))


def test_compact_merges_consecutive_deltas_of_one_run_and_step() -> None:
    events = [
        slim_event(make_event("user_message", text="q")),
        *(slim_event(delta(c, step=1)) for c in "Hello"),
        slim_event(make_event("tool_call", tool_name="t", run_id="run_1")),
        *(slim_event(delta(c, step=2)) for c in "ab"),
        slim_event(delta("c", run_id="run_2", step=2)),
    ]
    merged = compact(events)
    assert [e["event"] for e in merged] == [
        "user_message",
        "content_delta",
        "tool_call",
        "content_delta",
        "content_delta",
    ]
    assert merged[1]["text"] == "Hello"
    assert merged[3]["text"] == "ab"
    assert merged[4]["text"] == "c"
    assert events[1]["text"] == "H"  # the input is not modified


def test_every_event_arrives_once_in_order_with_contiguous_starts() -> None:
    sent = Recorder()
    sync = EventSync(sent)
    for i in range(500):
        sync.append(delta(str(i)))
        if i % 50 == 0:
            time.sleep(0.01)
    sync.flush()
    starts = [m["start"] for m in sent.messages]
    sizes = [len(m["events"]) for m in sent.messages]
    assert starts == [sum(sizes[:k]) for k in range(len(sizes))]
    texts = [e["text"] for m in sent.messages for e in m["events"]]
    assert texts == [str(i) for i in range(500)]
    sync.close()


def test_a_burst_is_coalesced_into_few_messages_at_a_bounded_rate() -> None:
    sent = Recorder()
    sync = EventSync(sent)
    started = time.monotonic()
    while time.monotonic() - started < 0.5:
        sync.append(delta("x"))
        time.sleep(0.0005)
    sync.close()
    elapsed = time.monotonic() - started
    assert len(sync) > 200
    # One batch per 1/30 s at most (plus the first and close()'s flush): never one per event,
    # and well under 60 a second whatever the machine's load.
    assert len(sent.messages) <= elapsed / sync.min_interval + 2
    assert sum(len(m["events"]) for m in sent.messages) == len(sync)


def test_a_lone_event_after_a_quiet_spell_goes_out_at_once() -> None:
    sent = Recorder()
    sync = EventSync(sent)
    sync.append(delta("first"))
    deadline = time.monotonic() + 2.0
    while not sent.messages and time.monotonic() < deadline:
        time.sleep(0.002)
    assert sent.messages and sent.messages[0]["events"][0]["text"] == "first"
    sync.close()


def test_events_keep_flowing_while_the_producer_pauses() -> None:
    """A batch goes out while events arrive even when no further event comes to push it."""
    sent = Recorder()
    sync = EventSync(sent)
    sync.append(delta("a"))
    sync.append(delta("b"))  # within the interval: held back for the next batch
    time.sleep(0.5)  # the producer is quiet (a slow tool, say); nobody calls flush
    assert [e["text"] for m in sent.messages for e in m["events"]] == ["a", "b"]
    sync.close()


def test_the_flusher_thread_ends_when_idle_and_restarts_on_demand() -> None:
    sent = Recorder()
    sync = EventSync(sent, idle_exit=0.05)
    sync.append(delta("a"))
    deadline = time.monotonic() + 3.0
    while any(t.name == "powawidget-sync" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "flusher thread did not exit when idle"
        time.sleep(0.01)
    sync.append(delta("b"))
    sync.close()
    assert [e["text"] for m in sent.messages for e in m["events"]] == ["a", "b"]
    assert not any(t.name == "powawidget-sync" for t in threading.enumerate())


def test_a_view_that_misses_a_batch_asks_for_a_snapshot_and_catches_up() -> None:
    messages: list[dict[str, Any]] = []
    sync = EventSync(messages.append)
    view = View(sync)
    sync.append(delta("a"))
    sync.flush()
    sync.append(delta("b"))
    sync.flush()
    sync.append(delta("c"))
    sync.flush()
    view.receive(messages[0])
    # messages[1] is lost on the way
    view.receive(messages[2])
    assert view.snapshot_requests == 1
    view.receive(messages[3])  # the snapshot: compacted, so one merged event for three
    assert view.text() == "abc" and len(view.events) == 1 and view.next == 3
    sync.append(delta("d"))
    sync.flush()
    view.receive(messages[4])
    assert view.text() == "abcd" and view.snapshot_requests == 1
    sync.close()


def test_a_late_view_gets_the_whole_log_and_skips_overlapping_batches() -> None:
    messages: list[dict[str, Any]] = []
    sync = EventSync(messages.append)
    sync.extend([delta("a"), delta("b")])
    sync.flush()
    early = View(sync)
    early.receive(messages[0])
    late = View(sync)
    sync.send_snapshot()
    late.receive(messages[1])
    sync.append(delta("c"))
    sync.flush()
    early.receive(messages[1])  # a snapshot reaches every view: harmless
    for view in (early, late):
        view.receive(messages[2])
        assert view.text() == "abc" and view.next == 3
    # A batch that overlaps what a view already has adds only the new part.
    overlap = {"type": "events", "start": 1, "events": sync.events[1:]}
    late.receive(overlap)
    assert late.text() == "abc" and late.snapshot_requests == 0
    sync.close()


def test_a_failing_send_never_raises_into_the_producer() -> None:
    def broken(message: dict[str, Any]) -> None:
        raise OSError("comm closed")

    sync = EventSync(broken)
    sync.append(delta("a"))
    sync.flush()
    sync.send_snapshot()
    sync.close()
    assert len(sync) == 1


def test_history_cuts_long_tool_results_reasoning_and_errors_but_never_the_answer() -> None:
    long = "x" * 50_000
    events = [
        make_event("user_message", text="q" * 9_000, run_id="run_1"),
        make_event("reasoning_delta", text=long[:30_000], text_mode="append", run_id="run_1"),
        make_event("reasoning_delta", text=long[:30_000], text_mode="append", run_id="run_1"),
        make_event("tool_result", call_id="c1", tool_name="read_log", result=long, run_id="run_1"),
        *[delta("word " * 100) for _ in range(100)],  # a 50,000-char answer in 100 deltas
        make_event("error", error_message="e" * 20_000, run_id="run_1"),
    ]
    history = compact([slim_event(e) for e in events])
    by_name = {e["event"]: e for e in history}
    assert by_name["tool_result"]["result"] == long[:HISTORY_MAX_CHARS]
    assert by_name["tool_result"]["result_truncated"] is True
    # Deltas merge first, then the merged reasoning is cut.
    assert len(by_name["reasoning_delta"]["text"]) == HISTORY_MAX_CHARS
    assert by_name["reasoning_delta"]["text_truncated"] is True
    assert len(by_name["error"]["error_message"]) == HISTORY_MAX_CHARS
    assert by_name["error"]["error_message_truncated"] is True
    # The conversation's own words stay whole.
    assert by_name["content_delta"]["text"] == "word " * 100 * 100
    assert by_name["user_message"]["text"] == "q" * 9_000
    assert "text_truncated" not in by_name["content_delta"]
    # Without a bound (the snapshot) only merging happens.
    whole = compact([slim_event(e) for e in events], max_chars=None)
    assert next(e for e in whole if e["event"] == "tool_result")["result"] == long
    assert not any(k.endswith("_truncated") for e in whole for k in e)


def test_history_of_five_huge_tool_results_stays_a_few_kilobytes_each(
    client: PowabaseClient,
) -> None:
    sync = EventSync(lambda message: None)
    answers = []
    for n in range(5):
        sync.append(make_event("user_message", text=f"read the log {n}"))
        events = list(client.stream_run("fault_big_result", "read the log"))
        sync.extend(events)
        answers.append(next(e["text"] for e in events if e["event"] == "complete"))
    sync.close()
    log_bytes = len(json.dumps(sync.events))
    history = compact(sync.events)
    history_bytes = len(json.dumps(history))
    assert log_bytes > 5 * MAX_RESULT_CHARS  # each slim result is cut at 200,000 chars only
    results = [e for e in history if e["event"] == "tool_result"]
    assert len(results) == 5
    assert all(len(e["result"]) == HISTORY_MAX_CHARS and e["result_truncated"] for e in results)
    assert history_bytes < 5 * (HISTORY_MAX_CHARS + 4_000), (log_bytes, history_bytes)
    assert [e["text"] for e in history if e["event"] == "complete"] == answers


def test_a_snapshot_is_the_compacted_log_with_its_length_as_next(client: PowabaseClient) -> None:
    sent = Recorder()
    sync = EventSync(sent)
    for _ in range(3):
        sync.extend(client.stream_run("fault_many_chunks", "hi"))
    sync.flush()
    log = sync.events
    sent.messages.clear()
    sync.send_snapshot()
    [snapshot] = sent.messages
    assert set(snapshot) == {"type", "events", "next"}
    assert snapshot["type"] == "snapshot" and snapshot["next"] == len(log) > 30_000
    assert snapshot["events"] == compact(log, max_chars=None)
    assert len(snapshot["events"]) < 50
    assert len(json.dumps(snapshot)) * 10 < len(json.dumps(log))
    answer = "".join(f"w{i} " for i in range(10_000))
    merged = [e["text"] for e in snapshot["events"] if e["event"] == "content_delta"]
    assert merged == [answer] * 3
    # The next batch starts where the snapshot's `next` says, and a view follows on.
    view = View(sync)
    view.receive(snapshot)
    sync.append(delta("tail"))
    sync.flush()
    assert sent.messages[-1]["start"] == snapshot["next"]
    view.receive(sent.messages[-1])
    assert view.snapshot_requests == 0 and view.events[-1]["text"] == "tail"
    sync.close()
