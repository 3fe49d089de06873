"""Bytes and messages a 10,000-event run costs over the widget's comm, against a naive peer.

Run: /work/venv/bin/python benchmarks/bench_sync.py

Streams `fault_many_chunks` (10,000 content deltas) from the local agent server into a
ChatWidget with no kernel, capturing every comm message at the comm boundary (`_send`).
Bytes = each message's JSON plus ~690 bytes of Jupyter envelope (measured, TESTING.md).
The naive peer re-assigns a growing list trait per event (what the issue warns against):
its cost is measured for the first 1,000 events, then computed exactly for all of them
from the same prefix sizes (serialising ~10 GB would take minutes).
Targets (issue 4): bytes ≤ 2 × the events' JSON size; ≤ 60 messages per second.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from powawidget.notebook.sync import EventSync, slim_event
from powawidget.notebook.widget import ChatWidget
from powawidget.server import start_local_server
from powawidget.wire.events import make_event

ENVELOPE = 690  # bytes of Jupyter message envelope around each comm message
NAIVE_MEASURED = 1_000


class Capture:
    """Comm messages with their JSON sizes and send times."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.times: list[float] = []
        self.kinds: list[str] = []

    def __call__(self, msg: dict[str, Any], buffers: Any = None) -> None:
        self.sizes.append(len(json.dumps(msg)))
        self.times.append(time.monotonic())
        self.kinds.append(msg.get("content", {}).get("type") or msg.get("method", "?"))

    @property
    def bytes(self) -> int:
        return sum(self.sizes) + ENVELOPE * len(self.sizes)


class NaiveChat(anywidget.AnyWidget):
    """The anti-pattern: the whole event list in one synced trait, re-assigned per event."""

    _esm = "export default { render() {} }"
    events = t.List().tag(sync=True)


def peak_rate(times: list[float], window: float = 1.0) -> int:
    """The most messages sent within any `window` seconds."""
    best, low = 0, 0
    for high, now in enumerate(times):
        while now - times[low] > window:
            low += 1
        best = max(best, high - low + 1)
    return best


def run_widget(server: Any) -> tuple[ChatWidget, Capture, float]:
    """Stream the 10,000-chunk run into a ChatWidget; returns it, its traffic, the run time."""
    widget = ChatWidget("fault_many_chunks", server.base_url, server.api_key)
    capture = Capture()
    widget._send = capture  # type: ignore[method-assign]
    started = time.monotonic()
    handle = widget.send("go")
    if not handle.wait(300) or handle.error is not None:
        sys.exit(f"the run failed: {handle.error}")
    return widget, capture, time.monotonic() - started


def naive_cost(slims: list[dict[str, Any]]) -> tuple[int, int, float]:
    """Bytes for the naive peer: measured on a prefix, computed exactly for the rest."""
    widget = NaiveChat()
    capture = Capture()
    widget._send = capture  # type: ignore[method-assign]
    started = time.monotonic()
    for slim in slims[:NAIVE_MEASURED]:
        widget.events = [*widget.events, slim]
    seconds = time.monotonic() - started
    measured = sum(capture.sizes)
    # An update message is {"method": "update", "state": {"events": [e0, e1, ...]}, ...}:
    # its size is a constant plus the list's, and the list grows by one item and ", ".
    base = len(json.dumps({"method": "update", "state": {"events": []}, "buffer_paths": []}))
    sizes = [len(json.dumps(s)) for s in slims]
    total, prefix = 0, 0
    for k, size in enumerate(sizes, start=1):
        prefix += size + (2 if k > 1 else 0)
        total += base + prefix
        if k == NAIVE_MEASURED:
            computed = total
    if computed != measured:
        print(f"note: naive formula {computed} B vs measured {measured} B on the prefix")
    widget.close()
    return total + ENVELOPE * len(slims), measured, seconds


def sustained_rate(seconds: float = 3.0, per_second: int = 2_000) -> tuple[int, int, int]:
    """Feed EventSync a paced stream (the local run above is over in well under 1 s).

    Returns (events, messages, most messages in any 1 s window).
    """
    times: list[float] = []
    sync = EventSync(lambda message: times.append(time.monotonic()))
    event = slim_event(make_event("content_delta", text="w ", text_mode="append"))
    started = time.monotonic()
    sent = 0
    while (now := time.monotonic()) - started < seconds:
        due = int((now - started) * per_second)
        while sent < due:
            sync.append(event)
            sent += 1
        time.sleep(0.001)
    sync.close()
    return sent, len(times), peak_rate(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = start_local_server(
            delay=0.0, db_path=str(Path(folder) / "bench.sqlite3"), faults=True
        )
        try:
            widget, capture, seconds = run_widget(server)
            widget.close()
        finally:
            server.stop()
    events = widget.events
    slims = [slim_event(e) for e in events]
    canonical_bytes = sum(len(json.dumps(e)) for e in events)
    slim_bytes = sum(len(json.dumps(s)) for s in slims)
    batch_times = [
        at for at, kind in zip(capture.times, capture.kinds, strict=True) if kind == "events"
    ]
    span = max(batch_times[-1] - batch_times[0], 1e-9) if len(batch_times) > 1 else seconds
    naive_bytes, naive_prefix, naive_prefix_s = naive_cost(slims)

    ratio = capture.bytes / slim_bytes
    average = len(batch_times) / span
    peak = peak_rate(batch_times)
    naive_rate = len(slims) / seconds
    print(f"run: {len(events):,} events in {seconds:.2f} s (local server, delay 0)")
    print(f"events JSON: {canonical_bytes:,} B canonical (with raw), {slim_bytes:,} B slim")
    print()
    print(f"{'':28}{'powawidget':>16}{'naive list trait':>20}")
    print(f"{'comm messages':28}{len(capture.sizes):>16,}{len(slims):>20,}")
    print(f"{'comm bytes (+690 B each)':28}{capture.bytes:>16,}{naive_bytes:>20,}")
    print(f"{'bytes / slim events JSON':28}{ratio:>16.2f}{naive_bytes / slim_bytes:>20.1f}")
    print(f"{'event batches / s (avg)':28}{average:>16.1f}{naive_rate:>20.0f}")
    print(f"{'batches in busiest 1 s':28}{peak:>16}{'':>20}")
    print(
        f"(naive: {NAIVE_MEASURED:,} events measured: {naive_prefix:,} B in "
        f"{naive_prefix_s:.2f} s; the total is computed from the same prefix sizes)"
    )
    paced, paced_messages, paced_peak = sustained_rate()
    print(
        f"sustained: {paced:,} events over 3 s at 2,000/s -> {paced_messages} messages, "
        f"busiest 1 s: {paced_peak} messages"
    )
    ok = ratio <= 2.0 and peak <= 60 and paced_peak <= 60
    print()
    rate = max(peak, paced_peak)
    print(f"targets: bytes ≤ 2.00 × events JSON: {ratio:.2f}; messages/s ≤ 60: {rate} -> ", end="")
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
