"""What the chat panel costs over the kernel's comm, side by side with its peers.

Run: .venv/bin/python benchmarks/bench_sync.py

Two measurements, each printed for powawidget and its peers in one run:

1. A live run of 10,000 content deltas (`fault_many_chunks` on the local agent server)
   streamed into a real `ChatWidget` with no kernel, every comm message captured at the
   comm boundary. Bytes count each message's JSON plus ~690 bytes of Jupyter envelope
   (TESTING.md). Peers: the 0.1 design (slim events in batches, re-created below for
   comparison) and the naive `HTML.value += token` widget (its bytes computed exactly: the
   whole value is re-sent per token). Goal: comm bytes ≤ 0.25 × the run's SSE bytes.
2. A 60-turn session (scripted runs with a tool call and a 40-word answer each): the comm
   bytes each turn costs (every widget's messages: the panel's patches, the saved entries'
   models and the `history` references), turns 51–60 against turns 1–10, with a view and
   with no view ever connected (nbclient, papermill). Peers: the design this replaced (no
   view: the kernel re-sent one `history` list of every entry after every run) and the 0.1
   design (its events, then the whole `history` re-sent). Goal: ≤ 1.5× both ways.

Messages per second are the busiest second's count (goal ≤ 30).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import comm

from powawidget.notebook.saved import saved_entry
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


class CommLog:
    """Every comm message of every widget (the panel, its saved entries), as JSON sizes."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.comms: list[str] = []  # the comm each message went through

    @property
    def bytes(self) -> int:
        return sum(self.sizes) + ENVELOPE * len(self.sizes)

    def bytes_of(self, comm_id: str) -> int:
        """What one widget's comm carried."""
        sent = [size for size, c in zip(self.sizes, self.comms, strict=True) if c == comm_id]
        return sum(sent) + ENVELOPE * len(sent)

    @contextlib.contextmanager
    def recording(self) -> Iterator[CommLog]:
        """Make every widget's comm (no kernel here) log what it would publish."""
        log = self

        class LoggingComm(comm.DummyComm):
            def publish_msg(self, msg_type: str, data: Any = None, *_: Any, **__: Any) -> None:
                log.sizes.append(len(json.dumps({"type": msg_type, "data": data}, default=str)))
                log.comms.append(self.comm_id)

        original = comm.create_comm
        comm.create_comm = LoggingComm
        try:
            yield self
        finally:
            comm.create_comm = original


def session_bytes(view: bool) -> tuple[list[int], list[int], list[int]]:
    """Per turn of a 60-turn session: (comm bytes, static-copy bytes, comm bytes had the
    kernel kept one `history` list trait instead), with or without a view.

    After each run the widget does what it does in a kernel when the run settles and the
    cell waiting for it returns (`_settle`, `_republish`). "No view" never asks for a
    snapshot, as under nbclient / papermill; "a view" asked once, as a rendered panel does.
    """
    log = CommLog()
    static: list[int] = []
    with log.recording(), mock.patch("powawidget.notebook.widget.in_kernel", lambda: True):
        widget = ChatWidget(_recording=[])
        if view:
            widget._sync.send_snapshot()
        ours: list[int] = []
        one_list: list[int] = []
        panel = widget.comm.comm_id
        for n in range(60):
            before, panel_before = log.bytes, log.bytes_of(panel)
            for event in turn_events(n):
                widget._chat.record(event)
            widget._settle()
            widget._republish()
            ours.append(log.bytes - before)
            static.append(len(widget._static_html()) + ENVELOPE)
            # The design this replaced: the panel's own messages plus the whole list of
            # saved entries re-sent as one trait after every run.
            whole = [saved_entry(e) for e in widget._sync.snapshot()]
            one_list.append(log.bytes_of(panel) - panel_before + len(json.dumps(whole)) + ENVELOPE)
        widget.close()
    return ours, static, one_list


def long_session() -> None:
    """Measurement 2: per-turn comm bytes over a 60-turn session, with and without a view."""
    legacy: list[int] = []
    log: list[dict[str, Any]] = []
    for n in range(60):
        # The 0.1 design: the run's slim events in batches, then `history` re-sent whole
        # (every event so far, deltas merged per run).
        events = turn_events(n)
        log.extend(slim(e) for e in events)
        merged = [e for e in log if e["event"] != "content_delta"]
        batch = sum(len(json.dumps(slim(e))) for e in events) + ENVELOPE
        legacy.append(batch + len(json.dumps(merged)) + ENVELOPE)
    live, static, _ = session_bytes(view=True)
    headless, _, one_list = session_bytes(view=False)
    columns = {"a view": live, "no view": headless, "one list": one_list, "0.1 design": legacy}
    print("2. A 60-turn session: comm bytes sent for ten turns (+690 B per message)")
    print(f"{'':30}" + "".join(f"{name:>14}" for name in columns))
    for label, part in (("turns 1-10", slice(0, 10)), ("turns 51-60", slice(50, 60))):
        print(f"{label:30}" + "".join(f"{sum(v[part]):>14,}" for v in columns.values()))
        per_turn = f"  per turn ({label[6:]})"
        print(f"{per_turn:30}" + "".join(f"{sum(v[part]) // 10:>14,}" for v in columns.values()))
    ratios = {name: sum(v[50:]) / sum(v[:10]) for name, v in columns.items()}
    print(f"{'51-60 / 1-10':30}" + "".join(f"{r:>14.2f}" for r in ratios.values()))
    for name in ("a view", "no view"):
        verdict = "PASS" if ratios[name] <= 1.5 else "FAIL"
        print(f"goal ≤ 1.5 ({name}): {ratios[name]:.2f} -> {verdict}")
    print(
        f"(not comm: the static HTML copy re-rendered per run, for exports: "
        f"{sum(static[:10]):,} B at turns 1-10, {sum(static[50:]):,} B at 51-60)"
    )


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
