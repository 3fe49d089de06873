"""What the chat panel costs over the kernel's comm, side by side with its peers.

Run: .venv/bin/python benchmarks/bench_sync.py

Two measurements, each printed for powawidget and its peers in one run:

1. A live run of 10,000 content deltas (`fault_many_chunks` on the local agent server)
   streamed into a real `ChatWidget` with no kernel, every comm message captured at the
   comm boundary. Bytes count each message's JSON plus ~690 bytes of Jupyter envelope
   (TESTING.md). Peers: the 0.1 design (slim events in batches, re-created below for
   comparison) and the naive `HTML.value += token` widget (its bytes computed exactly: the
   whole value is re-sent per token). Goal: comm bytes ≤ 0.25 × the run's SSE bytes.
2. A 60-turn session (scripted runs with a tool call and a 40-word answer each): the bytes
   each turn costs, turns 51–60 against turns 1–10. The 0.1 design re-sent the `history`
   trait whole after every run. Goal: ≤ 1.5×.

Messages per second are the busiest second's count (goal ≤ 30).
"""

from __future__ import annotations

import json
import time
from typing import Any

from powawidget.notebook.widget import ChatWidget
from powawidget.server import start_local_server
from powawidget.wire.client import PowabaseClient
from powawidget.wire.events import make_event

ENVELOPE = 690  # bytes of Jupyter message envelope around each comm message
BATCH_S = 1 / 30  # the 0.1 design's batch interval (the same as ours)


class Capture:
    """Comm messages with their JSON sizes and send times."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.times: list[float] = []

    def __call__(self, msg: dict[str, Any], buffers: Any = None) -> None:
        self.sizes.append(len(json.dumps(msg)))
        self.times.append(time.monotonic())

    @property
    def bytes(self) -> int:
        return sum(self.sizes) + ENVELOPE * len(self.sizes)


def peak_rate(times: list[float], window: float = 1.0) -> int:
    """Most messages sent within any `window` seconds."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def slim(event: dict[str, Any]) -> dict[str, Any]:
    """The 0.1 design's copy of an event for the panel: no raw, no None values."""
    return {k: v for k, v in event.items() if v is not None and k != "raw"}


def legacy_live_bytes(events: list[dict[str, Any]], seconds: float) -> tuple[int, int]:
    """(bytes, messages) of the 0.1 design: every event slimmed, one batch per 1/30 s."""
    batches = max(1, round(seconds / BATCH_S))
    payload = sum(len(json.dumps(slim(e))) + 2 for e in events)
    return payload + batches * (ENVELOPE + 40), batches


def naive_live_bytes(events: list[dict[str, Any]]) -> tuple[int, int]:
    """(bytes, messages) of `HTML.value += token`: the whole value re-sent per token."""
    total, length, messages = 0, 0, 0
    for event in events:
        if event["event"] == "content_delta":
            length += len(event["text"] or "")
            total += length + ENVELOPE + 60
            messages += 1
    return total, messages


def live_run(client: PowabaseClient) -> None:
    """Measurement 1: one 10,000-delta run."""
    widget = ChatWidget("fault_many_chunks", client=client)
    capture = Capture()
    widget._send = capture  # type: ignore[method-assign]
    started = time.monotonic()
    handle = widget.send("go")
    assert handle.wait(300) and handle.error is None
    seconds = time.monotonic() - started
    events = widget.events
    sse = sum(len(json.dumps(e["raw"])) + len("data: \n\n") for e in events if e["seq"] >= 0)
    legacy, legacy_messages = legacy_live_bytes(events, seconds)
    naive, naive_messages = naive_live_bytes(events)
    ours = capture.bytes
    print(f"1. A live run: {len(events):,} events, {sse:,} SSE bytes, {seconds:.2f} s")
    print(f"{'':30}{'powawidget':>14}{'0.1 design':>14}{'HTML += token':>16}")
    print(
        f"{'comm messages':30}{len(capture.sizes):>14,}{legacy_messages:>14,}{naive_messages:>16,}"
    )
    print(f"{'comm bytes (+690 B each)':30}{ours:>14,}{legacy:>14,}{naive:>16,}")
    print(
        f"{'comm bytes / SSE bytes':30}{ours / sse:>14.3f}{legacy / sse:>14.2f}{naive / sse:>16.1f}"
    )
    print(f"{'messages in busiest second':30}{peak_rate(capture.times):>14}")
    print(f"goal ≤ 0.25: {ours / sse:.3f} -> {'PASS' if ours <= 0.25 * sse else 'FAIL'}")
    widget.close()


def turn_events(n: int) -> list[dict[str, Any]]:
    """One scripted run: the question, a tool call and result, 40 words, complete."""
    run, words = f"run_{n:012d}", [f"word{i}" for i in range(40)]
    answer = " ".join(words)
    return [
        make_event("user_message", text=f"Question number {n}?", session_id="sess_000000000001"),
        make_event("start", seq=0, run_id=run, session_id="sess_000000000001"),
        make_event("tool_call", seq=1, run_id=run, session_id="sess_000000000001",
                   tool_name="search_catalog", call_id=f"call_{n}", arguments={"query": n}),
        make_event("tool_result", seq=2, run_id=run, session_id="sess_000000000001",
                   tool_name="search_catalog", call_id=f"call_{n}", result="3 products found"),
        *[make_event("content_delta", seq=3, run_id=run, session_id="sess_000000000001",
                     text=w + " ", text_mode="append") for w in words],
        make_event("complete", seq=4, run_id=run, session_id="sess_000000000001", text=answer,
                   text_mode="replace", status="completed",
                   usage={"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160}),
    ]  # fmt: skip


def long_session() -> None:
    """Measurement 2: per-turn bytes over a 60-turn session."""
    widget = ChatWidget(_recording=[])
    capture = Capture()
    widget._send = capture  # type: ignore[method-assign]
    ours: list[int] = []
    legacy: list[int] = []
    log: list[dict[str, Any]] = []
    for n in range(60):
        before = capture.bytes
        events = turn_events(n)
        for event in events:
            widget._emit(event)
        widget._sync.flush()
        ours.append(capture.bytes - before)
        # The 0.1 design: the run's slim events in batches, then `history` re-sent whole
        # (every event so far, deltas merged per run).
        log.extend(slim(e) for e in events)
        merged = [e for e in log if e["event"] != "content_delta"]
        batch = sum(len(json.dumps(slim(e))) for e in events) + ENVELOPE
        legacy.append(batch + len(json.dumps(merged)) + ENVELOPE)
    widget.close()
    early, late = sum(ours[:10]), sum(ours[50:])
    old_early, old_late = sum(legacy[:10]), sum(legacy[50:])
    print("2. A 60-turn session: bytes sent for ten turns")
    print(f"{'':30}{'powawidget':>14}{'0.1 design':>14}")
    print(f"{'turns 1-10':30}{early:>14,}{old_early:>14,}")
    print(f"{'turns 51-60':30}{late:>14,}{old_late:>14,}")
    print(f"{'51-60 / 1-10':30}{late / early:>14.2f}{old_late / old_early:>14.2f}")
    print(f"goal ≤ 1.5: {late / early:.2f} -> {'PASS' if late <= 1.5 * early else 'FAIL'}")


def main() -> None:
    server = start_local_server(delay=0.0, faults=True)
    client = PowabaseClient(server.base_url, server.api_key)
    try:
        live_run(client)
        print()
        long_session()
    finally:
        client.close()
        server.stop()


if __name__ == "__main__":
    main()
