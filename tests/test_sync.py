"""The append-only sync protocol: slim events, batching, rate limit, gap → snapshot."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from powawidget.events import make_event
from powawidget.sync import MAX_RESULT_CHARS, EventSync, compact, slim_event


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
        self.snapshot_requests = 0

    def receive(self, message: dict[str, Any]) -> None:
        if message["type"] == "snapshot":
            self.events = list(message["events"])
            return
        start, batch = message["start"], message["events"]
        if start > len(self.events):
            self.snapshot_requests += 1
            self.sync.send_snapshot()
            return
        self.events.extend(batch[len(self.events) - start :])


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
    view.receive(messages[3])  # the snapshot
    assert [e["text"] for e in view.events] == ["a", "b", "c"]
    sync.append(delta("d"))
    sync.flush()
    view.receive(messages[4])
    assert [e["text"] for e in view.events] == ["a", "b", "c", "d"]
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
        assert [e["text"] for e in view.events] == ["a", "b", "c"]
    # A batch that overlaps what a view already has adds only the new part.
    overlap = {"type": "events", "start": 1, "events": sync.events[1:]}
    late.receive(overlap)
    assert [e["text"] for e in late.events] == ["a", "b", "c"]
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
